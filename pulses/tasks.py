"""Pulse tasks: thin interfaces to pulses.services.waves and pulses.services.sending.

Deadlines live in the database and `run_pulse_schedule` (beat, every minute) acts on them; no
task is scheduled further ahead than a retry's back-off. Every task claims its work in the
database, so a message delivered twice (acks_late, a duplicate from the schedule) sends nothing
twice.
"""

from celery import shared_task
from django.db import transaction

from pulses.services import sending, waves

# Back-off between tries: 30 s, 1, 2, 4, 5, 5 min (with jitter), never more than a few minutes.
RETRY_OPTIONS = {
    "autoretry_for": sending.TRANSIENT_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": waves.MAX_SEND_ATTEMPTS - 1,
}


# Invitations per `send_invitations` task: one SMTP connection each, small enough that several
# workers share a wave and that a lost message delays few emails (the schedule re-queues them).
SEND_CHUNK = 50


def queue_invitations(invitation_ids: list[int]) -> None:
    """Queue invitations' emails in chunks of SEND_CHUNK once the current transaction commits."""
    for start in range(0, len(invitation_ids), SEND_CHUNK):
        chunk = list(invitation_ids[start : start + SEND_CHUNK])
        transaction.on_commit(lambda chunk=chunk: send_invitations.delay(chunk))


def queue_reminder(invitation_id: int, number: int) -> None:
    """Queue reminder `number` of an invitation once the current transaction commits."""
    transaction.on_commit(lambda: send_reminder.delay(invitation_id, number))


@shared_task(ignore_result=True)
def run_pulse_schedule():
    """Open due waves, queue their emails and the due reminders, close waves whose time is up."""
    run = waves.pulse_schedule_run()
    queue_invitations(list(run.invitations))
    for invitation_id, number in run.reminders:
        queue_reminder(invitation_id, number)


@shared_task(ignore_result=True, **RETRY_OPTIONS)
def send_invitation(invitation_id: int):
    sending.invitation_send(invitation_id=invitation_id)


@shared_task(ignore_result=True)
def send_invitations(invitation_ids: list[int]):
    """A chunk over one connection; an email that met a mail error retries on its own, with
    `send_invitation`'s back-off (it is back to pending, so the claim stays exactly-once)."""
    for invitation_id in sending.invitations_send(invitation_ids=invitation_ids):
        send_invitation.apply_async((invitation_id,), countdown=RETRY_OPTIONS["retry_backoff"])


@shared_task(ignore_result=True, **RETRY_OPTIONS)
def send_reminder(invitation_id: int, number: int):
    sending.reminder_send(invitation_id=invitation_id, number=number)


@shared_task(ignore_result=True)
def apply_response_retention():
    """Daily (beat): clear the free text of responses older than RESPONSE_RETENTION_DAYS.
    Idempotent: what was cleared is not touched again; 0 (the default) keeps everything."""
    from contacts.privacy import responses_apply_retention  # privacy reaches into every app

    responses_apply_retention()
