"""Handing work to Celery without letting a broker outage fail the request that caused it.

The work itself is always recorded in the database first (a row a periodic sweeper finds), so
a message that cannot be published is not lost: `publish_on_commit` logs, calls `on_failure`
(typically: mark the row as not queued, so the next sweep takes it at once) and returns.
Publishing uses a short connection timeout and no publish retries, so a page never waits long
for a broker that is down.
"""

import logging
from collections.abc import Callable

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)

# Seconds to wait for the broker when publishing from a request; the sweeper is the fallback.
PUBLISH_CONNECT_TIMEOUT = 2


def publish(task, *args, on_failure: Callable[[], None] | None = None, **options) -> bool:
    """Publish `task(*args)` now; False (after `on_failure`) when the broker is unreachable.

    `options` go to `apply_async` (e.g. `countdown`)."""
    if app.conf.task_always_eager:  # tests of the wiring: run here, let errors show
        task.apply_async(args=args, **options)
        return True
    try:
        with app.connection_for_write(
            connect_timeout=PUBLISH_CONNECT_TIMEOUT,
            transport_options={"max_retries": 0, "connect_retries_timeout": 1},
        ) as connection:
            task.apply_async(args=args, connection=connection, retry=False, **options)
    except Exception:  # any broker or network failure: the sweeper will find the work
        logger.warning("Could not queue %s%r; the sweeper will pick it up", task.name, args)
        if on_failure is not None:
            on_failure()
        return False
    return True


def publish_on_commit(task, *args, on_failure: Callable[[], None] | None = None, **options) -> None:
    """`publish(task, *args, **options)` once the current transaction commits (at once outside
    one)."""
    transaction.on_commit(lambda: publish(task, *args, on_failure=on_failure, **options))
