"""No task is scheduled further ahead than Redis' visibility timeout allows: the guard in
config/celery.py refuses it, and every retry back-off and delay in the code stays inside it.
Long deadlines (48-hour escalations, reminders after days, wave closing) live in the database
and beat's sweepers act on them."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import (
    EtaBeyondVisibilityTimeoutError,
    app,
    max_eta_seconds,
    visibility_timeout,
)
from core.tasks import record_worker_heartbeat
from tests.actions.broker import broker

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_the_limit_is_the_visibility_timeout_less_the_longest_run():
    with broker(UNREACHABLE_REDIS, {"visibility_timeout": 3600}):
        assert visibility_timeout() == 3600
        assert max_eta_seconds() == 3600 - settings.CELERY_TASK_TIME_LIMIT
    with broker("filesystem://", settings.CELERY_BROKER_TRANSPORT_OPTIONS):
        assert max_eta_seconds() is None  # no visibility timeout to outlive


def test_a_task_scheduled_beyond_the_limit_is_refused_before_it_reaches_redis(db):
    with broker(UNREACHABLE_REDIS, {"visibility_timeout": 3600}):
        limit = max_eta_seconds()
        with pytest.raises(EtaBeyondVisibilityTimeoutError, match="visibility timeout"):
            record_worker_heartbeat.apply_async(countdown=limit + 60)
        later = timezone.now() + timedelta(seconds=limit + 60)
        with pytest.raises(EtaBeyondVisibilityTimeoutError):
            record_worker_heartbeat.apply_async(eta=later)
        # Within the limit the guard lets it through (run here, eagerly, not to need Redis).
        eager, app.conf.task_always_eager = app.conf.task_always_eager, True
        try:
            assert record_worker_heartbeat.apply_async(countdown=limit - 60).successful()
        finally:
            app.conf.task_always_eager = eager


def test_production_settings_keep_every_delay_inside_the_limit():
    limit = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600) - (
        settings.CELERY_TASK_TIME_LIMIT
    )
    app.loader.import_default_modules()
    # Celery retries with retry_backoff: at most retry_backoff_max (jitter only shortens it).
    backoffs = {
        name: task.retry_backoff_max
        for name, task in app.tasks.items()
        if getattr(task, "retry_backoff", False)
    }
    assert backoffs, "the sending tasks retry with back-off"
    assert all(seconds <= limit for seconds in backoffs.values()), backoffs
    # Webhook retries: base · 2^(n-1), capped, +10 % jitter, for the tries that have a next one.
    hooks = settings.RAPPORT_WEBHOOKS
    longest = min(
        hooks["backoff_seconds"] * 2 ** (hooks["max_attempts"] - 2), hooks["backoff_max_seconds"]
    )
    assert longest * 1.1 <= limit
    # The debounced change-map recompute.
    assert settings.CHANGE_MAP["debounce_seconds"] <= limit
