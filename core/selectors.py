from datetime import timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.models import WebhookDelivery, WebhookEndpoint, WorkerHeartbeat

WORKER_STALE_AFTER = timedelta(minutes=3)


def system_status() -> dict:
    """What an operator needs at a glance: is the database answering, are workers alive."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    heartbeats = list(WorkerHeartbeat.objects.all()[:20])
    now = timezone.now()
    return {
        "database": "ok",
        "workers": [
            {
                "worker": h.worker,
                "seen_at": h.seen_at,
                "alive": now - h.seen_at < WORKER_STALE_AFTER,
            }
            for h in heartbeats
        ],
    }


# --- Webhooks (administrators only: the views gate) ----------------------------------------------


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    pending = Q(
        deliveries__status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]
    )
    return WebhookEndpoint.objects.annotate(
        delivered=Count(
            "deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.DELIVERED)
        ),
        failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        waiting=Count("deliveries", filter=pending),
    ).order_by("url", "pk")


def webhook_deliveries(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    deliveries = endpoint.deliveries.annotate(tries=Count("attempt_log")).order_by(
        "-created_at", "-pk"
    )
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def webhook_delivery_get(*, pk: int) -> WebhookDelivery:
    return get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
