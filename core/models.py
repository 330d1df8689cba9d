from django.db import models


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran a task: the status page and healthchecks read it."""

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
