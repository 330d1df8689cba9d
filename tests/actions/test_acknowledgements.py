"""Every response acknowledged within 48 hours: the task, the receipt, the reply, the clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import Role
from actions.models import Acknowledgement, AcknowledgementEmail
from actions.services import acknowledgements as service
from actions.services.acknowledgement_emails import acknowledgement_email_send
from actions.services.acknowledgements import (
    AlreadyAcknowledged,
    acknowledgement_in_person,
    acknowledgement_reply,
    acknowledgements_sweep,
)
from actions.tasks import sweep_acknowledgements
from contacts.selectors import contact_story
from pulses.models import Response
from pulses.services.responses import response_record
from tests.actions.factories import answer
from tests.factories import ContactFactory, UserFactory
from tests.pulses.engine import eager_celery_fixture  # noqa: F401 - fixture
from tests.pulses.factories import WaveFactory, response_with_answers

pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Kind, Status = AcknowledgementEmail.Kind, AcknowledgementEmail.Status


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ana(account, teammate):
    # The teammate owns the relationship; the manager owns the account.
    return ContactFactory(
        account=account, name="Ana Alvarez", email="ana@northwind.example", owner=teammate
    )


@pytest.fixture
def arrive(eager_celery, django_capture_on_commit_callbacks):
    """A response arrives as in production: saved, then its receipt queued after the commit
    (and sent here, as a worker would)."""

    def arrive(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return answer(**kwargs)

    return arrive


def _send_due(now=None) -> list[AcknowledgementEmail]:
    """One beat tick: the sweep, then every email it hands out, as the worker would."""
    for email_id in acknowledgements_sweep(now=now):
        acknowledgement_email_send(email_id=email_id)
    return list(AcknowledgementEmail.objects.order_by("pk"))


def _by_kind() -> dict[str, list]:
    kinds: dict[str, list] = {}
    for message in mail.outbox:
        kind = message.extra_headers["Message-ID"].split("-")[2].split("@")[0]
        kinds.setdefault(kind, []).append(message)
    return kinds


# --- The task and the receipt -------------------------------------------------------------------


def test_a_response_by_link_gives_the_owner_a_task_due_in_48_hours(clock, ana, teammate):
    response = answer(contact=ana, score=8)

    acknowledgement = response.acknowledgement
    assert acknowledgement.owner == teammate
    assert acknowledgement.received_at == MONDAY_9AM
    assert acknowledgement.due_at == MONDAY_9AM + timedelta(hours=48)
    assert acknowledgement.status == Acknowledgement.Status.PENDING
    assert not acknowledgement.urgent
    [receipt] = acknowledgement.emails.all()
    assert (receipt.kind, receipt.status) == (Kind.RECEIPT, Status.PENDING)


def test_without_a_relationship_owner_the_account_owner_owes_it(account, manager):
    contact = ContactFactory(account=account, owner=None)
    assert answer(contact=contact).acknowledgement.owner == manager


def test_the_receipt_goes_out_when_the_answers_are_committed(
    ana, teammate, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(contact=ana)

    [receipt] = mail.outbox
    assert receipt.to == [f"Ana Alvarez <{ana.email}>"]
    assert receipt.from_email.startswith(
        f'"{teammate.full_name} via Rapport"'
    ) or receipt.from_email.startswith(f"{teammate.full_name} via Rapport")
    assert receipt.reply_to == [f"{teammate.full_name} <{teammate.email}>"]
    assert receipt.subject == "Thank you for your feedback, Ana"
    assert f"{teammate.full_name} will be in touch" in receipt.body
    headers = receipt.extra_headers
    assert headers["Message-ID"] == f"<ack-{response.acknowledgement.pk}-receipt@localhost>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert response.acknowledgement.emails.get().status == Status.SENT


def test_changing_the_answers_keeps_one_task_and_one_receipt_and_rechecks_urgency(ana):
    response = answer(contact=ana, score=8)
    assert not response.acknowledgement.urgent

    again = answer(contact=ana, wave=response.wave, score=5)  # back through the same link

    assert again.pk == response.pk
    assert Acknowledgement.objects.count() == 1
    assert AcknowledgementEmail.objects.count() == 1
    acknowledgement = Acknowledgement.objects.get()
    assert (acknowledgement.urgent, acknowledgement.urgent_reason) == (True, "score 5")


@pytest.mark.parametrize(("score", "urgent"), [(0, True), (6, True), (7, False), (10, False)])
def test_scores_of_six_or_less_are_urgent(ana, score, urgent):
    assert answer(contact=ana, score=score).acknowledgement.urgent is urgent


@pytest.mark.parametrize(
    ("before", "now", "reason"),
    [(9, 7, "fell from 9 to 7"), (10, 7, "fell from 10 to 7"), (8, 7, ""), (None, 7, "")],
)
def test_a_fall_of_two_or_more_since_their_previous_score_is_urgent(ana, before, now, reason):
    earlier = WaveFactory(opens_on=MONDAY_9AM.date() - timedelta(days=90), closed=True)
    if before is not None:
        response_with_answers(wave=earlier, contact=ana, answers={"relationship": before})
    acknowledgement = answer(contact=ana, score=now).acknowledgement
    assert (acknowledgement.urgent, acknowledgement.urgent_reason) == (bool(reason), reason)


def test_answers_recorded_by_staff_get_the_task_but_no_automatic_email(ana, manager):
    response = response_record(
        wave=WaveFactory(),
        contact=ana,
        recorded_by=manager,
        source=Response.Source.INTERVIEW,
        answers={"relationship": 9, "keep_doing": "Your people."},
    )
    receipt = response.acknowledgement.emails.get()
    assert receipt.status == Status.SKIPPED
    assert "interview" in receipt.last_error
    assert acknowledgements_sweep() == []


def test_imported_history_is_not_acknowledged(ana, manager):
    response = response_record(
        wave=WaveFactory(closed=True),
        contact=ana,
        recorded_by=manager,
        source=Response.Source.IMPORT,
        answers={"relationship": 3},
    )
    assert not Acknowledgement.objects.filter(response=response).exists()
    acknowledgements_sweep()
    assert not Acknowledgement.objects.exists()


def test_a_failing_acknowledgement_never_loses_the_answers_and_the_sweeper_catches_up(
    ana, monkeypatch, eager_celery, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "acknowledgement_open", broken)
    response = answer(contact=ana)
    assert Response.objects.filter(pk=response.pk).exists()
    assert not Acknowledgement.objects.exists()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        sweep_acknowledgements.delay()
    assert Acknowledgement.objects.get().response == response
    [receipt] = mail.outbox
    assert receipt.to == [f"Ana Alvarez <{ana.email}>"]


# --- The owner acknowledges ---------------------------------------------------------------------


def test_the_personal_reply_goes_out_under_the_writers_name_once(arrive, ana, teammate):
    acknowledgement = arrive(contact=ana).acknowledgement
    email = acknowledgement_reply(
        acknowledgement=acknowledgement,
        by=teammate,
        subject="Your feedback",
        body="Dear Ana,\n\nThank you — we are on the invoices.\n\nTariq",
    )
    assert acknowledgement_email_send(email_id=email.pk) is True
    assert acknowledgement_email_send(email_id=email.pk) is False  # delivered twice: sent once

    reply = _by_kind()["reply"]
    assert len(reply) == 1
    [message] = reply
    assert message.subject == "Your feedback"
    assert message.from_email.endswith("via Rapport <rapport@localhost>")
    assert teammate.full_name in message.from_email
    assert message.reply_to == [f"{teammate.full_name} <{teammate.email}>"]
    receipt_id = f"<ack-{acknowledgement.pk}-receipt@localhost>"
    assert message.extra_headers["In-Reply-To"] == receipt_id
    assert "Thank you — we are on the invoices." in message.body
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == Acknowledgement.Status.REPLIED
    assert acknowledgement.acknowledged_by == teammate
    assert acknowledgement.on_time is True


def test_a_second_reply_is_refused_and_nothing_more_is_sent(ana, teammate, manager):
    acknowledgement = answer(contact=ana).acknowledgement
    acknowledgement_reply(acknowledgement=acknowledgement, by=teammate, subject="A", body="B")
    stale_copy = Acknowledgement.objects.get(pk=acknowledgement.pk)
    stale_copy.status = Acknowledgement.Status.PENDING  # a second tab, a colleague at once

    with pytest.raises(AlreadyAcknowledged):
        acknowledgement_reply(acknowledgement=stale_copy, by=manager, subject="C", body="D")
    with pytest.raises(AlreadyAcknowledged):
        acknowledgement_in_person(
            acknowledgement=stale_copy, by=manager, method="call", note="Called."
        )
    assert acknowledgement.emails.filter(kind=Kind.REPLY).count() == 1
    assert Acknowledgement.objects.get().reply_subject == "A"


def test_a_reply_needs_words_and_an_address(ana, teammate):
    acknowledgement = answer(contact=ana).acknowledgement
    with pytest.raises(ValidationError):
        acknowledgement_reply(acknowledgement=acknowledgement, by=teammate, subject=" ", body="x")
    ana.email = ""
    with pytest.raises(ValidationError, match="acknowledge in person"):
        acknowledgement_reply(acknowledgement=acknowledgement, by=teammate, subject="s", body="b")
    assert Acknowledgement.objects.get().is_open


def test_acknowledged_in_person_counts_and_sends_nothing(ana, teammate):
    acknowledgement = answer(contact=ana).acknowledgement
    acknowledgement_in_person(
        acknowledgement=acknowledgement, by=teammate, method="meeting", note="Went through it."
    )
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == Acknowledgement.Status.IN_PERSON
    assert acknowledgement.method == "meeting"
    assert not acknowledgement.emails.filter(kind=Kind.REPLY).exists()


def test_replies_and_in_person_acknowledgements_are_on_the_relationship_story(
    ana, teammate, account
):
    first = answer(contact=ana).acknowledgement
    acknowledgement_reply(
        acknowledgement=first, by=teammate, subject="Thanks Ana", body="We hear you."
    )
    other = ContactFactory(account=account)
    second = answer(contact=other).acknowledgement
    acknowledgement_in_person(
        acknowledgement=second, by=teammate, method="call", note="Talked it through."
    )

    [reply] = [e for e in contact_story(contact=ana) if e.kind == "ack-reply"]
    assert (reply.title, reply.body, reply.actor) == (
        "Personal reply: Thanks Ana",
        "We hear you.",
        teammate.full_name,
    )
    [in_person] = [e for e in contact_story(contact=other) if e.kind == "ack-in-person"]
    assert in_person.body == "Talked it through."
    assert "acknowledged in a call" in in_person.title


# --- The clock: 24-hour reminder, 48-hour escalation --------------------------------------------


def test_the_owner_is_reminded_at_24_hours_and_it_is_escalated_at_48(
    clock, arrive, ana, teammate, manager, executive
):
    UserFactory(role=Role.EXECUTIVE, is_active=False)  # a former executive hears nothing
    acknowledgement = arrive(contact=ana, score=4).acknowledgement
    _send_due()
    assert list(_by_kind()) == ["receipt"]

    clock.move_to(MONDAY_9AM + timedelta(hours=23, minutes=59))
    _send_due()
    assert list(_by_kind()) == ["receipt"]

    clock.move_to(MONDAY_9AM + timedelta(hours=24))
    _send_due()
    [reminder] = _by_kind()["reminder"]
    assert reminder.to == [f"{teammate.full_name} <{teammate.email}>"]
    assert (
        reminder.subject
        == "Urgent: Ana Alvarez (Northwind Logistics) is waiting for your acknowledgement"
    )
    assert f"/acknowledgements/{acknowledgement.pk}/" in reminder.body

    clock.move_to(MONDAY_9AM + timedelta(hours=47))
    _send_due()
    assert len(mail.outbox) == 2

    clock.move_to(MONDAY_9AM + timedelta(hours=48))
    _send_due()
    [escalation] = _by_kind()["escalation"]
    assert escalation.to == [
        f"{manager.full_name} <{manager.email}>",
        f"{executive.full_name} <{executive.email}>",
    ]
    assert escalation.cc == [f"{teammate.full_name} <{teammate.email}>"]
    assert escalation.subject.startswith("Overdue: Ana Alvarez")

    clock.move_to(MONDAY_9AM + timedelta(days=5))
    _send_due()
    assert len(mail.outbox) == 3  # nothing is sent twice


def test_once_acknowledged_there_is_no_reminder_and_no_escalation(clock, arrive, ana, teammate):
    acknowledgement = arrive(contact=ana).acknowledgement
    clock.move_to(MONDAY_9AM + timedelta(hours=10))
    acknowledgement_in_person(
        acknowledgement=acknowledgement, by=teammate, method="call", note="Called her back."
    )
    for hours in (24, 48, 72):
        clock.move_to(MONDAY_9AM + timedelta(hours=hours))
        _send_due()
    assert list(_by_kind()) == ["receipt"]


def test_a_reminder_already_planned_is_not_sent_after_the_owner_replied(clock, ana, teammate):
    acknowledgement = answer(contact=ana).acknowledgement
    clock.move_to(MONDAY_9AM + timedelta(hours=25))
    ids = acknowledgements_sweep()  # queued, but the worker has not got to it yet
    acknowledgement_reply(acknowledgement=acknowledgement, by=teammate, subject="s", body="b")
    for email_id in ids:
        acknowledgement_email_send(email_id=email_id)

    reminder = acknowledgement.emails.get(kind=Kind.REMINDER)
    assert reminder.status == Status.SKIPPED
    assert "reminder" not in _by_kind()


def test_a_response_noticed_only_after_48_hours_is_escalated_without_a_reminder(clock, arrive, ana):
    arrive(contact=ana)
    clock.move_to(MONDAY_9AM + timedelta(hours=49))  # beat was down for two days
    _send_due()
    assert sorted(_by_kind()) == ["escalation", "receipt"]
