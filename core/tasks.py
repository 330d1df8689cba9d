from celery import shared_task
from django.db import transaction

from core.services import heartbeat_record, webhooks


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self):
    """Beat runs this every minute; the status page shows when a worker last answered."""
    heartbeat_record(worker=self.request.hostname or "unknown")


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_webhook(self, delivery_id: int):
    """One try of a webhook delivery; after a failed try, again when its back-off is over.

    The service claims the delivery and bounds the tries (RAPPORT_WEBHOOKS["max_attempts"]),
    so Celery's own retry count is not what stops it.
    """
    outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(ignore_result=True)
def requeue_webhook_deliveries():
    """Beat, every few minutes: queue again the deliveries whose task message was lost."""
    for delivery_id in webhooks.webhook_deliveries_requeue():
        transaction.on_commit(lambda pk=delivery_id: deliver_webhook.delay(pk))
