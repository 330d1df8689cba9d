from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core.models import WorkerHeartbeat

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
