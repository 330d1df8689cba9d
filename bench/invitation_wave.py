"""Invitation wave: personal pulse emails to a local SMTP sink, the real path against one process.

A scratch database (`rapport_bench_mail`, created and dropped here) holds one account, its
contacts and an open wave with a pending invitation for each. The sink is aiosmtpd on loopback
in this process; it counts every message and its Message-ID, so the benchmark checks that
every invitation arrived exactly once.

- **Ours**: the engine's path. `invitations_take_for_sending` takes every pending invitation in
  hand and `pulses.tasks.queue_invitations` queues them in chunks (Redis broker); real Celery
  workers (prefork, `WORKER_PROCESSES` processes, running before the clock starts) run
  `send_invitations`: per chunk one SMTP connection, one conditional-UPDATE claim, one query
  loading the chunk and a few more for "already answered?" and "you said, we did"; per email
  composing the personal email (three templates, link tokens), sending and recording it (one
  UPDATE). Timed from the take (wall clock in the queueing process, after its start-up: beat
  runs with Django loaded) to the last invitation recorded as sent.
- **Floor**: one process sending over one SMTP connection: the same invitations loaded in one
  query, "you said, we did" looked up per chunk as the workers do, each email composed by the
  same `pulse_email` and sent, nothing claimed or recorded; the URLconf is imported before its
  clock starts, as a worker's is.

The note gives the CPU per email of the worker processes (from /proc) and of the floor's
process, and the load average: the workers win only with cores to spare.

Target (issue 10): ours sends at ≥ 1.3× the floor's rate.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import Result, dataset

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "rapport_bench_mail"
REDIS = os.environ.get("BENCH_MAIL_REDIS", "redis://127.0.0.1:6379/12")
# The issue's wave is 50,000 emails (BENCH_EMAILS=50000); on a shared two-core machine that is
# the best part of an hour per side, so `make bench` sends 2,000: every email costs the same
# (chunks of 50, no step grows with the wave), so the rates carry over.
EMAILS = int(os.environ.get("BENCH_EMAILS", "2000"))
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKER_PROCESSES", "4"))
QUEUE = "bench-invitations"


class Sink:
    """An aiosmtpd handler that keeps only what the check needs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.ids: set[str] = set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        header = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        message_id = next(
            (line.split(b":", 1)[1].strip() for line in header.split(b"\r\n")
             if line.lower().startswith(b"message-id:")),
            b"",
        )  # fmt: skip
        with self.lock:
            self.count += 1
            self.ids.add(message_id.decode())
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.ids = set()


def _django():
    import django

    django.setup()


def _setup() -> None:
    _django()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Account, Role, User
    from contacts.models import Contact
    from pulses.models import Invitation, Wave
    from pulses.services.questionnaires import (
        questionnaire_ensure_default,
        questionnaire_version_for_sending,
    )

    call_command("migrate", verbosity=0)
    owner = User.objects.create(email="owner@bench.example.com", full_name="Bench Owner",
                                role=Role.ACCOUNT_MANAGER)  # fmt: skip
    account = Account.objects.create(name="Bench Account", owner=owner)
    contacts = Contact.objects.bulk_create(
        (Contact(account=account, name=f"Person {i}", email=f"person{i}@client.example.com",
                 owner=owner) for i in range(EMAILS)),
        batch_size=5000,
    )  # fmt: skip
    version = questionnaire_version_for_sending(questionnaire=questionnaire_ensure_default())
    now = timezone.now()
    wave = Wave.objects.create(name="Bench pulse", questionnaire_version=version,
                               opens_on=now.date(), closes_at=now + timezone.timedelta(days=7))  # fmt: skip
    invitations = []
    for contact in contacts:
        invitation = Invitation(wave=wave, contact=contact, signer=owner)
        invitation.issue_token()
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations, batch_size=5000)


def _floor() -> str:
    """One process, one SMTP connection: compose every email and send it. Prints the wall
    and the CPU seconds it took."""
    _django()
    from django.core.mail import get_connection
    from django.urls import reverse

    from actions.selectors import you_said_we_did_for_invitations
    from pulses.models import Invitation
    from pulses.services.sending import Step, pulse_email
    from pulses.tasks import SEND_CHUNK

    # A worker process has imported the URLconf before its first task (Django's checks at
    # start-up); so does the floor, before its clock starts.
    reverse("pulses:survey", args=["warm"])
    started, cpu = time.perf_counter(), time.process_time()
    invitations = list(
        Invitation.objects.select_related(
            "wave__programme", "contact__account__owner", "signer"
        ).order_by("pk")
    )
    with get_connection() as connection:
        for start in range(0, len(invitations), SEND_CHUNK):
            chunk = invitations[start : start + SEND_CHUNK]
            # The same per-chunk lookup of "you said, we did" as the workers use.
            told = you_said_we_did_for_invitations(chunk)
            for invitation in chunk:
                email = pulse_email(
                    invitation=invitation, step=Step(0), you_said_we_did_items=told[invitation.pk]
                )
                connection.send_messages([email])
    return f"{time.perf_counter() - started} {time.process_time() - cpu}"


def _queue() -> str:
    """Take every pending invitation in hand and queue it, as `run_pulse_schedule` does.
    Prints when it started (wall clock) and how many it queued: the clock starts here, as in
    beat, which runs with Django loaded, not at this child's interpreter start-up."""
    _django()
    started = time.time()
    from django.db import transaction

    from config.celery import app
    from pulses.services.waves import invitations_take_for_sending
    from pulses.tasks import queue_invitations

    app.conf.task_default_queue = QUEUE
    with transaction.atomic():
        ids = invitations_take_for_sending(limit=EMAILS)
        queue_invitations(ids)
    return f"{started} {len(ids)}"


def _sent(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT count(*) FROM pulses_invitation WHERE status = 'sent'"
        ).fetchone()[0]


def _child(mode: str, env: dict) -> str:
    return subprocess.run(
        [sys.executable, "-m", "bench.invitation_wave", mode],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip


def run() -> list[Result]:
    if not dataset.postgres_available():
        print("  skipped: no PostgreSQL", flush=True)
        return []
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    dataset.drop_database(DATABASE)
    url = dataset.create_database(DATABASE)
    workers = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = {**dataset.bench_env(url, folder), "REDIS_URL": REDIS,
                   "EMAIL_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}  # fmt: skip
            _flush_redis()
            _child("setup", env)
            print(f"  {EMAILS:,} invitations ready; floor…", flush=True)
            floor_seconds, floor_cpu = map(float, _child("floor", env).split())
            if sink.count != EMAILS:
                raise RuntimeError(f"The floor sent {sink.count} of {EMAILS} emails")
            sink.reset()
            print(f"  floor {floor_seconds:.1f} s; ours…", flush=True)
            ready = Path(folder) / "worker-ready"
            workers = subprocess.Popen(
                [sys.executable, "-c", WORKER, "worker", "--pool", "prefork",
                 f"--concurrency={WORKER_PROCESSES}", "--without-mingle", "--without-gossip",
                 "--loglevel", "WARNING", "--hostname", f"bench-mail-{os.getpid()}@%h"],
                cwd=ROOT, env={**env, "BENCH_WORKER_READY": str(ready)},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            # The pool's processes run (Django set up, URLconf imported) before work is queued:
            # a wave's rate is a running worker's, not its start-up's.
            deadline = time.time() + 300
            while not ready.exists():
                if time.time() > deadline or workers.poll() is not None:
                    raise RuntimeError("The worker did not start")
                time.sleep(0.2)
            workers_cpu = _tree_cpu_seconds(workers.pid)
            started_text, queued_text = _child("queue", env).split()
            started, queued = float(started_text), int(queued_text)
            deadline = started + max(600, EMAILS / 20)
            while _sent(url) < EMAILS:
                if time.time() > deadline or workers.poll() is not None:
                    raise RuntimeError(f"Only {_sent(url)} of {EMAILS} sent in time")
                time.sleep(0.1)
            ours_seconds = time.time() - started
            workers_cpu = _tree_cpu_seconds(workers.pid) - workers_cpu
            time.sleep(1)  # anything sent twice would arrive now
            if queued != EMAILS or sink.count != EMAILS or len(sink.ids) != EMAILS:
                raise RuntimeError(
                    f"{queued} queued, {sink.count} received, {len(sink.ids)} distinct "
                    f"Message-IDs; expected {EMAILS} of each"
                )
    finally:
        if workers is not None:
            workers.terminate()
            workers.wait(timeout=60)
        controller.stop()
        dataset.drop_database(DATABASE)
        _flush_redis()
    rate, floor_rate = EMAILS / ours_seconds, EMAILS / floor_seconds
    holds = rate >= 1.3 * floor_rate
    ours_cpu_ms, floor_cpu_ms = workers_cpu / EMAILS * 1000, floor_cpu / EMAILS * 1000
    # Cores the workers alone would need to send at 1.3× the floor's rate.
    cores_needed = 1.3 * floor_rate * ours_cpu_ms / 1000
    return [
        Result(
            name=f"Invitation wave: {EMAILS:,} emails to a local SMTP sink",
            median_seconds=ours_seconds,
            floor_name="one process composing and sending over one SMTP connection",
            floor_seconds=floor_seconds,
            peak_bytes=0,
            runs=1,
            note=(
                f"{rate:.0f} vs {floor_rate:.0f} emails/s = {rate / floor_rate:.2f}× the floor's "
                f"rate (target ≥ 1.3×): {'holds' if holds else 'not met'}; "
                f"{WORKER_PROCESSES} Celery worker processes on Redis, chunks of 50 per SMTP "
                "connection, each chunk claimed with one conditional UPDATE and loaded, checked "
                'for answers and "you said, we did" in four queries, each email recorded with '
                "its own UPDATE (exactly once); the floor composes with the same per-chunk "
                '"you said, we did" lookup; timed from the take (beat\'s work) with the '
                f"workers running; CPU per email: workers {ours_cpu_ms:.1f} ms, floor "
                f"{floor_cpu_ms:.1f} ms; every email arrived exactly once ({EMAILS:,} distinct "
                "Message-IDs); one run each; peak memory not measured (separate processes); "
                f"{EMAILS:,} of the issue's 50,000 unless BENCH_EMAILS=50000 (the rate per "
                "email does not depend on the wave's size)"
                + (
                    ""
                    if holds
                    else f"; why not: at 1.3× the floor's rate the workers alone need "
                    f"{cores_needed:.1f} cores (plus PostgreSQL and the sink, which the floor "
                    f"shares), and the load average was {os.getloadavg()[0]:.1f} on "
                    f"{os.cpu_count()} cores; the workers spend {ours_cpu_ms / floor_cpu_ms:.1f}× "
                    "the floor's CPU per email: in one process the chunk's claim, loads and the "
                    "per-email recording UPDATE add about 0.5 ms (measured apart), the rest is "
                    "not yet pinned down (Celery's per-task work, four processes sharing two "
                    "cores); what would: cores of the workers' own "
                    "(a second machine, or this one idle), then cheaper composing (Python's "
                    "email package building and serialising the MIME message is about 60% of "
                    "a worker's CPU, and the floor's)"
                )
            ),
        )
    ]


# A worker on the benchmark's own queue, so that it never takes a developer's tasks.
# It touches BENCH_WORKER_READY once its pool runs and it consumes.
WORKER = (
    "import os, sys\n"
    "from pathlib import Path\n"
    "from celery.signals import worker_ready\n"
    "from config.celery import app\n"
    f"app.conf.task_default_queue = {QUEUE!r}\n"
    "worker_ready.connect(lambda **kw: Path(os.environ['BENCH_WORKER_READY']).touch(), weak=False)\n"
    "app.worker_main(sys.argv[1:])\n"
)


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process and its children used so far (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *map(int, children.read_text().split())] if children.exists() else [pid]
    total = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "setup":
        _setup()
        print("ok")
    elif mode == "floor":
        print(_floor())
    elif mode == "queue":
        print(_queue())
