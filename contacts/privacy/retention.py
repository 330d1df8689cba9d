"""Retention: responses' free text is cleared once older than RESPONSE_RETENTION_DAYS."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contacts.privacy.words import (
    EXPIRED_TEXT,
    PLACEHOLDERS,
    TextAnswers,
    responses_strip_text,
)
from core.models import WebhookDelivery
from pulses.models import Response

BATCH = 500


def responses_apply_retention(*, now: datetime | None = None, days: int | None = None) -> dict:
    """Clear the free text of responses submitted more than `days` (default:
    RAPPORT_RESPONSE_RETENTION_DAYS) ago, with their acknowledgement notes and replies, quotes
    and candidacy quotes, and the answer texts in webhook bodies older than that. Scores,
    ratings and choices stay: the change maps and trends keep working.

    0 or None keeps everything (returns {}). Idempotent: what was cleared is not counted again,
    so a second run returns {}. Returns rows changed per kind.
    """
    days = settings.RAPPORT_RESPONSE_RETENTION_DAYS if days is None else days
    if not days:
        return {}
    if days < 0:
        raise ValueError("The retention period is a number of days, 0 (keep) or more.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        old = Response.objects.filter(submitted_at__lt=cutoff)
        changes = responses_strip_text(old, placeholder=EXPIRED_TEXT)
        text_answers = TextAnswers()
        old_deliveries = WebhookDelivery.objects.filter(
            event__in=["response.submitted", "acknowledgement.overdue"], created_at__lt=cutoff
        )
        ids = list(old_deliveries.order_by("pk").values_list("pk", flat=True))
        # In batches: bodies can be large, and the rows are rewritten while we go.
        for start in range(0, len(ids), BATCH):
            batch = WebhookDelivery.objects.filter(pk__in=ids[start : start + BATCH])
            for delivery in batch.only("pk", "event", "payload"):
                payload = _expired_payload(delivery.payload, text_answers)
                if payload != delivery.payload:
                    WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=payload)
                    changes["webhook_deliveries"] += 1
    return {name: count for name, count in sorted(changes.items()) if count}


def _expired_payload(payload: dict, text_answers: TextAnswers) -> dict:
    data = payload.get("data")
    if not isinstance(data, dict):
        return payload
    data = dict(data)
    if payload.get("event") == "response.submitted":
        answers = data.get("answers") or {}
        data["answers"] = {
            key: "" if isinstance(value, str) and text_answers.is_text(key, data) else value
            for key, value in answers.items()
        }
    for name in ("note", "reply_subject", "reply_body"):
        if data.get(name) and data[name] not in PLACEHOLDERS:
            data[name] = EXPIRED_TEXT
    return {**payload, "data": data}
