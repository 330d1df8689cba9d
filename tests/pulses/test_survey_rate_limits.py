"""The contact's pages are rate-limited per client address: 429 over the limit, others unaffected."""

import pytest
from django.urls import reverse

from pulses.views.survey import RATES
from tests.factories import ContactFactory
from tests.pulses.factories import InvitationFactory, form_data

pytestmark = pytest.mark.django_db

GET_LIMIT = int(RATES["GET"].split("/")[0])
POST_LIMIT = int(RATES["POST"].split("/")[0])


@pytest.fixture
def url(account):
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    return reverse("pulses:survey", args=[invitation.link_token()])


def test_too_many_page_views_from_one_address_get_a_429(client, url):
    for _ in range(GET_LIMIT):
        assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 200
    limited = client.get(url, REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert "Please wait a moment" in limited.content.decode()
    assert limited["Retry-After"] == "60"
    assert "no-store" in limited["Cache-Control"]
    assert client.get(url, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_guessing_tokens_is_limited_too(client):
    for n in range(GET_LIMIT):
        assert (
            client.get(
                reverse("pulses:survey", args=[f"guess{n}"]), REMOTE_ADDR="203.0.113.7"
            ).status_code
            == 404
        )
    assert (
        client.get(reverse("pulses:survey", args=["guess"]), REMOTE_ADDR="203.0.113.7").status_code
        == 429
    )


def test_too_many_submits_from_one_address_get_a_429(client, url):
    for _ in range(POST_LIMIT):
        assert client.post(url, form_data(), REMOTE_ADDR="203.0.113.7").status_code == 302
    assert client.post(url, form_data(), REMOTE_ADDR="203.0.113.7").status_code == 429
    assert client.post(url, form_data(), REMOTE_ADDR="198.51.100.9").status_code == 302


def test_unsubscribe_counts_towards_the_same_limit(client, account):
    invitation = InvitationFactory(contact=ContactFactory(account=account))
    url = reverse("pulses:unsubscribe", args=[invitation.link_token()])
    for _ in range(GET_LIMIT):
        client.get(url, REMOTE_ADDR="203.0.113.7")
    assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 429
