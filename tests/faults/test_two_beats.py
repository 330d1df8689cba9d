"""Two beat processes at once for ten minutes, with two workers, while waves open, people are
invited and reminded, answer, and their acknowledgements come due: no invitation, reminder or
acknowledgement email goes out twice (counted by Message-ID at a real SMTP server).

Both beats run the production scheduler with every entry due every 5 s instead of every
minute, so both hand out the same work about 120 times each; `RAPPORT_FAULTS_BEATS_SECONDS`
(default 600) sets how long. `make faults-beats` runs this on private PostgreSQL and Redis,
next to `make test` in CI.
"""

import os
import random
import time
from datetime import timedelta

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from actions.models import Acknowledgement, AcknowledgementEmail
from pulses.models import Invitation, PulseProgramme
from pulses.services.responses import response_submit
from tests.factories import AccountFactory, ContactFactory
from tests.faults.processes import (
    Sink,
    figure,
    output,
    start_beat,
    start_worker,
    stop,
    wait_for,
)
from tests.pulses.factories import GOOD_ANSWERS, PulseProgrammeFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ACCOUNTS = 10
PEOPLE_PER_ACCOUNT = 6
EmailStatus = AcknowledgementEmail.Status


def _programme_opens(account) -> PulseProgramme:
    """A programme due today: the next pulse-schedule tick opens its wave and invites."""
    return PulseProgrammeFactory(accounts=[account], reminder_days=[4, 9])


def _invitations_age(*, older_than: timedelta) -> int:
    """Invitations sent a while ago are moved ten days back: both reminders come due."""
    return Invitation.objects.filter(
        status=Invitation.Status.SENT,
        sent_at__lte=timezone.now() - older_than,
        sent_at__gt=timezone.now() - timedelta(days=1),
    ).update(sent_at=F("sent_at") - timedelta(days=10))


def _someone_answers(rng: random.Random) -> bool:
    waiting = list(
        Invitation.objects.filter(status=Invitation.Status.SENT, response__isnull=True)
        # Half the people never answer: they get both reminders.
        .annotate(odd=F("contact_id") % 2)
        .filter(odd=0)
        .select_related("wave", "contact")
        .order_by("pk")[:50]
    )
    if not waiting:
        return False
    response_submit(
        invitation=rng.choice(waiting),
        answers=GOOD_ANSWERS | {"relationship": rng.randint(3, 10)},
        language="en",
    )
    return True


def _acknowledgements_age(rng: random.Random) -> None:
    """Open acknowledgements grow old: a day (the owner's reminder) or two (escalation)."""
    fresh = Acknowledgement.objects.open().filter(
        received_at__gt=timezone.now() - timedelta(hours=1)
    )
    for acknowledgement in fresh:
        hours = rng.choice([0, 25, 49])
        if hours == 25:
            Acknowledgement.objects.filter(pk=acknowledgement.pk).update(
                received_at=F("received_at") - timedelta(hours=25)
            )
        elif hours == 49:
            Acknowledgement.objects.filter(pk=acknowledgement.pk).update(
                received_at=F("received_at") - timedelta(hours=49),
                due_at=F("due_at") - timedelta(hours=49),
            )


def _settled() -> bool:
    busy_invitations = Invitation.objects.filter(
        status__in=[Invitation.Status.PENDING, Invitation.Status.SENDING]
    ).exists()
    busy_emails = AcknowledgementEmail.objects.filter(
        status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
    ).exists()
    return not busy_invitations and not busy_emails


def test_two_beats_for_ten_minutes_send_nothing_twice():
    seconds = int(os.environ.get("RAPPORT_FAULTS_BEATS_SECONDS", "600"))
    rng = random.Random(9)
    accounts = [AccountFactory() for _ in range(ACCOUNTS)]
    for account in accounts:
        ContactFactory.create_batch(PEOPLE_PER_ACCOUNT, account=account)
    processes = []
    with Sink() as sink:
        mail = {"EMAIL_URL": sink.url}
        try:
            processes += [start_worker(f"faults-beats-w{n}", **mail) for n in (1, 2)]
            beats = [start_beat(f"faults-beat-{n}", every=5, **mail) for n in (1, 2)]
            processes += beats
            started = time.monotonic()
            programmes = answers = 0
            next_programme = next_answer = next_ageing = started
            while time.monotonic() - started < seconds:
                now = time.monotonic()
                if now >= next_programme:  # a new wave every minute
                    _programme_opens(accounts[programmes % ACCOUNTS])
                    programmes += 1
                    next_programme += 60
                if now >= next_answer:  # an answer every 4 s
                    answers += _someone_answers(rng)
                    next_answer += 4
                if now >= next_ageing:  # time flies for invitations and acknowledgements
                    _invitations_age(older_than=timedelta(seconds=20))
                    _acknowledgements_age(rng)
                    next_ageing += 15
                for process in processes:
                    assert process.poll() is None, output(process)[-5000:]
                time.sleep(0.5)
            figure("two beats: seconds", seconds)
            figure("two beats: programmes opened, answers given", (programmes, answers))
            wait_for(_settled, "every email sent", timeout=180)
            time.sleep(10)  # two more ticks of each beat: still nothing more
        finally:
            outputs = stop(*processes)

    ticks = [outputs[beat.pid].count("Sending due task") for beat in beats]
    figure("two beats: due tasks sent by each beat", ticks)
    assert min(ticks) > 0
    copies = sink.copies_by_message_id()
    duplicates = {message_id: n for message_id, n in copies.items() if n > 1}
    invitations = Invitation.objects.filter(status=Invitation.Status.SENT)
    reminders = invitations.aggregate(n=Sum("reminders_sent"))["n"] or 0
    emails = AcknowledgementEmail.objects.filter(status=EmailStatus.SENT)
    kinds = {kind: emails.filter(kind=kind).count() for kind in AcknowledgementEmail.Kind.values}
    figure("two beats: invitations sent", invitations.count())
    figure("two beats: invitation reminders sent", reminders)
    figure("two beats: acknowledgement emails sent by kind", kinds)
    figure("two beats: messages at the sink", sum(copies.values()))
    figure("two beats: Message-IDs received more than once", len(duplicates))
    assert duplicates == {}
    # Every email the database records as sent arrived once, and nothing else arrived.
    assert invitations.count() > 0
    assert reminders > 0
    assert kinds["receipt"] > 0
    assert kinds["escalation"] > 0
    expected = set(emails.values_list("message_id", flat=True))
    pulse_ids = {m for m in copies if m.startswith("<pulse-")}
    assert set(copies) - pulse_ids == expected
    assert len(pulse_ids) == invitations.count() + reminders
