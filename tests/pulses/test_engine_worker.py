"""The wave engine end to end in a real Celery worker process, mailing a real SMTP server.

Beat's task runs twice and a send is queued twice on purpose: every invitation still arrives
exactly once. On the embedded filesystem broker, and on Redis when REDIS_URL is set.
"""

import os
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from config.celery import app
from core.models import WorkerHeartbeat
from core.tasks import record_worker_heartbeat
from pulses.models import Invitation, Wave
from pulses.tasks import run_pulse_schedule, send_invitation
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.engine import smtp_server_fixture  # noqa: F401 - fixture
from tests.pulses.factories import PulseProgrammeFactory
from tests.workers import start_worker, stop_worker

ROOT = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PEOPLE = 3

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A worker whose own sends (run_pulse_schedule queues send_invitation) stay on the test's queue,
# so that it never meets a developer's worker on the default queue.
WORKER = (
    "import os, sys\n"
    "from config.celery import app\n"
    "app.conf.task_default_queue = os.environ['RAPPORT_TEST_QUEUE']\n"
    "app.worker_main(sys.argv[1:])\n"
)


def _start_worker(queue: str, env: dict):
    # The worker's own sends (run_pulse_schedule queues send_invitation) stay on the test queue.
    return start_worker(
        queue, queue=queue, env={"RAPPORT_TEST_QUEUE": queue, **env}, launcher=WORKER
    )


def _wait(worker, condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            break
        time.sleep(0.25)
    output = stop_worker(worker)
    pytest.fail(f"{what} did not happen; the worker's output:\n{output}")


@pytest.fixture
def programme(manager):
    account = AccountFactory(owner=manager)
    ContactFactory.create_batch(PEOPLE, account=account)
    return PulseProgrammeFactory(accounts=[account])


def _run_end_to_end(worker, queue, smtp, publish):
    sink = smtp.handler
    publish(run_pulse_schedule, queue=queue)
    publish(run_pulse_schedule, queue=queue)
    _wait(
        worker,
        lambda: (
            Invitation.objects.filter(status=Invitation.Status.SENT).count() == PEOPLE
            and len(sink.envelopes) >= PEOPLE
        ),
        "sending every invitation",
    )

    # The same send queued again, another beat tick, then a marker behind them in the queue.
    first = Invitation.objects.order_by("pk").first()
    publish(send_invitation, args=[first.pk], queue=queue)
    publish(send_invitation, args=[first.pk], queue=queue)
    publish(run_pulse_schedule, queue=queue)
    publish(record_worker_heartbeat, queue=queue)
    _wait(
        worker,
        lambda: WorkerHeartbeat.objects.filter(worker__startswith=f"{queue}@").exists(),
        "working through the duplicates",
    )

    assert Wave.objects.count() == 1
    messages = sink.messages()
    assert len(messages) == PEOPLE
    assert sorted(m["Message-ID"] for m in messages) == sorted(
        Invitation.objects.values_list("message_id", flat=True)
    )
    links = {i.get_survey_url() for i in Invitation.objects.all()}
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in messages]
    assert all(any(link in text for text in texts) for link in links)


def test_the_engine_sends_each_invitation_once_on_the_filesystem_broker(
    programme, smtp_server, tmp_path
):
    queue = f"test-pulses-fs-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    worker = _start_worker(
        queue,
        {
            "REDIS_URL": "",
            "CELERY_BROKER_DIR": str(folder),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        },
    )
    try:
        with Connection("filesystem://", transport_options=options) as broker:

            def publish(task, **options):
                task.apply_async(connection=broker, **options)

            _run_end_to_end(worker, queue, smtp_server, publish)
    finally:
        stop_worker(worker)


def test_the_engine_sends_each_invitation_once_on_redis(programme, smtp_server):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if ON_CI:
            pytest.fail("REDIS_URL must be set on CI")
        pytest.skip("REDIS_URL is not set")
    assert app.conf.broker_url == redis_url
    queue = f"test-pulses-redis-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(queue, {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}"})
    try:

        def publish(task, **options):
            task.apply_async(**options)

        _run_end_to_end(worker, queue, smtp_server, publish)
    finally:
        stop_worker(worker)
