"""The wave engine: who is invited, waves opened once, reminders on time, waves closed."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from contacts.models import BuyingRole, Contact
from pulses.models import Invitation, PulseProgramme, Response, Wave
from pulses.services import sending, waves
from tests.factories import AccountFactory, ContactFactory, SegmentFactory, UserFactory
from tests.pulses.engine import eager_celery_fixture, run_schedule_fixture  # noqa: F401
from tests.pulses.factories import InvitationFactory, PulseProgrammeFactory, WaveFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def programme(account):
    return PulseProgrammeFactory(name="Key accounts", accounts=[account])


def _invited(wave):
    return set(wave.invitations.values_list("contact__name", flat=True))


# --- Who is invited ---------------------------------------------------------------------------


def test_people_who_left_or_opted_out_are_never_invited(programme, account):
    ContactFactory(account=account, name="Ana Active")
    ContactFactory(account=account, name="Cai Changed", status=Contact.Status.CHANGED_ROLE)
    ContactFactory(account=account, name="Leo Left", status=Contact.Status.LEFT)
    ContactFactory(account=account, name="Otto Out", pulse_consent=Contact.Consent.OPTED_OUT)

    [wave] = waves.wave_open_due(today=timezone.localdate())

    assert _invited(wave) == {"Ana Active", "Cai Changed"}


def test_programme_roles_limit_who_is_invited(account):
    champion = BuyingRole.objects.get(code=BuyingRole.Code.CHAMPION)
    budget = BuyingRole.objects.get(code=BuyingRole.Code.BUDGET_HOLDER)
    user = BuyingRole.objects.get(code=BuyingRole.Code.USER)
    ContactFactory(account=account, name="Cleo Champion", roles=[champion, user])
    ContactFactory(account=account, name="Bo Budget", roles=[budget])
    ContactFactory(account=account, name="Uma User", roles=[user])
    ContactFactory(account=account, name="Nia Norole")
    programme = PulseProgrammeFactory(accounts=[account])
    programme.roles.set([champion, budget])

    assert {c.name for c in waves.programme_eligible_contacts(programme)} == {
        "Cleo Champion",
        "Bo Budget",
    }


def test_segment_programme_covers_every_account_of_the_segment(account):
    retail = SegmentFactory(name="Retail")
    in_segment = AccountFactory(segment=retail)
    also_in_segment = AccountFactory(segment=retail)
    elsewhere = AccountFactory()
    for acc, name in [(in_segment, "Ria"), (also_in_segment, "Sam"), (elsewhere, "Eli")]:
        ContactFactory(account=acc, name=name)
    ContactFactory(account=account, name="Named")
    programme = PulseProgrammeFactory(segment=retail, accounts=[account])

    assert {c.name for c in waves.programme_eligible_contacts(programme)} == {
        "Ria",
        "Sam",
        "Named",
    }


def test_segment_and_territory_together_mean_both(account):
    retail = SegmentFactory(name="Retail")
    here = AccountFactory(segment=retail)
    other_territory = AccountFactory(segment=retail)
    ContactFactory(account=here, name="Here")
    ContactFactory(account=other_territory, name="There")
    programme = PulseProgrammeFactory(segment=retail, territory=here.territory)

    assert [c.name for c in waves.programme_eligible_contacts(programme)] == ["Here"]


# --- Opening waves ----------------------------------------------------------------------------


def test_opening_a_wave_invites_everyone_once_and_moves_the_schedule_on(programme, account):
    ContactFactory.create_batch(3, account=account)
    with time_machine.travel(START, tick=False):
        programme.next_wave_on = date(2026, 11, 2)
        programme.save()

        [wave] = waves.wave_open_due(today=date(2026, 11, 2))
        again = waves.wave_open_due(today=date(2026, 11, 2))

    assert again == []
    assert wave.name == "November 2026 pulse – Key accounts"
    assert wave.opens_on == date(2026, 11, 2)
    assert wave.closes_at == START + timedelta(days=14)
    assert wave.questionnaire_version.is_frozen
    assert wave.invitations.count() == 3
    assert all(i.token_hash and i.token_nonce for i in wave.invitations.all())
    programme.refresh_from_db()
    assert programme.next_wave_on == date(2027, 2, 2)


def test_a_programme_not_due_yet_or_inactive_opens_nothing(account):
    ContactFactory(account=account)
    PulseProgrammeFactory(accounts=[account], next_wave_on=date(2026, 11, 3))
    PulseProgrammeFactory(accounts=[account], next_wave_on=date(2026, 11, 1), is_active=False)

    assert waves.wave_open_due(today=date(2026, 11, 2)) == []
    assert not Wave.objects.exists()


def test_a_late_engine_opens_one_wave_and_skips_the_missed_dates(programme, account):
    ContactFactory(account=account)
    programme.next_wave_on = date(2026, 1, 15)
    programme.cadence = PulseProgramme.Cadence.MONTHLY
    programme.save()

    opened = waves.wave_open_due(today=date(2026, 4, 20))

    assert [w.opens_on for w in opened] == [date(2026, 1, 15)]
    programme.refresh_from_db()
    assert programme.next_wave_on == date(2026, 5, 15)


def test_the_signer_is_the_relationship_owner_or_else_the_account_owner(
    programme, account, manager
):
    maya_teammate = UserFactory(full_name="Rui Relationship")
    gone = UserFactory(full_name="Gus Gone", is_active=False)
    owned = ContactFactory(account=account, owner=maya_teammate)
    orphan = ContactFactory(account=account, owner=None)
    owner_left = ContactFactory(account=account, owner=gone)

    [wave] = waves.wave_open_due(today=timezone.localdate())

    signers = {i.contact_id: i.signer for i in wave.invitations.all()}
    assert signers == {owned.pk: maya_teammate, orphan.pk: manager, owner_left.pk: manager}


def test_account_owner_signs_when_the_programme_says_so(account, manager):
    ContactFactory(account=account, owner=UserFactory())
    programme = PulseProgrammeFactory(
        accounts=[account], signer=PulseProgramme.Signer.ACCOUNT_OWNER
    )

    [wave] = waves.wave_open_due(today=timezone.localdate())

    assert wave.programme == programme
    assert [i.signer for i in wave.invitations.all()] == [manager]


def test_a_programme_without_questions_is_skipped_and_the_others_still_open(account):
    from pulses.models import Questionnaire

    ContactFactory(account=account)
    empty = Questionnaire.objects.create(name="Empty")
    PulseProgrammeFactory(accounts=[account], questionnaire=empty)
    good = PulseProgrammeFactory(accounts=[account])

    opened = waves.wave_open_due(today=timezone.localdate())

    assert [w.programme for w in opened] == [good]


# --- The schedule -----------------------------------------------------------------------------


def test_running_the_schedule_twice_sends_one_email_per_person(programme, account, run_schedule):
    ana = ContactFactory(account=account, name="Ana Active")
    ben = ContactFactory(account=account, name="Ben Buyer")

    run_schedule()
    run_schedule()

    wave = Wave.objects.get()
    assert wave.invitations.count() == 2
    assert set(wave.invitations.values_list("status", flat=True)) == {Invitation.Status.SENT}
    assert sorted(m.to[0].split("<")[1].rstrip(">") for m in mail.outbox) == sorted(
        [ana.email, ben.email]
    )


def test_sending_an_invitation_again_after_success_sends_nothing(programme, account, run_schedule):
    ContactFactory(account=account)
    run_schedule()
    invitation = Invitation.objects.get()

    from pulses.tasks import send_invitation

    send_invitation.delay(invitation.pk)
    assert sending.invitation_send(invitation_id=invitation.pk) is False

    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.attempts == 1


def test_queued_invitations_are_not_queued_again_each_minute(programme, account):
    ContactFactory.create_batch(2, account=account)
    waves.wave_open_due(today=timezone.localdate())

    first = waves.invitations_take_for_sending()
    second = waves.invitations_take_for_sending()

    assert len(first) == 2
    assert second == []
    # A task message lost in the broker: the invitation is queued again, later.
    later = timezone.now() + waves.REQUEUE_AFTER + timedelta(seconds=1)
    assert waves.invitations_take_for_sending(now=later) == first


def test_invitations_of_closed_waves_are_not_queued(account):
    wave = WaveFactory(closes_at=timezone.now() - timedelta(minutes=1))
    InvitationFactory(
        wave=wave, contact=ContactFactory(account=account), status="pending", sent_at=None
    )

    assert waves.invitations_to_send() == []


# --- Reminders --------------------------------------------------------------------------------


def test_reminders_go_after_4_and_9_days_but_not_to_respondents_or_opted_out(account, run_schedule):
    with time_machine.travel(START, tick=False):
        PulseProgrammeFactory(accounts=[account], reminder_days=[4, 9])
        quiet = ContactFactory(account=account, name="Quinn Quiet")
        answered = ContactFactory(account=account, name="Ava Answered")
        unsubscribed = ContactFactory(account=account, name="Uri Unsubscribed")
        run_schedule()
    assert len(mail.outbox) == 3
    wave = Wave.objects.get()
    Response.objects.create(wave=wave, contact=answered, score=9)
    Contact.objects.filter(pk=unsubscribed.pk).update(pulse_consent=Contact.Consent.OPTED_OUT)

    sent_on_day = {}
    for day in range(1, 16):
        with time_machine.travel(START + timedelta(days=day, minutes=5), tick=False):
            before = len(mail.outbox)
            run_schedule()
            run_schedule()
            sent_on_day[day] = mail.outbox[before:]

    assert {day: len(emails) for day, emails in sent_on_day.items() if emails} == {4: 1, 9: 1}
    first, second = sent_on_day[4][0], sent_on_day[9][0]
    assert first.to == second.to == [f"Quinn Quiet <{quiet.email}>"]
    assert first.subject.startswith("A quick reminder")
    assert second.subject.startswith("Last call")
    invitation = Invitation.objects.get(contact=quiet)
    assert invitation.reminders_sent == 2
    assert invitation.last_reminded_at == START + timedelta(days=9, minutes=5)
    # The same personal link as the invitation.
    assert invitation.get_survey_url() in first.body
    wave.refresh_from_db()
    assert wave.status == Wave.Status.CLOSED


def test_a_reminder_is_due_once_and_its_claim_is_taken_once(account):
    invitation = InvitationFactory(
        wave=WaveFactory(programme=PulseProgrammeFactory(accounts=[account])),
        contact=ContactFactory(account=account),
        status=Invitation.Status.SENT,
        sent_at=timezone.now() - timedelta(days=4, minutes=1),
    )

    assert waves.reminders_due() == [(invitation.pk, 1)]
    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is True
    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is False
    assert waves.reminders_due() == []
    assert len(mail.outbox) == 1


def test_a_reminder_whose_worker_died_is_sent_again_once(account):
    invitation = InvitationFactory(
        wave=WaveFactory(programme=PulseProgrammeFactory(accounts=[account])),
        contact=ContactFactory(account=account),
        status=Invitation.Status.SENT,
        sent_at=timezone.now() - timedelta(days=5),
        # Claimed reminder 1 eleven minutes ago and never recorded it as sent.
        reminders_sent=1,
        claimed_at=timezone.now() - timedelta(minutes=11),
    )

    assert waves.reminders_due() == [(invitation.pk, 1)]
    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is True
    assert sending.reminder_send(invitation_id=invitation.pk, number=1) is False
    assert waves.reminders_due() == []
    assert len(mail.outbox) == 1


# --- Closing ----------------------------------------------------------------------------------


def test_closing_a_wave_happens_once_and_skips_what_was_not_sent(account):
    wave = WaveFactory(closes_at=timezone.now() - timedelta(seconds=1))
    WaveFactory(closes_at=timezone.now() + timedelta(hours=1))
    waiting = InvitationFactory(
        wave=wave, contact=ContactFactory(account=account), status="pending", sent_at=None
    )

    assert list(waves.waves_to_close()) == [wave]
    assert waves.wave_close(wave=wave) is True
    assert waves.wave_close(wave=wave) is False

    wave.refresh_from_db()
    assert wave.status == Wave.Status.CLOSED
    assert wave.closed_at is not None
    waiting.refresh_from_db()
    assert waiting.status == Invitation.Status.SKIPPED
    assert list(waves.waves_to_close()) == []


# --- Concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedules_at_once_open_one_wave_and_send_one_email_each(manager):
    account = AccountFactory(owner=manager)
    people = ContactFactory.create_batch(5, account=account)
    PulseProgrammeFactory(accounts=[account])
    start = threading.Barrier(2)
    errors = []

    def beat_process():
        try:
            start.wait(timeout=10)
            run = waves.pulse_schedule_run()
            # Both also work through every invitation, as duplicate tasks would.
            for pk in {*run.invitations, *Invitation.objects.values_list("pk", flat=True)}:
                sending.invitation_send(invitation_id=pk)
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Wave.objects.count() == 1
    assert Invitation.objects.count() == len(people)
    assert len(mail.outbox) == len(people)
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == len(people)
