"""The Celery application: tasks are autodiscovered from each app's ``tasks.py``.

Two safety nets for real faults live here, for every task at once:

- `ResilientTask`: a task that finds the database unreachable (PostgreSQL restarting, a network
  cut) is retried with back-off (5 s, doubling, at most a minute) until the database is back,
  instead of failing and leaving its work to a sweeper much later. Every task is idempotent and
  claims its rows, so running it again is safe.
- `ResilientTask.apply_async`: nothing is scheduled further ahead than Redis can hold a
  message without handing it out twice (its visibility timeout). Long deadlines live in the
  database and beat's sweepers act on them.

Beat's side of the same is config/beat.py.
"""

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from celery import Celery, Task
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

# Back-off while the database is unreachable: 5, 10, 20, 40, 60, 60… seconds.
DATABASE_RETRY_BACKOFF = 5
DATABASE_RETRY_BACKOFF_MAX = 60
# Kombu's default when the Redis transport is not given one.
REDIS_DEFAULT_VISIBILITY_TIMEOUT = 60 * 60


class ResilientTask(Task):
    """Every Rapport task: retried with back-off while the database is unreachable, and never
    scheduled beyond the broker's visibility timeout."""

    def apply_async(self, args=None, kwargs=None, *positional, **options):
        refuse_eta_beyond_visibility_timeout(self.name, options)
        return super().apply_async(args, kwargs, *positional, **options)

    def __call__(self, *args, **kwargs):
        from django.db import InterfaceError, OperationalError, close_old_connections

        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if self.request.called_directly or self.request.is_eager:
                raise  # a direct call or a test of the wiring: let the caller see it
            # A broken connection must not be reused by the retry.
            close_old_connections()
            countdown = min(
                DATABASE_RETRY_BACKOFF * 2 ** min(self.request.retries, 10),
                DATABASE_RETRY_BACKOFF_MAX,
            )
            logger.warning(
                "%s: the database is unavailable (%s); retrying in %d s",
                self.name,
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
                countdown,
            )
            # No retry limit: the work waits for the database however long it is away; the
            # rows it claims keep a second run from doing anything twice.
            raise self.retry(exc=error, countdown=countdown, max_retries=None) from error


app = Celery("rapport", task_cls=ResilientTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.add_defaults(
    lambda: {
        # A worker that loses Redis keeps reconnecting (Celery's growing interval) instead of
        # exiting after a hundred tries; no supervisor has to restart it.
        "broker_connection_retry": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        # Beat and workers give up on one publish quickly when the broker is down: the work is
        # a row in the database, and the next beat tick or sweep publishes it again.
        "broker_connection_timeout": 4,
    }
)
app.autodiscover_tasks()


def visibility_timeout() -> int | None:
    """Seconds Redis waits for an unacknowledged message before handing it out again (None on
    a broker without one, like the embedded filesystem broker)."""
    if not app.conf.broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return None
    options = app.conf.broker_transport_options or {}
    return int(options.get("visibility_timeout", REDIS_DEFAULT_VISIBILITY_TIMEOUT))


def max_eta_seconds() -> int | None:
    """How far ahead a task may be scheduled: a worker holds an ETA message unacknowledged
    until it has run (acks_late), so the wait plus the longest run must fit in the visibility
    timeout, or Redis hands the message to a second worker meanwhile."""
    timeout = visibility_timeout()
    if timeout is None:
        return None
    return timeout - int(app.conf.task_time_limit or 0)


class EtaBeyondVisibilityTimeoutError(RuntimeError):
    """A task was scheduled further ahead than the broker can hold it safely."""


def refuse_eta_beyond_visibility_timeout(name: str, options: dict) -> None:
    """Raise when `options` (countdown or eta) schedule the task beyond `max_eta_seconds()`."""
    limit = max_eta_seconds()
    if limit is None:
        return
    if options.get("countdown") is not None:
        ahead = float(options["countdown"])
    elif options.get("eta") is not None:
        eta = options["eta"]
        if isinstance(eta, str):
            eta = datetime.fromisoformat(eta)
        if eta.tzinfo is None:
            eta = eta.replace(tzinfo=UTC)
        ahead = (eta - datetime.now(UTC)).total_seconds()
    else:
        return
    if ahead > limit:
        raise EtaBeyondVisibilityTimeoutError(
            f"{name} was scheduled {ahead:.0f} s ahead, beyond the {limit} s that the broker's "
            "visibility timeout allows; record the deadline in the database and let a beat "
            "sweeper act on it"
        )


def ensure_filesystem_broker_folders() -> None:
    """Kombu's filesystem transport needs its folders before anyone publishes or consumes."""
    if app.conf.broker_url.startswith("filesystem://"):
        options = app.conf.broker_transport_options
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender, **kwargs):
    ensure_filesystem_broker_folders()


@after_setup_logger.connect
def _quiet(logger, **kwargs):
    # Worker logs are for operators; the kombu chatter at INFO is not.
    logging.getLogger("kombu").setLevel(logging.WARNING)
