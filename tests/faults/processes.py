"""Real web (gunicorn), worker and beat processes for the fault tests, a real SMTP sink, and
waiting for things to happen. Workers come from tests/workers.py."""

import asyncio
import email
import email.policy
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller

from tests.faults.services import free_port
from tests.workers import ROOT, test_database_url

LOGS: dict[int, object] = {}

# Beat with the production scheduler (config/beat.py, on django-celery-beat's, which writes the
# schedule into the database at start), every entry due every RAPPORT_FAULTS_BEAT_EVERY seconds
# instead of once a minute: the same code path, more ticks per minute of test.
BEAT_LAUNCHER = """
import os, sys
from config.celery import app
every = float(os.environ["RAPPORT_FAULTS_BEAT_EVERY"])
app.conf.beat_schedule = {
    name: {**entry, "schedule": every} for name, entry in app.conf.beat_schedule.items()
}
app.start(sys.argv[1:])
"""


def _log_file(name: str):
    """Where a process writes its output: a file, never a pipe that nobody reads while the
    test runs (a full pipe blocks the process at its next log line)."""
    folder = Path(os.environ["RAPPORT_FAULTS_DIR"]) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return open(folder / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log", "w+")


def _spawn(command: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
    log = _log_file(name)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    LOGS[process.pid] = log
    return process


def output(process: subprocess.Popen) -> str:
    """Everything the process printed so far."""
    log = LOGS[process.pid]
    log.flush()
    return Path(log.name).read_text(errors="replace")


def process_environment(**extra: str) -> dict[str, str]:
    """What every process of the system under test shares: production settings (DEBUG=0) on
    the test database and the private Redis, plain HTTP on loopback."""
    return {
        **os.environ,
        "RAPPORT_DOTENV": "0",
        "DEBUG": "0",
        "DATABASE_URL": test_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_MANIFEST": "0",
        "CONN_MAX_AGE": "60",
        # Each simulated contact posts from an address of its own (as behind a proxy).
        "RATELIMIT_IP_META_KEY": "HTTP_X_FORWARDED_FOR",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_web(*, workers: int = 2, **extra: str) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the project on a free port; returns the process and its base URL."""
    port = free_port()
    web = _spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
        ],
        process_environment(**extra),
        "web",
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(base), "gunicorn answering", timeout=60, process=web)
    return web, base


def _answers(base: str) -> bool:
    try:
        requests.get(f"{base}/login/", timeout=2)
    except requests.RequestException:
        return False
    return True


def start_beat(name: str, *, every: float, **extra: str) -> subprocess.Popen:
    """A `celery beat` on the database scheduler, every entry due every `every` seconds."""
    return _spawn(
        [
            sys.executable,
            "-c",
            BEAT_LAUNCHER,
            "beat",
            "--scheduler",
            "config.beat:ResilientDatabaseScheduler",
            "--pidfile",
            "",
            "--loglevel",
            "INFO",
        ],
        process_environment(RAPPORT_FAULTS_BEAT_EVERY=str(every), **extra),
        name,
    )


def start_worker(name: str, **extra: str) -> subprocess.Popen:
    """A `celery worker` (solo pool, as tests/workers.py starts them) logging to a file."""
    return _spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        process_environment(**extra),
        name,
    )


def stop(*processes: subprocess.Popen | None) -> dict[int, str]:
    """Stop gracefully (SIGTERM), kill after 20 s; what each printed, by pid. While an
    exception is on its way (a failing test), the end of each output is printed with it."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    outputs = {}
    for process in processes:
        if process is None:
            continue
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        outputs[process.pid] = output(process)
        LOGS.pop(process.pid).close()
    if sys.exception() is not None:
        for pid, text in outputs.items():
            shown = text if len(text) < 8000 else f"{text[:3000]}\n[…]\n{text[-5000:]}"
            print(f"--- output of process {pid} ---\n{shown}", flush=True)
    return outputs


def wait_for(condition, what: str, *, timeout: float, process=None, every: float = 0.25):
    """Poll until `condition()` holds; fail with the process's output if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(every)
    text = ""
    if process is not None:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        text = output(process)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{text[-6000:]}")


def figure(name: str, value) -> None:
    """A measured figure, on stdout for the CI log (the fault run uses `pytest -s`)."""
    print(f"faults: {name}: {value}", flush=True)


class Sink:
    """An SMTP server on loopback that keeps every message it accepted; each DATA takes
    `delay` seconds, so a worker can be killed while the server holds a message."""

    def __init__(self, *, delay: float = 0.0):
        self.delay = delay
        self.lock = threading.Lock()
        self.raw: list[bytes] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per connection

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.raw.append(envelope.original_content)
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            raw = list(self.raw)
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]

    def copies_by_message_id(self) -> Counter:
        return Counter(message["Message-ID"] for message in self.messages())

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
