"""Response services: the contact's own answers, staff-recorded ones, and the mirror-back."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pulses.models import Answer, Invitation, Response, ResponseQuerySet, Wave
from pulses.services.responses import (
    WaveClosed,
    previous_feedback,
    response_record,
    response_saved_answers,
    response_submit,
)
from tests.factories import ContactFactory
from tests.pulses.factories import (
    GOOD_ANSWERS,
    InvitationFactory,
    WaveFactory,
    response_with_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(account):
    return InvitationFactory(contact=ContactFactory(account=account))


# --- response_submit ----------------------------------------------------------------------------


def test_submit_creates_one_response_with_one_answer_per_question(invitation):
    response = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    assert (response.wave, response.contact, response.invitation) == (
        invitation.wave,
        invitation.contact,
        invitation,
    )
    assert (response.source, response.recorded_by, response.score) == ("survey", None, 8)
    assert response_saved_answers(response=response) == GOOD_ANSWERS


def test_submitting_again_updates_the_same_response(invitation):
    first = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    changed = GOOD_ANSWERS | {"relationship": 2, "anything_else": "PS"}
    second = response_submit(invitation=invitation, answers=changed, language="en")
    assert second.pk == first.pk
    assert Response.objects.count() == 1
    assert second.score == 2
    assert second.submitted_at == first.submitted_at
    assert second.updated_at > first.updated_at
    assert response_saved_answers(response=second) == changed


def test_clearing_an_optional_answer_removes_it(invitation):
    response_submit(
        invitation=invitation, answers=GOOD_ANSWERS | {"anything_else": "PS"}, language="en"
    )
    response = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    assert "anything_else" not in response_saved_answers(response=response)
    assert Answer.objects.filter(response=response).count() == len(GOOD_ANSWERS)


def test_concurrent_first_submits_leave_one_response(invitation, monkeypatch):
    # Another request inserts the response between this request's lookup and its INSERT:
    # the INSERT hits the (wave, contact) constraint and the submit is retried as an update.
    rival = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    real_first = ResponseQuerySet.first
    lookups = []

    def first_missing_the_rival_once(queryset):
        lookups.append(queryset.model)
        if len(lookups) == 1:
            return None
        return real_first(queryset)

    monkeypatch.setattr(ResponseQuerySet, "first", first_missing_the_rival_once)
    response = response_submit(
        invitation=invitation, answers=GOOD_ANSWERS | {"relationship": 10}, language="en"
    )
    assert len(lookups) == 2
    assert response.pk == rival.pk
    assert Response.objects.get().score == 10


def test_submit_refuses_a_closed_wave_or_one_past_its_closing_time(invitation):
    Wave.objects.filter(pk=invitation.wave_id).update(
        closes_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(WaveClosed):
        response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    Wave.objects.filter(pk=invitation.wave_id).update(
        closes_at=timezone.now() + timedelta(days=1), status=Wave.Status.CLOSED
    )
    with pytest.raises(WaveClosed):
        response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({"relationship": 11}, "relationship"),
        ({"relationship": True}, "relationship"),
        ({"delivery": 0}, "delivery"),
        ({"improve": "x" * 5001}, "improve"),
        ({"improve": ""}, "improve"),
        ({"nonsense": "?"}, "nonsense"),
    ],
)
def test_submit_refuses_answers_that_do_not_fit(invitation, answers, key):
    with pytest.raises(ValidationError) as error:
        response_submit(invitation=invitation, answers=GOOD_ANSWERS | answers, language="en")
    assert key in error.value.message_dict
    assert not Response.objects.exists()


def test_markup_is_stored_exactly_as_typed(invitation):
    typed = "<script>alert(1)</script> & <b>bold</b>"
    response = response_submit(
        invitation=invitation, answers=GOOD_ANSWERS | {"improve": typed}, language="en"
    )
    assert Answer.objects.get(response=response, question__key="improve").text == typed


# --- response_record ----------------------------------------------------------------------------


def test_staff_record_belongs_to_the_contact_and_names_the_recorder(account, manager):
    contact = ContactFactory(account=account)
    wave = WaveFactory(closed=True)
    when = timezone.now() - timedelta(days=20)
    response = response_record(
        wave=wave,
        contact=contact,
        recorded_by=manager,
        source="interview",
        answers=GOOD_ANSWERS,
        submitted_at=when,
    )
    assert (response.contact, response.recorded_by, response.source) == (
        contact,
        manager,
        "interview",
    )
    assert response.submitted_at == when
    assert response.score == 8
    invitation = response.invitation
    assert (invitation.status, invitation.token_hash, invitation.contact) == (
        "skipped",
        None,
        contact,
    )


def test_staff_record_links_the_existing_invitation_and_stops_a_pending_one(account, manager):
    pending = InvitationFactory(
        contact=ContactFactory(account=account), status=Invitation.Status.PENDING
    )
    response = response_record(
        wave=pending.wave,
        contact=pending.contact,
        recorded_by=manager,
        source="call",
        answers={"relationship": 5},
    )
    pending.refresh_from_db()
    assert response.invitation == pending
    assert pending.status == Invitation.Status.SKIPPED
    assert Invitation.objects.count() == 1


def test_staff_record_after_the_contacts_own_answer_updates_it(invitation, manager):
    own = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    recorded = response_record(
        wave=invitation.wave,
        contact=invitation.contact,
        recorded_by=manager,
        source="workshop",
        answers=GOOD_ANSWERS | {"relationship": 9},
    )
    assert recorded.pk == own.pk
    assert (recorded.source, recorded.recorded_by, recorded.score) == ("workshop", manager, 9)
    assert recorded.submitted_at == own.submitted_at
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


def test_staff_record_may_leave_questions_out_but_not_be_empty_or_claim_a_link(account, manager):
    contact = ContactFactory(account=account)
    wave = WaveFactory()
    partial = response_record(
        wave=wave,
        contact=contact,
        recorded_by=manager,
        source="call",
        answers={"improve": "Call us more"},
    )
    assert partial.score is None
    with pytest.raises(ValidationError):
        response_record(wave=wave, contact=contact, recorded_by=manager, source="call", answers={})
    with pytest.raises(ValidationError):
        response_record(
            wave=wave, contact=contact, recorded_by=manager, source="survey", answers=GOOD_ANSWERS
        )
    with pytest.raises(ValidationError):
        response_record(
            wave=wave,
            contact=contact,
            recorded_by=manager,
            source="call",
            answers={"relationship": 12},
        )


# --- previous_feedback --------------------------------------------------------------------------


def test_previous_feedback_is_the_latest_earlier_improvement_quote_only(account):
    contact = ContactFactory(account=account)
    current = WaveFactory()
    older = WaveFactory(name="Old", opens_on=current.opens_on - timedelta(days=180), closed=True)
    recent = WaveFactory(name="Recent", opens_on=current.opens_on - timedelta(days=90), closed=True)
    response_with_answers(wave=older, contact=contact, answers={"improve": "Old wish"})
    response_with_answers(
        wave=recent, contact=contact, answers={"keep_doing": "Praise", "improve": "Recent wish"}
    )
    response_with_answers(wave=current, contact=contact, answers={"improve": "Current wish"})
    assert previous_feedback(contact=contact, before=current) == {
        "wave_name": "Recent",
        "opens_on": recent.opens_on,
        "quote": "Recent wish",
    }


def test_previous_feedback_skips_an_earlier_answer_without_a_suggestion(account):
    contact = ContactFactory(account=account)
    current = WaveFactory()
    older = WaveFactory(name="Old", opens_on=current.opens_on - timedelta(days=180), closed=True)
    recent = WaveFactory(name="Recent", opens_on=current.opens_on - timedelta(days=90), closed=True)
    response_with_answers(wave=older, contact=contact, answers={"improve": "Old wish"})
    response_with_answers(wave=recent, contact=contact, answers={"relationship": 9})
    assert previous_feedback(contact=contact, before=current)["quote"] == "Old wish"


def test_no_previous_feedback_for_a_first_pulse(account):
    assert previous_feedback(contact=ContactFactory(account=account), before=WaveFactory()) is None
