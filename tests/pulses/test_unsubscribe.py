"""Unsubscribing by the email's link: a page with one button, and RFC 8058 one-click."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from pulses.models import Unsubscribe, Wave
from pulses.services.responses import UNSUBSCRIBE_REASON, contact_unsubscribe
from tests.factories import ContactFactory
from tests.pulses.factories import InvitationFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def invitation(account):
    return InvitationFactory(contact=ContactFactory(account=account))


@pytest.fixture
def strict_client():
    """A client like a mail provider's: CSRF enforced, no cookies, no token."""
    return Client(enforce_csrf_checks=True)


def unsubscribe_url(invitation):
    return reverse("pulses:unsubscribe", args=[invitation.link_token()])


def consent(invitation):
    return Contact.objects.get(pk=invitation.contact_id).pulse_consent


def test_get_shows_one_button_and_changes_nothing(client, invitation):
    page = client.get(unsubscribe_url(invitation))
    content = page.content.decode()
    assert page.status_code == 200
    assert content.count('type="submit"') == 1
    assert ">Unsubscribe</button>" in content
    assert consent(invitation) == Contact.Consent.OPTED_IN
    assert not Unsubscribe.objects.exists()
    assert invitation.contact.history.count() == 1


def test_post_from_the_button_unsubscribes_and_says_so(client, invitation):
    posted = client.post(unsubscribe_url(invitation))
    assert posted.status_code == 302
    assert posted["Location"] == unsubscribe_url(invitation)
    assert "You are unsubscribed" in client.get(posted["Location"]).content.decode()
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.pulse_consent == Contact.Consent.OPTED_OUT
    assert contact.pulse_consent_at is not None
    assert Unsubscribe.objects.get().method == "link"


def test_the_button_needs_the_csrf_token(strict_client, invitation):
    assert strict_client.post(unsubscribe_url(invitation)).status_code == 403
    assert (
        strict_client.post(unsubscribe_url(invitation), {"List-Unsubscribe": "Yes"}).status_code
        == 403
    )
    assert (
        strict_client.post(
            unsubscribe_url(invitation), {"List-Unsubscribe": "One-Click", "extra": "1"}
        ).status_code
        == 403
    )
    assert consent(invitation) == Contact.Consent.OPTED_IN


def test_the_button_works_with_the_token_from_the_page(invitation):
    browser = Client(enforce_csrf_checks=True)
    browser.get(unsubscribe_url(invitation))
    token = browser.cookies["csrftoken"].value
    posted = browser.post(unsubscribe_url(invitation), {"csrfmiddlewaretoken": token})
    assert posted.status_code == 302
    assert consent(invitation) == Contact.Consent.OPTED_OUT


def test_one_click_post_works_without_csrf_or_cookies(strict_client, invitation):
    posted = strict_client.post(
        unsubscribe_url(invitation), ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )
    assert posted.status_code == 200
    assert "You are unsubscribed" in posted.content.decode()
    assert not posted.cookies
    assert consent(invitation) == Contact.Consent.OPTED_OUT
    assert Unsubscribe.objects.get().method == "one_click"


def test_one_click_post_as_multipart_works_too(strict_client, invitation):
    posted = strict_client.post(unsubscribe_url(invitation), {"List-Unsubscribe": "One-Click"})
    assert posted.status_code == 200
    assert consent(invitation) == Contact.Consent.OPTED_OUT


def test_unsubscribing_twice_changes_nothing_more(strict_client, invitation):
    for _ in range(2):
        strict_client.post(
            unsubscribe_url(invitation), ONE_CLICK, content_type="application/x-www-form-urlencoded"
        )
    assert Unsubscribe.objects.count() == 1
    assert invitation.contact.history.count() == 2
    assert contact_unsubscribe(invitation=invitation, method="link") is False
    assert Unsubscribe.objects.count() == 1


def test_unsubscribe_is_in_the_contacts_history(client, invitation):
    client.post(unsubscribe_url(invitation))
    latest = invitation.contact.history.first()
    assert latest.pulse_consent == Contact.Consent.OPTED_OUT
    assert latest.history_change_reason == UNSUBSCRIBE_REASON
    assert latest.history_user is None


def test_unsubscribe_still_works_after_the_wave_closed(strict_client, invitation):
    Wave.objects.filter(pk=invitation.wave_id).update(
        status=Wave.Status.CLOSED, closed_at=timezone.now()
    )
    strict_client.post(
        unsubscribe_url(invitation), ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )
    assert consent(invitation) == Contact.Consent.OPTED_OUT


def test_unknown_token_unsubscribes_nobody(strict_client, invitation):
    url = reverse("pulses:unsubscribe", args=["forged"])
    assert strict_client.get(url).status_code == 404
    assert (
        strict_client.post(
            url, ONE_CLICK, content_type="application/x-www-form-urlencoded"
        ).status_code
        == 404
    )
    assert consent(invitation) == Contact.Consent.OPTED_IN


def test_survey_page_links_to_unsubscribe(client, invitation):
    survey = client.get(reverse("pulses:survey", args=[invitation.link_token()])).content.decode()
    assert f'href="{unsubscribe_url(invitation)}"' in survey
