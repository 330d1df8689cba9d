"""Sending an `OutgoingEmail` row exactly once, whatever email it is.

`email_send` claims the row with a conditional UPDATE before sending, so of two workers handed
the same row (a duplicate message, a retry racing the sweeper, a second beat) exactly one
sends; the other finds nothing to claim. A claim older than STALE_CLAIM is taken over: its
worker died. `take_to_queue` is the sweeper's half: it marks as queued, again with a
conditional UPDATE per row, the rows that wait for a task, so two sweepers never both hand
out the same row.
"""

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from actions.models import OutgoingEmail
from core.email import TRANSIENT_ERRORS, error_text, is_bounce
from pulses.models import STALE_CLAIM

logger = logging.getLogger(__name__)
Status = OutgoingEmail.Status

# Tries before an email is marked failed (the first try and its retries).
MAX_SEND_ATTEMPTS = 7
# A row queued this long ago and still pending lost its task message: queue it again. Longer
# than the longest retry back-off, so a retry that is merely waiting is not doubled.
REQUEUE_AFTER = timedelta(minutes=15)


def _claim(model, email_id: int, now: datetime) -> bool:
    claimable = Q(status=Status.PENDING) | Q(
        status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    return (
        model.objects.filter(claimable, pk=email_id, attempts__lt=MAX_SEND_ATTEMPTS).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


def _finish(email: OutgoingEmail, our_claim, **fields) -> bool:
    """Move our claimed row on; False if someone took our claim over (we were too slow)."""
    moved = (
        type(email)
        .objects.filter(pk=email.pk, status=Status.SENDING, claimed_at=our_claim)
        .update(**fields)
    )
    if not moved:
        logger.warning("%s %s: our claim was taken over", type(email).__name__, email.pk)
    return bool(moved)


def _send_failed(email: OutgoingEmail, our_claim, error: Exception) -> bool:
    """Back to pending for the task's retry (raising `error`), or failed after the last try."""
    exhausted = email.attempts >= MAX_SEND_ATTEMPTS
    _finish(
        email,
        our_claim,
        status=Status.FAILED if exhausted else Status.PENDING,
        # Still taken in hand: the task's retry sends it, not the next sweep.
        queued_at=timezone.now(),
        last_error=error_text(error),
    )
    if exhausted:
        logger.warning(
            "%s %s failed after %d tries", type(email).__name__, email.pk, email.attempts
        )
        return False
    raise error


def email_send(
    *,
    model: type[OutgoingEmail],
    email_id: int,
    load: Callable[[int], OutgoingEmail],
    skip_reason: Callable[[OutgoingEmail], str],
    compose: Callable,
) -> bool:
    """Send one row's email, exactly once. Returns whether this call sent it.

    Claims the row (pending, or sending with a claim older than STALE_CLAIM) and then: marks it
    skipped when `skip_reason` says it is no longer wanted; failed when `compose` raises; sends
    it and marks it sent with its Message-ID. A permanent refusal marks it bounced; other mail
    errors put it back to pending and are raised for the task to retry, until
    MAX_SEND_ATTEMPTS marks it failed. Rows that are sent, skipped, failed or being sent by
    someone else are left alone.
    """
    now = timezone.now()
    if not _claim(model, email_id, now):
        return False
    email = load(email_id)
    reason = skip_reason(email)
    if reason:
        _finish(email, now, status=Status.SKIPPED, last_error=reason)
        return False
    try:
        message = compose(email)
    except Exception as error:
        logger.exception("%s %s: could not compose it", model.__name__, email.pk)
        _finish(email, now, status=Status.FAILED, last_error=error_text(error))
        return False
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not is_bounce(error):
            return _send_failed(email, now, error)
        _finish(email, now, status=Status.BOUNCED, last_error=error_text(error))
        return False
    except TRANSIENT_ERRORS as error:
        return _send_failed(email, now, error)
    _finish(
        email,
        now,
        status=Status.SENT,
        sent_at=timezone.now(),
        message_id=message.extra_headers["Message-ID"],
        last_error="",
    )
    return True


def queueable(now: datetime) -> Q:
    """Rows waiting for a task: pending and not taken in hand lately, or abandoned mid-send."""
    untouched = Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER)
    waiting = Q(status=Status.PENDING)
    abandoned = Q(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return untouched & (waiting | abandoned) & Q(attempts__lt=MAX_SEND_ATTEMPTS)


def take_to_queue(model: type[OutgoingEmail], now: datetime, limit: int = 500) -> list[int]:
    """Mark as queued, one conditional UPDATE each, the rows waiting for a task; their ids."""
    condition = queueable(now)
    taken = []
    for pk in model.objects.filter(condition).order_by("pk").values_list("pk", flat=True)[:limit]:
        if model.objects.filter(condition, pk=pk).update(queued_at=now):
            taken.append(pk)
    return taken


def queue_on_commit(task, model: type[OutgoingEmail], email_id: int) -> None:
    """Hand one row to `task` after the commit; if the broker is unreachable, mark it not
    queued so that the next sweep takes it at once."""
    from core.queueing import publish_on_commit

    def not_queued():
        model.objects.filter(pk=email_id, status=Status.PENDING).update(queued_at=None)

    publish_on_commit(task, email_id, on_failure=not_queued)
