"""Workers killed with SIGKILL again and again while they send receipts: afterwards every
response has exactly one receipt, counted by Message-ID at a real SMTP server.

Builds on tests/actions/test_worker_killed_mid_send.py (one kill, one held message) with many
kills at random moments of a slow send, on the private Redis of the fault run. Each kill
leaves its receipt claimed ("sending") and its message unacknowledged in Redis; when ten
minutes have passed (the claims are moved back instead of waiting) beat's sweeper hands the
receipt to the next worker, which takes the stale claim over.
"""

import os
import random
import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.db.models import F

from actions.models import AcknowledgementEmail
from actions.services.outbox import REQUEUE_AFTER
from actions.tasks import sweep_acknowledgements
from core.queueing import publish
from pulses.models import STALE_CLAIM
from tests.actions.factories import answer
from tests.factories import ContactFactory
from tests.faults.processes import Sink, figure, start_worker, stop, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RESPONSES = 30
KILLS = 6
Status = AcknowledgementEmail.Status


def _receipts():
    return AcknowledgementEmail.objects.filter(kind=AcknowledgementEmail.Kind.RECEIPT)


def _time_passes() -> None:
    """Sixteen minutes pass for every receipt not yet sent: stale claims and lost messages."""
    shift = STALE_CLAIM + REQUEUE_AFTER + timedelta(minutes=1)
    _receipts().exclude(status=Status.SENT).update(
        claimed_at=F("claimed_at") - shift, queued_at=F("queued_at") - shift
    )


def test_workers_killed_mid_send_again_and_again_leave_one_receipt_per_response(account):
    seed = int(os.environ.get("RAPPORT_FAULTS_SEED", "0")) or random.SystemRandom().randrange(10**6)
    figure("worker kills: random seed (RAPPORT_FAULTS_SEED)", seed)
    rng = random.Random(seed)
    responses = [answer(contact=ContactFactory(account=account)) for _ in range(RESPONSES)]
    killed_mid_send = 0
    worker = None
    with Sink(delay=0.3) as sink:
        mail = {"EMAIL_URL": sink.url}
        try:
            for kill in range(KILLS):
                worker = start_worker(f"faults-kill-{kill}-{uuid.uuid4().hex[:6]}", **mail)
                sent_before = _receipts().filter(status=Status.SENT).count()
                wait_for(
                    lambda before=sent_before: (
                        _receipts().filter(status=Status.SENDING).exists()
                        or _receipts().filter(status=Status.SENT).count() > before
                    ),
                    "the worker sending",
                    timeout=60,
                    process=worker,
                )
                time.sleep(rng.uniform(0.0, 1.5))
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=20)
                killed_mid_send += _receipts().filter(status=Status.SENDING).count()
                _time_passes()
                assert publish(sweep_acknowledgements)  # the next beat tick
                if not _receipts().exclude(status=Status.SENT).exists():
                    break

            worker = start_worker(f"faults-kill-last-{uuid.uuid4().hex[:6]}", **mail)
            assert publish(sweep_acknowledgements)
            wait_for(
                lambda: set(_receipts().values_list("status", flat=True)) == {Status.SENT},
                "every receipt sent",
                timeout=180,
                process=worker,
            )
            # Beat again: nothing more is sent.
            assert publish(sweep_acknowledgements)
            time.sleep(3)
        finally:
            stop(worker)

    figure("worker kills: SIGKILLs", kill + 1)
    figure("worker kills: receipts left mid-send by a kill", killed_mid_send)
    expected = {
        r.message_id: r.acknowledgement.contact.email
        for r in _receipts().select_related("acknowledgement__contact")
    }
    assert len(expected) == len(responses) == RESPONSES
    copies = sink.copies_by_message_id()
    # Exactly one receipt per response, counted by Message-ID; none for anyone else.
    assert set(copies) == set(expected)
    for message in sink.messages():
        assert message["To"].addresses[0].addr_spec == expected[message["Message-ID"]]
    figure("worker kills: messages at the sink", sum(copies.values()))
    figure(
        "worker kills: extra copies of a Message-ID (server had accepted before the kill)",
        sum(copies.values()) - len(copies),
    )
