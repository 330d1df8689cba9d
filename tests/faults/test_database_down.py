"""PostgreSQL away for a minute under web (gunicorn), a worker and beat: the web answers 503
with a friendly page, the worker backs off and keeps its work, beat keeps ticking, and when
the database returns every receipt goes out once and the web serves again.

Receipts for five answers wait in Redis when PostgreSQL stops; the worker meets the outage
when it takes them, retries each with back-off (config/celery.py, ResilientTask) and sends
them once the database is back. Five more contacts try to answer during the outage (503: the
answer is not taken, and the page says so) and succeed afterwards.
"""

import re
import time

import pytest
import requests
from django.db import connections

from actions.models import AcknowledgementEmail
from pulses.models import Response
from tests.factories import ContactFactory
from tests.faults.processes import (
    Sink,
    figure,
    output,
    start_beat,
    start_web,
    start_worker,
    stop,
    wait_for,
)
from tests.pulses.factories import InvitationFactory, WaveFactory, form_data

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OUTAGE_SECONDS = 60
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FRIENDLY = "We'll be right back"
Status = AcknowledgementEmail.Status


def _receipts():
    return AcknowledgementEmail.objects.filter(kind=AcknowledgementEmail.Kind.RECEIPT)


class Contact:
    """One contact in a browser: their own session, address and CSRF token."""

    def __init__(self, base: str, invitation, number: int):
        self.url = f"{base}/p/{invitation.link_token()}/"
        self.session = requests.Session()
        self.session.headers["X-Forwarded-For"] = f"203.0.113.{number + 1}"
        page = self.session.get(self.url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        self.csrf = CSRF.search(page.text).group(1)

    def send(self, address: str | None = None) -> requests.Response:
        headers = {"Referer": self.url}
        if address:
            headers["X-Forwarded-For"] = address
        return self.session.post(
            self.url,
            data={**form_data(), "csrfmiddlewaretoken": self.csrf},
            headers=headers,
            timeout=30,
        )


def test_a_minute_without_postgresql_answers_503_and_loses_nothing(account, services):
    wave = WaveFactory()
    invitations = [
        InvitationFactory(wave=wave, contact=ContactFactory(account=account)) for _ in range(10)
    ]
    early, late = invitations[:5], invitations[5:]
    web = worker = beat = None
    with Sink() as sink:
        mail = {"EMAIL_URL": sink.url}
        try:
            web, base = start_web(**mail)
            beat = start_beat("faults-db-beat", every=5, **mail)
            wait_for(
                lambda: "Sending due task" in output(beat),
                "beat ticking",
                timeout=60,
                process=beat,
            )
            contacts = [Contact(base, invitation, n) for n, invitation in enumerate(invitations)]
            for contact in contacts[:5]:
                assert contact.send().status_code == 200  # saved; its receipt waits in Redis
            assert _receipts().count() == 5

            services.postgres_stop()
            stopped = time.monotonic()
            # The worker starts into the outage and takes the five receipts from Redis.
            worker = start_worker("faults-db", **mail)
            answers, latencies, iteration = [], [], 0
            while time.monotonic() - stopped < OUTAGE_SECONDS:
                iteration += 1
                contact = contacts[5 + iteration % 5]
                started = time.monotonic()
                page = contact.session.get(contact.url, timeout=30)
                sent = contact.send(address=f"198.51.100.{iteration % 250 + 1}")
                health = requests.get(f"{base}/healthz", timeout=30)
                api = requests.get(
                    f"{base}/api/v1/accounts/",
                    headers={"Authorization": "Bearer rap_" + "x" * 43},
                    timeout=30,
                )
                latencies.append((time.monotonic() - started) / 4)
                answers += [page, sent, health, api]
                time.sleep(2)
            figure("PostgreSQL down: requests during the outage", len(answers))
            figure("PostgreSQL down: statuses", sorted({a.status_code for a in answers}))
            figure("PostgreSQL down: slowest 503 (s, mean of 4)", f"{max(latencies):.3f}")
            assert {a.status_code for a in answers} == {503}
            for page in answers[::4] + answers[1::4]:
                assert FRIENDLY in page.text
                assert "Traceback" not in page.text
                assert page.headers["Retry-After"] == "30"
            assert answers[3].headers["Content-Type"] == "application/problem+json"
            for process in (web, worker, beat):
                assert process.poll() is None, "every process rides the outage out"

            services.postgres_start()
            back = time.monotonic()
            connections.close_all()  # this process's own connection died with the server
            # The web serves again as soon as the database answers; the late five answer now.
            wait_for(
                lambda: contacts[5].session.get(contacts[5].url, timeout=10).status_code == 200,
                "the web serving again",
                timeout=60,
            )
            figure("PostgreSQL down: web serving again after (s)", f"{time.monotonic() - back:.1f}")
            for contact in contacts[5:]:
                assert contact.send().status_code == 200
            wait_for(
                lambda: (
                    _receipts().count() == 10
                    and set(_receipts().values_list("status", flat=True)) == {Status.SENT}
                ),
                "every receipt sent after PostgreSQL came back",
                timeout=180,
                process=worker,
            )
            figure(
                "PostgreSQL down: every receipt sent after (s)", f"{time.monotonic() - back:.1f}"
            )
            assert beat.poll() is None
        finally:
            outputs = stop(web, worker, beat)

    worker_log = outputs[worker.pid]
    backoffs = [
        int(s) for s in re.findall(r"database is unavailable .*; retrying in (\d+) s", worker_log)
    ]
    figure("PostgreSQL down: worker retries while the database was away", len(backoffs))
    figure("PostgreSQL down: worker back-off steps (s)", sorted(set(backoffs)))
    # The worker backed off (growing waits), rather than failing the work or spinning.
    assert {5, 10, 20} <= set(backoffs), worker_log[-5000:]
    assert Response.objects.filter(invitation__in=early + late).count() == 10
    expected = {
        r.message_id: r.acknowledgement.contact.email
        for r in _receipts().select_related("acknowledgement__contact")
    }
    copies = sink.copies_by_message_id()
    assert set(copies) == set(expected)
    assert set(copies.values()) == {1}
