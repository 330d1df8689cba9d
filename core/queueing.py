"""Handing work to Celery without letting a broker outage fail the request that caused it.

The work itself is always recorded in the database first (a row a periodic sweeper finds), so
a message that cannot be published is not lost: `publish_on_commit` logs, calls `on_failure`
(typically: mark the row as not queued, so the next sweep takes it at once) and returns.
Publishing uses a short connection timeout and no publish retries, so a page never waits long
for a broker that is down.

Connections are kept, per process, in a small producer pool: opening a broker connection for
every message (the connect, Redis's PING, kombu's channel setup) cost a survey submit more than
the message itself. A pooled connection that broke (Redis restarted, went away) fails its
publish at once like a refused connect would, and reconnects on its next use.
"""

import logging
import os
import threading
from collections.abc import Callable

from django.db import transaction
from kombu.pools import ProducerPool

from config.celery import app

logger = logging.getLogger(__name__)

# Seconds to wait for the broker when publishing from a request; the sweeper is the fallback.
PUBLISH_CONNECT_TIMEOUT = 2
# Connections a process keeps open for publishing. A gunicorn sync worker uses one at a time;
# the rest is room for threaded callers.
POOL_LIMIT = 4
# No connect retries, and give up connecting after a second: the sweeper is the fallback.
TRANSPORT_OPTIONS = {"max_retries": 0, "connect_retries_timeout": 1}

_pools: dict[tuple, ProducerPool] = {}
_pools_lock = threading.Lock()


def _producers() -> ProducerPool:
    """This process's producer pool for the broker the app is configured with now.

    Keyed by process id (a forked child must never share its parent's sockets) and by the
    broker's URL and options (tests point the app at another broker for a while)."""
    options = app.conf.broker_transport_options or {}
    key = (os.getpid(), app.conf.broker_write_url or app.conf.broker_url, repr(options))
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                connection = app.connection_for_write(
                    connect_timeout=PUBLISH_CONNECT_TIMEOUT, transport_options=TRANSPORT_OPTIONS
                )
                pool = ProducerPool(connection.Pool(limit=POOL_LIMIT), limit=POOL_LIMIT)
                for (pid, *_), old in list(_pools.items()):
                    if pid == key[0]:  # this process's pool for the previous broker
                        old.connections.force_close_all()
                # A parent's pools stay untouched (its sockets are its own), and unused here.
                _pools.clear()
                _pools[key] = pool
    return pool


def publish(task, *args, on_failure: Callable[[], None] | None = None, **options) -> bool:
    """Publish `task(*args)` now; False (after `on_failure`) when the broker is unreachable.

    `options` go to `apply_async` (e.g. `countdown`)."""
    if app.conf.task_always_eager:  # tests of the wiring: run here, let errors show
        task.apply_async(args=args, **options)
        return True
    try:
        with _producers().acquire(block=True, timeout=PUBLISH_CONNECT_TIMEOUT) as producer:
            task.apply_async(args=args, producer=producer, retry=False, **options)
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
