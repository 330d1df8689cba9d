"""Every response acknowledged within 48 hours, and exactly one automatic receipt.

`acknowledgement_open` runs inside the transaction that saves a response: the acknowledgement
task and its receipt email are rows committed together with the response, and the receipt is
handed to Celery only after the commit. If the broker is down at that moment, the response is
still saved, the request still answers quickly, and `acknowledgements_sweep` (beat, every
minute) queues the receipt once the broker is back. The sweeper also creates the 24-hour
reminder and the 48-hour escalation as rows (unique per acknowledgement and kind, so two beats
create one) and re-queues any email whose task was lost or whose worker died mid-send.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from actions.models import (
    ACKNOWLEDGE_WITHIN,
    REMIND_AFTER,
    Acknowledgement,
    AcknowledgementEmail,
)
from actions.services import outbox
from core.services.webhooks import on_commit_publish
from pulses.models import Response

logger = logging.getLogger(__name__)

# The sweeper gives responses saved this recently without an acknowledgement their task.
BACKFILL_WINDOW = timedelta(days=2)


class AlreadyAcknowledged(Exception):  # noqa: N818 - reads as what happened
    """Someone acknowledged this response already; nothing more is sent."""


def previous_score(*, response: Response) -> int | None:
    """The person's score in their latest earlier answered wave, or None."""
    scores = (
        Response.objects.filter(
            contact_id=response.contact_id,
            score__isnull=False,
            wave__opens_on__lt=response.wave.opens_on,
        )
        .exclude(pk=response.pk)
        .order_by("-wave__opens_on", "-submitted_at")
        .values_list("score", flat=True)
    )
    return next(iter(scores[:1]), None)


def acknowledgement_open(*, response: Response) -> Acknowledgement | None:
    """Give a new or changed response its acknowledgement task and its receipt.

    Call inside the transaction that saves the response. Creates, once per response, the
    Acknowledgement (owner: the person's relationship owner, else the account's; due
    ACKNOWLEDGE_WITHIN after now) and its receipt email row, and queues the receipt after the
    commit. Responses given by link get a receipt; answers recorded by staff get the task but
    no automatic email (the person told us in person). Imported history gets nothing (None).
    Again on an edit: keeps the task and recomputes the urgent flag (score <= 6, or a fall of
    2 or more since the person's previous score).
    """
    if response.source == Response.Source.IMPORT:
        return None
    before = previous_score(response=response)
    try:
        # Free when the caller loaded it with the response (or knows there is none yet).
        existing = response.acknowledgement
    except Acknowledgement.DoesNotExist:
        existing = None
    if existing is not None:
        flags = existing.urgent, existing.urgent_reason
        existing.set_urgency(score=response.score, previous_score=before)
        if (existing.urgent, existing.urgent_reason) != flags:
            existing.save(update_fields=["urgent", "urgent_reason"])
        return existing

    now = timezone.now()
    contact = response.contact
    account = contact.account
    acknowledgement = Acknowledgement(
        response=response,
        account=account,
        contact=contact,
        owner_id=contact.owner_id or account.owner_id,
        received_at=now,
        due_at=now + ACKNOWLEDGE_WITHIN,
    )
    acknowledgement.set_urgency(score=response.score, previous_score=before)
    acknowledgement.save()
    skip = _receipt_skip_reason(response)
    receipt = AcknowledgementEmail.objects.create(
        acknowledgement=acknowledgement,
        kind=AcknowledgementEmail.Kind.RECEIPT,
        status=AcknowledgementEmail.Status.SKIPPED if skip else AcknowledgementEmail.Status.PENDING,
        last_error=skip,
        queued_at=None if skip else now,
    )
    if not skip:
        queue_email(receipt.pk)
    response.acknowledgement = acknowledgement  # a second call with this response finds it
    return acknowledgement


def acknowledgement_open_safely(*, response: Response) -> None:
    """`acknowledgement_open` in a savepoint: a failure here never loses the person's answers.

    The response stays saved and the sweeper gives it its acknowledgement later.
    """
    try:
        with transaction.atomic():
            acknowledgement_open(response=response)
    except Exception:
        logger.exception("Response %s: acknowledgement left to the sweeper", response.pk)


def _receipt_skip_reason(response: Response) -> str:
    if response.source != Response.Source.SURVEY:
        return f"Given in a {response.get_source_display().lower()}: no automatic email."
    if not response.contact.email:
        return "No email address."
    return ""


# --- The owner acknowledges ---------------------------------------------------------------------


def _claim_acknowledgement(acknowledgement: Acknowledgement, *, by: User, method: str) -> None:
    """Move the acknowledgement from pending to done, or raise AlreadyAcknowledged."""
    acknowledgement.mark_acknowledged(by=by, method=method)
    fields = ["status", "method", "acknowledged_by", "acknowledged_at"]
    done = Acknowledgement.objects.filter(
        pk=acknowledgement.pk, status=Acknowledgement.Status.PENDING
    ).update(**{name: getattr(acknowledgement, name) for name in fields})
    if not done:
        acknowledgement.refresh_from_db()
        raise AlreadyAcknowledged(
            f"{acknowledgement.acknowledged_by or 'Someone'} acknowledged this already."
        )


@transaction.atomic
def acknowledgement_reply(
    *, acknowledgement: Acknowledgement, by: User, subject: str, body: str
) -> AcknowledgementEmail:
    """Send the person a personal reply under `by`'s name, and count the response acknowledged.

    At most one reply per response: the acknowledgement moves from pending to replied with a
    conditional UPDATE (raises AlreadyAcknowledged when it was not pending any more: a double
    submit, a colleague faster), and the reply email row is unique per acknowledgement. The
    email itself goes out from a task after the commit. The caller checks that `by` may.
    """
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ValidationError("A reply needs a subject and a message.")
    if not acknowledgement.contact.email:
        raise ValidationError(
            f"{acknowledgement.contact.name} has no email address: acknowledge in person."
        )
    _claim_acknowledgement(acknowledgement, by=by, method=Acknowledgement.Method.EMAIL)
    acknowledgement.reply_subject, acknowledgement.reply_body = subject, body
    acknowledgement.save(update_fields=["reply_subject", "reply_body"])
    try:
        with transaction.atomic():
            email = AcknowledgementEmail.objects.create(
                acknowledgement=acknowledgement,
                kind=AcknowledgementEmail.Kind.REPLY,
                queued_at=timezone.now(),
            )
    except IntegrityError as error:
        raise AlreadyAcknowledged("A reply was sent already.") from error
    queue_email(email.pk)
    return email


@transaction.atomic
def acknowledgement_in_person(
    *, acknowledgement: Acknowledgement, by: User, method: str, note: str
) -> Acknowledgement:
    """Record that `by` acknowledged the feedback in a call or a meeting (with a note).

    Counts like a reply; no email is sent. Raises AlreadyAcknowledged when it was done already.
    """
    if method not in (Acknowledgement.Method.CALL, Acknowledgement.Method.MEETING):
        raise ValidationError({"method": "Choose a call or a meeting."})
    if not note.strip():
        raise ValidationError({"note": "Say briefly what you talked about."})
    _claim_acknowledgement(acknowledgement, by=by, method=method)
    acknowledgement.note = note.strip()
    acknowledgement.save(update_fields=["note"])
    return acknowledgement


# --- The sweeper --------------------------------------------------------------------------------


def acknowledgements_sweep(*, now: datetime | None = None) -> list[int]:
    """Everything the clock makes due; returns the ids of emails to hand to the send task.

    Safe to run twice or in two processes at once: it creates acknowledgements that a failed
    hook missed, the 24-hour reminder (while the acknowledgement is still open and not yet
    overdue) and the 48-hour escalation as rows that a unique constraint keeps single, and
    then marks as queued, with a conditional UPDATE per email, those that nobody has taken in
    hand for REQUEUE_AFTER (or ever) and those whose sending worker died (claim older than
    STALE_CLAIM). Only the run whose UPDATE wins returns an id. Each escalation this run
    planned publishes the `acknowledgement.overdue` webhook event, once per acknowledgement.
    """
    now = now or timezone.now()
    _backfill(now)
    _plan(
        AcknowledgementEmail.Kind.REMINDER,
        Acknowledgement.objects.open().filter(received_at__lte=now - REMIND_AFTER, due_at__gt=now),
        now,
    )
    escalated = _plan(
        AcknowledgementEmail.Kind.ESCALATION,
        Acknowledgement.objects.open().filter(due_at__lte=now),
        now,
    )
    for acknowledgement_id in escalated:
        _publish_overdue(acknowledgement_id)
    return outbox.take_to_queue(AcknowledgementEmail, now)


def _backfill(now: datetime) -> None:
    since = now - BACKFILL_WINDOW
    missing = (
        Response.objects.filter(
            acknowledgement__isnull=True, submitted_at__gte=since, updated_at__gte=since
        )
        .exclude(source=Response.Source.IMPORT)
        .select_related("wave", "contact__account")
        .order_by("pk")[:500]
    )
    for response in missing:
        try:
            with transaction.atomic():
                acknowledgement_open(response=response)
        except IntegrityError:
            continue  # another sweeper or the hook got there first


def _plan(kind: str, acknowledgements, now: datetime) -> list[int]:
    """Create the `kind` emails not yet planned; returns the acknowledgements this run planned
    (a row stamped with this run's `now`: a concurrent sweeper's rows carry its own)."""
    has_it = AcknowledgementEmail.objects.filter(acknowledgement=OuterRef("pk"), kind=kind)
    ids = list(acknowledgements.filter(~Exists(has_it)).values_list("pk", flat=True)[:1000])
    AcknowledgementEmail.objects.bulk_create(
        [AcknowledgementEmail(acknowledgement_id=pk, kind=kind, created_at=now) for pk in ids],
        ignore_conflicts=True,
    )
    return list(
        AcknowledgementEmail.objects.filter(
            acknowledgement_id__in=ids, kind=kind, created_at=now
        ).values_list("acknowledgement_id", flat=True)
    )


def _publish_overdue(acknowledgement_id: int) -> None:
    def data():
        from actions.selectors import acknowledgement_data  # selectors reach the serializers

        return acknowledgement_data(acknowledgement_id=acknowledgement_id)

    on_commit_publish("acknowledgement.overdue", data)


def queue_email(email_id: int) -> None:
    """Hand one acknowledgement email to the send task after the commit (see outbox)."""
    from actions.tasks import send_acknowledgement_email

    outbox.queue_on_commit(send_acknowledgement_email, AcknowledgementEmail, email_id)
