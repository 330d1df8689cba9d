from django.utils import timezone

from core.models import WorkerHeartbeat


def heartbeat_record(*, worker: str) -> WorkerHeartbeat:
    """Record that `worker` is alive now. Idempotent: one row per worker, moved forward."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker=worker, defaults={"seen_at": timezone.now()}
    )
    return heartbeat
