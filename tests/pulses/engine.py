"""Helpers for the wave-engine tests: run Celery tasks in-process, drive the schedule, and a
real SMTP server on loopback.

Import the `*_fixture` functions into a test module to use the fixtures by their short names
(`smtp_server`, `send_by_smtp`, `eager_celery`, `run_schedule`).
"""

import contextlib
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from config.celery import app
from pulses.tasks import run_pulse_schedule


@pytest.fixture(name="eager_celery")
def eager_celery_fixture():
    """Run tasks in this process, as a worker would, for tests of the task wiring.

    The product never runs tasks eagerly (CELERY settings); tests that need a real worker
    process are in test_engine_worker.py.
    """
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(name="run_schedule")
def run_schedule_fixture(eager_celery, django_capture_on_commit_callbacks):
    """One beat tick: `run_pulse_schedule` and every task it queues, in this process."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            run_pulse_schedule.delay()

    return run


@contextlib.contextmanager
def no_new_email(outbox):
    before = len(outbox)
    yield
    assert len(outbox) == before, [m.subject for m in outbox[before:]]


# --- A real SMTP server on loopback -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SinkHandler:
    """An SMTP server's handler: keeps every message; refuses the addresses in `refuse` (550)
    or `defer` (451), and answers DATA with `data_reply` when set."""

    def __init__(self):
        self.envelopes = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.data_reply: str | None = None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            envelopes = list(self.envelopes)
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in envelopes
        ]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port; `.handler` holds what came."""
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.handler = handler
    yield controller
    controller.stop()


@pytest.fixture(name="send_by_smtp")
def send_by_smtp_fixture(settings, smtp_server):
    """Django sends through the real SMTP server on loopback instead of the test outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_server.handler
