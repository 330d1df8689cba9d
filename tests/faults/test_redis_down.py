"""Redis stopped while 20 contacts send their answers: every answer is saved and answered
(2xx) within 2 s, and every receipt goes out once Redis is back.

Real processes: gunicorn (production settings), a Celery worker and beat, on the private
PostgreSQL and Redis of the fault run (tests/faults/run.py); a real SMTP sink counts receipts
by Message-ID.
"""

import re
import statistics
import time

import pytest
import requests

from actions.models import AcknowledgementEmail
from pulses.models import Response
from tests.factories import ContactFactory
from tests.faults.processes import (
    Sink,
    figure,
    start_beat,
    start_web,
    start_worker,
    stop,
    wait_for,
)
from tests.pulses.factories import InvitationFactory, WaveFactory, form_data

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CONTACTS = 20
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
Kind, Status = AcknowledgementEmail.Kind, AcknowledgementEmail.Status


def _receipts():
    return AcknowledgementEmail.objects.filter(kind=Kind.RECEIPT)


def _open_page(base: str, token: str, number: int) -> tuple[requests.Session, str]:
    """A contact opens their link: their own session, address and CSRF token."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = f"203.0.113.{number + 1}"
    page = session.get(f"{base}/p/{token}/", timeout=10)
    assert page.status_code == 200, page.text[:500]
    return session, CSRF.search(page.text).group(1)


def test_answers_sent_while_redis_is_down_are_saved_at_once_and_receipted_after(account, services):
    wave = WaveFactory()
    invitations = [
        InvitationFactory(wave=wave, contact=ContactFactory(account=account))
        for _ in range(CONTACTS)
    ]
    worker = beat = web = None
    with Sink() as sink:
        mail = {"EMAIL_URL": sink.url}
        try:
            web, base = start_web(**mail)
            worker = start_worker("faults-redis", **mail)
            pages = [
                _open_page(base, invitation.link_token(), n)
                for n, invitation in enumerate(invitations)
            ]

            services.redis_stop()
            latencies = []
            for (session, csrf), invitation in zip(pages, invitations, strict=True):
                started = time.monotonic()
                answer = session.post(
                    f"{base}/p/{invitation.link_token()}/",
                    data={**form_data(), "csrfmiddlewaretoken": csrf},
                    headers={"Referer": f"{base}/p/{invitation.link_token()}/"},
                    timeout=30,
                )
                latencies.append(time.monotonic() - started)
                # The answer is saved and the contact sees the thank-you page (302 → 200).
                assert answer.status_code == 200, answer.text[:1000]
                assert [r.status_code for r in answer.history] == [302]
            figure("Redis down: answers posted", len(latencies))
            figure("Redis down: slowest answer (s)", f"{max(latencies):.3f}")
            figure("Redis down: median answer (s)", f"{statistics.median(latencies):.3f}")
            assert all(seconds < 2 for seconds in latencies), latencies

            assert Response.objects.filter(invitation__wave=wave).count() == CONTACTS
            # The work is recorded with each response; nothing could be handed to a worker.
            assert _receipts().count() == CONTACTS
            assert set(_receipts().values_list("status", flat=True)) == {Status.PENDING}
            assert sink.messages() == []

            time.sleep(3)  # Redis stays away a little longer; the worker keeps trying
            services.redis_start()
            back = time.monotonic()
            beat = start_beat("faults-redis-beat", every=5, **mail)
            wait_for(
                lambda: set(_receipts().values_list("status", flat=True)) == {Status.SENT},
                "every receipt sent after Redis came back",
                timeout=180,
                process=worker,
            )
            figure(
                "Redis down: receipts sent after Redis returned (s)",
                f"{time.monotonic() - back:.1f}",
            )
            assert worker.poll() is None, "the worker survived the outage"
        finally:
            outputs = stop(web, worker, beat)

        expected = {
            r.message_id: r.acknowledgement.contact.email
            for r in _receipts().select_related("acknowledgement__contact")
        }
        copies = sink.copies_by_message_id()
        # One receipt per response, to the right person, counted by Message-ID.
        assert len(expected) == CONTACTS
        assert set(copies) == set(expected)
        assert set(copies.values()) == {1}
        for message in sink.messages():
            assert message["To"].addresses[0].addr_spec == expected[message["Message-ID"]]
        if worker is not None:
            assert "Traceback" not in outputs.get(worker.pid, ""), outputs[worker.pid][-4000:]
