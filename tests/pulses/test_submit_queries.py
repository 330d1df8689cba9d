"""What one survey submit costs the database: a fixed number of queries, however it goes.

The survey is the spiky load (bench/survey_submit.py): a person's first submit and an edit each
run a fixed, small number of queries, including the work done once the transaction commits
(the change-map count is inside the transaction; the webhook check after it is a cache read).
"""

import pytest
from django.urls import reverse

from actions.models import AcknowledgementEmail
from changemaps.models import ChangeMapState
from core.services import webhooks
from pulses.models import Response
from tests.factories import ContactFactory
from tests.pulses.factories import InvitationFactory, WaveFactory, form_data

pytestmark = pytest.mark.django_db

# In a test, the request's transaction is a savepoint inside the test's own: the same count
# as BEGIN … COMMIT. First submit: the invitation (with its wave and its response, none yet);
# then the response, its answers, the previous score, the acknowledgement and its receipt (in
# their savepoint), the change-map count. Was 15: the frozen version's questions now come from
# a per-process cache, the wave is the one loaded with the invitation, a response known to be
# new is not looked up, and the webhook endpoints are remembered until one changes.
FIRST_SUBMIT = 11
# An edit that lowers the score looks up and locks the response, reads and updates the answers
# and updates the acknowledgement's urgency, instead of writing the acknowledgement and the
# receipt. Was 15: the questions, the wave and the webhook endpoints as above.
EDIT = 12


def _url(invitation):
    return reverse("pulses:survey", args=[invitation.link_token()])


def test_a_first_submit_and_an_edit_each_run_a_fixed_number_of_queries(
    client,
    account,
    manager,
    monkeypatch,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    # As with Redis, which web processes share: then the webhook endpoints are remembered.
    monkeypatch.setattr(webhooks, "_cache_is_shared", lambda: True)
    wave = WaveFactory()
    warm, person = (
        InvitationFactory(wave=wave, contact=ContactFactory(account=account), signer=manager)
        for _ in range(2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(warm), form_data())  # someone else answered first: maps are dirty
    assert ChangeMapState.objects.get().generation == 1

    with (
        django_assert_num_queries(FIRST_SUBMIT),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = client.post(_url(person), form_data())
    assert first.status_code == 302
    with django_assert_num_queries(EDIT), django_capture_on_commit_callbacks(execute=True):
        edit = client.post(_url(person), form_data(relationship=4))
    assert edit.status_code == 302

    response = Response.objects.get(contact=person.contact)
    assert response.score == 4
    assert response.acknowledgement.urgent  # recomputed on the edit
    assert AcknowledgementEmail.objects.filter(acknowledgement__response=response).count() == 1
    assert ChangeMapState.objects.get().generation == 3  # every submit counted


def test_a_submit_that_fails_counts_no_change(client, account, manager):
    wave = WaveFactory()
    invitation = InvitationFactory(
        wave=wave, contact=ContactFactory(account=account), signer=manager
    )
    ChangeMapState.objects.get_or_create(pk=ChangeMapState.SINGLETON)
    assert client.post(_url(invitation), form_data(relationship=11)).status_code == 200
    assert ChangeMapState.objects.get().generation == 0
    assert not Response.objects.exists()
