"""A worker killed with SIGKILL in the middle of sending a receipt, in real Celery worker
processes mailing a real (slow) SMTP server: every response still ends up with exactly one
receipt, by Message-ID. On a private filesystem broker, and on Redis when REDIS_URL is set.

What happens: worker A claims the receipt and is killed while the mail server holds the
message's DATA. The claim stays "sending"; ten minutes later (we move the claim back rather
than wait) the sweeper hands it to worker B, which takes the stale claim over and sends it.
The server drops the transaction whose client vanished, so one copy arrives. (Had the server
already accepted it, both copies would carry the same Message-ID: still one receipt to any
mail system.) A response that arrives while no worker runs waits in the broker and worker B
sends its receipt once.
"""

import asyncio
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from aiosmtpd.controller import Controller
from django.db.models import F

from actions.models import AcknowledgementEmail
from actions.tasks import send_acknowledgement_email, sweep_acknowledgements
from core.queueing import publish
from pulses.models import STALE_CLAIM
from tests.actions.broker import broker
from tests.actions.factories import answer
from tests.factories import ContactFactory
from tests.pulses.engine import SinkHandler, free_port
from tests.workers import start_worker

ROOT = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
Status = AcknowledgementEmail.Status

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class SlowSink(SinkHandler):
    """A mail server that holds the first message's DATA until `release` is set."""

    def __init__(self):
        super().__init__()
        self.receiving = threading.Event()
        self.release = threading.Event()
        self.held = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if not self.held:
            self.held = True
            self.receiving.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    handler = SlowSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    handler.release.set()
    controller.stop()


def _output(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.kill()
    return worker.communicate(timeout=20)[0]


def _wait(condition, what: str, worker: subprocess.Popen, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen; the worker's output:\n{_output(worker)}")


def _receipts():
    return AcknowledgementEmail.objects.filter(kind=AcknowledgementEmail.Kind.RECEIPT)


def _kill_mid_send_and_recover(account, slow_smtp, worker_env):
    sink = slow_smtp.handler
    env = {**worker_env, "EMAIL_URL": f"smtp://127.0.0.1:{slow_smtp.port}"}
    first = answer(account=account)  # committed: its receipt is published to the broker
    worker_a = start_worker(f"ack-a-{uuid.uuid4().hex[:6]}", env=env)
    worker_b = None
    try:
        _wait(sink.receiving.is_set, "worker A reaching the mail server", worker_a)
        assert _receipts().get().status == Status.SENDING
        os.kill(worker_a.pid, signal.SIGKILL)
        worker_a.wait(timeout=20)
        sink.release.set()  # the server keeps what it received, as a real one may

        # While no worker runs, another response arrives and waits in the broker.
        second = answer(contact=ContactFactory(account=account))
        # Ten minutes pass (the claim is moved back instead of waiting for them).
        stale = timedelta(minutes=16) + STALE_CLAIM
        _receipts().filter(acknowledgement__response=first).update(
            claimed_at=F("claimed_at") - stale, queued_at=F("queued_at") - stale
        )

        worker_b = start_worker(f"ack-b-{uuid.uuid4().hex[:6]}", env=env)
        assert publish(sweep_acknowledgements)  # the next beat tick
        _wait(
            lambda: set(_receipts().values_list("status", flat=True)) == {Status.SENT},
            "worker B sending every receipt",
            worker_b,
        )
        # Beat again, and the same sends delivered again: nothing more arrives.
        assert publish(sweep_acknowledgements)
        for receipt in _receipts():
            assert publish(send_acknowledgement_email, receipt.pk)
        time.sleep(3)
    finally:
        for worker in (worker_a, worker_b):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

    messages = sink.messages()
    by_id: dict[str, list] = {}
    for message in messages:
        by_id.setdefault(message["Message-ID"], []).append(message)
    expected = {
        f"<ack-{r.acknowledgement_id}-receipt@localhost>": r.acknowledgement.contact.email
        for r in _receipts().select_related("acknowledgement__contact")
    }
    # Exactly one receipt per response, counted by Message-ID.
    assert set(by_id) == set(expected)
    for message_id, copies in by_id.items():
        assert all(m["To"].addresses[0].addr_spec == expected[message_id] for m in copies)
    # The server dropped the transaction whose client died before the end of DATA was
    # answered: one copy of each receipt arrived, the one worker B sent.
    assert {message_id: len(copies) for message_id, copies in by_id.items()} == dict.fromkeys(
        expected, 1
    )
    first_receipt = _receipts().get(acknowledgement__response=first)
    assert (first_receipt.status, first_receipt.attempts) == (Status.SENT, 2)
    assert _receipts().get(acknowledgement__response=second).attempts == 1


@pytest.fixture
def private_filesystem_broker(tmp_path):
    folder = tmp_path / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    with broker("filesystem://", options):
        yield {"REDIS_URL": "", "CELERY_BROKER_DIR": str(folder)}


def test_a_worker_killed_mid_send_leaves_one_receipt_per_response_on_the_filesystem_broker(
    account, slow_smtp, private_filesystem_broker
):
    _kill_mid_send_and_recover(account, slow_smtp, private_filesystem_broker)


@pytest.fixture
def private_redis_database():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if ON_CI:
            pytest.fail("REDIS_URL must be set on CI")
        pytest.skip("REDIS_URL is not set")
    # A database of its own on the same server, so no other worker sees these messages.
    parts = urlsplit(redis_url)
    private = urlunsplit(parts._replace(path="/14"))
    redis.Redis.from_url(private).flushdb()
    with broker(private, {"visibility_timeout": 60 * 60}):
        yield {"REDIS_URL": private}


def test_a_worker_killed_mid_send_leaves_one_receipt_per_response_on_redis(
    account, slow_smtp, private_redis_database
):
    _kill_mid_send_and_recover(account, slow_smtp, private_redis_database)
