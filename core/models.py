import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran a task: the status page and healthchecks read it."""

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class WebhookEndpoint(models.Model):
    """A URL an administrator registered to receive events, signed with its own secret.

    The secret has to be kept as it is (it signs every delivery), so it is shown once when
    created and never again; rotating it means registering the endpoint anew.
    """

    url = models.URLField("URL", max_length=500, help_text="Where events are POSTed (https://…).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event names it receives.")
    secret = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "pk"]

    def __str__(self):
        return self.description or self.url

    # Every process keeps which events the active endpoints receive until one is saved or
    # deleted (core.services.webhooks): change endpoints one by one, never by queryset update.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _listeners_changed()

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        _listeners_changed()
        return deleted

    def receives(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])


def _listeners_changed() -> None:
    from core.services.webhooks import webhook_listeners_changed  # it imports this module

    webhook_listeners_changed()


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body it gets, and how sending it went.

    `attempts` counts the tries of the current series (a replay starts a new series);
    every try, of every series, is kept as a WebhookAttempt.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=100)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.status})"

    @property
    def is_replayable(self) -> bool:
        return self.status != self.Status.SENDING


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(help_text="1 for the first try of the delivery, ever.")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit log is append-only.")

    def delete(self):
        raise TypeError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Who viewed, exported, downloaded or changed what: append-only.

    Rows are only ever inserted (`audit_record`); the model refuses updates and deletes so a
    mistaken admin action or a bulk call cannot rewrite history. `target` is a readable
    description kept even after the object is gone or anonymised.
    """

    class Verb(models.TextChoices):
        VIEWED = "viewed", "Viewed"
        EXPORTED = "exported", "Exported"
        DOWNLOADED = "downloaded", "Downloaded"
        REQUESTED = "requested", "Requested"
        CHANGED = "changed", "Changed"
        ERASED = "erased", "Erased"
        SIGNED_IN = "signed_in", "Signed in"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_label = models.CharField(
        max_length=254, blank=True, help_text="The actor's email, kept if the user is deleted."
    )
    verb = models.CharField(max_length=20, choices=Verb)
    target_type = models.CharField(max_length=60, help_text="e.g. contact, report, export.")
    target_id = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.actor_label or 'system'} {self.verb} {self.target_type} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only.")
