"""Close-the-loop tasks: thin interfaces to actions.services.

Deadlines (48 hours, the 24-hour reminder) live in the database; `sweep_acknowledgements`
(beat, every minute) acts on them and re-queues whatever a lost message or a dead worker left
behind. Every send claims its row first, so a message delivered twice sends nothing twice.
"""

from celery import shared_task
from django.utils import timezone

from actions.models import SummaryEmail
from actions.services import acknowledgement_emails, acknowledgements, outbox, summaries
from core.email import TRANSIENT_ERRORS

# Back-off between tries: 30 s, 1, 2, 4, 5, 5 min (with jitter).
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": outbox.MAX_SEND_ATTEMPTS - 1,
}


@shared_task(ignore_result=True)
def sweep_acknowledgements():
    """Plan due reminders and escalations, and queue every email that waits for a task."""
    now = timezone.now()
    for email_id in acknowledgements.acknowledgements_sweep(now=now):
        acknowledgements.queue_email(email_id)
    for email_id in outbox.take_to_queue(SummaryEmail, now):
        summaries.queue_summary_email(email_id)


@shared_task(ignore_result=True, **RETRY_OPTIONS)
def send_acknowledgement_email(email_id: int):
    acknowledgement_emails.acknowledgement_email_send(email_id=email_id)


@shared_task(ignore_result=True, **RETRY_OPTIONS)
def send_summary_email(email_id: int):
    summaries.summary_email_send(email_id=email_id)
