from celery import shared_task

from core.services import heartbeat_record


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self):
    """Beat runs this every minute; the status page shows when a worker last answered."""
    heartbeat_record(worker=self.request.hostname or "unknown")
