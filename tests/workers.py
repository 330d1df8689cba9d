"""Real Celery worker processes for tests: started against the test database, stopped cleanly."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    """The URL of the test database this test process uses, for a worker subprocess."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def start_worker(
    name: str, *, queue: str | None = None, env: dict | None = None, launcher: str | None = None
) -> subprocess.Popen:
    """A `celery worker` (solo pool) named `name@host`, consuming `queue` when given.

    `launcher` is Python source run with `-c` instead of `celery -A config` (it must call
    `app.worker_main(sys.argv[1:])`), for tests that configure the app before it starts.
    """
    command = (
        [sys.executable, "-c", launcher]
        if launcher
        else [sys.executable, "-m", "celery", "-A", "config"]
    )
    options = [
        "worker",
        "--pool",
        "solo",
        "--hostname",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "INFO",
    ]
    if queue:
        options += ["--queues", queue]
    return subprocess.Popen(
        [*command, *options],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": test_database_url(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(worker: subprocess.Popen) -> str:
    """Stop gracefully (SIGTERM), or kill after 20 s; returns what the worker printed."""
    worker.terminate()
    try:
        return worker.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate(timeout=10)[0]
