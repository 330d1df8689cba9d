"""Publishing from a request over a kept (pooled) broker connection (core.queueing): while Redis
is down a publish fails at once and calls its fallback, and the same process publishes again as
soon as Redis is back, without a restart.

Runs under `python -m tests.faults.run` (private Redis that the test stops and starts).
"""

import time

import pytest
import redis

from config.celery import app
from core.queueing import PUBLISH_CONNECT_TIMEOUT, publish
from core.tasks import record_worker_heartbeat

pytestmark = pytest.mark.django_db


def _queued() -> int:
    return redis.Redis.from_url(app.conf.broker_url).llen(app.conf.task_default_queue)


def test_a_kept_connection_fails_fast_while_redis_is_down_and_publishes_again_after(services):
    redis.Redis.from_url(app.conf.broker_url).flushdb()
    assert publish(record_worker_heartbeat) is True  # the pool now holds a live connection
    assert publish(record_worker_heartbeat) is True  # the same connection, used again
    assert _queued() == 2

    services.redis_stop()
    fallbacks = []
    started = time.monotonic()
    assert publish(record_worker_heartbeat, on_failure=lambda: fallbacks.append("sweep")) is False
    assert publish(record_worker_heartbeat, on_failure=lambda: fallbacks.append("sweep")) is False
    assert time.monotonic() - started < PUBLISH_CONNECT_TIMEOUT
    assert fallbacks == ["sweep", "sweep"]

    services.redis_start()  # empty: it kept nothing from before
    assert publish(record_worker_heartbeat) is True
    assert _queued() == 1
