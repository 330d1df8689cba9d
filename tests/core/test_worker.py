"""A real Celery worker process runs a real task, on the embedded broker and on Redis."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from config.celery import app
from core.models import WorkerHeartbeat
from core.tasks import record_worker_heartbeat
from tests.workers import start_worker, stop_worker

ROOT = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _wait_for_heartbeat(
    worker: subprocess.Popen, queue: str, timeout: float = 60
) -> WorkerHeartbeat:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = WorkerHeartbeat.objects.filter(worker__startswith=f"{queue}@").first()
        if beat is not None:
            return beat
        if worker.poll() is not None:
            break
        time.sleep(0.25)
    worker.kill()
    output = worker.communicate(timeout=10)[0]
    pytest.fail(f"the worker never ran the task; its output:\n{output}")


def test_worker_runs_a_task_on_the_embedded_filesystem_broker(tmp_path):
    queue = f"test-fs-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    worker = start_worker(
        queue, queue=queue, env={"REDIS_URL": "", "CELERY_BROKER_DIR": str(folder)}
    )
    try:
        with Connection("filesystem://", transport_options=options) as broker:
            record_worker_heartbeat.apply_async(queue=queue, connection=broker)
        beat = _wait_for_heartbeat(worker, queue)
    finally:
        stop_worker(worker)
    assert beat.worker.startswith(f"{queue}@")


def test_worker_runs_a_task_on_redis():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if ON_CI:
            pytest.fail("REDIS_URL must be set on CI")
        pytest.skip("REDIS_URL is not set")
    assert app.conf.broker_url == redis_url
    queue = f"test-redis-{uuid.uuid4().hex[:8]}"
    worker = start_worker(queue, queue=queue)
    try:
        record_worker_heartbeat.apply_async(queue=queue)
        beat = _wait_for_heartbeat(worker, queue)
    finally:
        stop_worker(worker)
    assert beat.worker.startswith(f"{queue}@")
