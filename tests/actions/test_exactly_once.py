"""Exactly one receipt per response, at most one reply: retries, duplicate tasks, two beats at
once, and a broker that is down when the answers arrive. (A worker killed mid-send, in real
worker processes: test_worker_killed_mid_send.py.)"""

import contextlib
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from actions.models import AcknowledgementEmail
from actions.services.acknowledgement_emails import acknowledgement_email_send
from actions.services.acknowledgements import acknowledgements_sweep
from actions.services.outbox import MAX_SEND_ATTEMPTS
from actions.tasks import send_acknowledgement_email, sweep_acknowledgements
from config.celery import app
from pulses.models import Response
from tests.actions.broker import broker
from tests.actions.factories import answer
from tests.factories import ContactFactory
from tests.pulses.engine import (  # noqa: F401 - fixtures
    SinkHandler,
    eager_celery_fixture,
    send_by_smtp_fixture,
    smtp_server_fixture,
)
from tests.pulses.factories import InvitationFactory, WaveFactory, form_data

Kind, Status = AcknowledgementEmail.Kind, AcknowledgementEmail.Status
COMMITTED = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class FlakySink(SinkHandler):
    """Answers "451 try again later" to the first `failures` messages, then accepts."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.failures:
            self.failures -= 1
            return "451 4.3.0 Temporary local problem"
        return await super().handle_DATA(server, session, envelope)


def _receipt(response: Response) -> AcknowledgementEmail:
    return AcknowledgementEmail.objects.get(acknowledgement__response=response, kind=Kind.RECEIPT)


@pytest.mark.django_db
def test_a_receipt_retried_after_temporary_failures_arrives_once(
    account, send_by_smtp, smtp_server
):
    flaky = FlakySink(failures=2)
    smtp_server.handler = flaky  # each new SMTP connection is answered by this handler
    receipt = _receipt(answer(account=account))

    # In this process, as a worker runs it: the task's retries happen now, without back-off.
    result = send_acknowledgement_email.apply(args=[receipt.pk], throw=False)
    assert result.successful()
    # The same message delivered again, and a retry racing it: nothing more is sent.
    send_acknowledgement_email.apply(args=[receipt.pk], throw=False)
    assert acknowledgement_email_send(email_id=receipt.pk) is False

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts, receipt.last_error) == (Status.SENT, 3, "")
    [message] = flaky.messages()
    assert message["Message-ID"] == receipt.message_id


@pytest.mark.django_db
def test_a_receipt_that_keeps_failing_is_marked_failed_after_the_last_try(account, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nobody listens
    receipt = _receipt(answer(account=account))

    send_acknowledgement_email.apply(args=[receipt.pk], throw=False)

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == (Status.FAILED, MAX_SEND_ATTEMPTS)
    assert "ConnectionRefusedError" in receipt.last_error
    assert acknowledgements_sweep(now=timezone.now() + timedelta(days=1)) != [receipt.pk]


@pytest.mark.django_db
def test_a_retry_that_is_waiting_is_not_queued_again_by_the_sweeper(account, send_by_smtp):
    send_by_smtp.data_reply = "451 4.3.0 Temporary local problem"
    receipt = _receipt(answer(account=account))
    with pytest.raises(Exception, match="451"):
        acknowledgement_email_send(email_id=receipt.pk)
    assert acknowledgements_sweep() == []  # the task's own retry will send it
    assert acknowledgements_sweep(now=timezone.now() + timedelta(minutes=16)) == [receipt.pk]


@pytest.mark.django_db
def test_the_same_send_task_delivered_three_times_sends_one_receipt(account, eager_celery):
    receipt = _receipt(answer(account=account))
    for _ in range(3):
        send_acknowledgement_email.delay(receipt.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_beat_running_twice_queues_nothing_twice(account):
    later = timezone.now() + timedelta(hours=49)
    for _ in range(3):
        answer(account=account)
    first = acknowledgements_sweep(now=later)
    assert acknowledgements_sweep(now=later) == []
    assert acknowledgements_sweep(now=later + timedelta(minutes=1)) == []
    # Receipts whose task was lost, and the three escalations, each handed out once.
    assert sorted(
        AcknowledgementEmail.objects.filter(pk__in=first).values_list("kind", flat=True)
    ) == (["escalation"] * 3 + ["receipt"] * 3)
    assert AcknowledgementEmail.objects.count() == 6


@COMMITTED
def test_two_beats_and_duplicate_tasks_at_the_same_moment_send_each_email_once(account):
    for _ in range(4):
        answer(account=account)
    later = timezone.now() + timedelta(hours=49)
    start = threading.Barrier(2)
    handed_out: list[list[int]] = []
    errors: list[BaseException] = []

    def beat():
        try:
            start.wait()
            ids = acknowledgements_sweep(now=later)
            handed_out.append(ids)
            start.wait()
            # Each process now also runs every send, as if every task were delivered twice.
            for email_id in AcknowledgementEmail.objects.values_list("pk", flat=True):
                acknowledgement_email_send(email_id=email_id)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    first, second = handed_out
    assert not set(first) & set(second)
    assert len(first) + len(second) == AcknowledgementEmail.objects.count() == 8
    message_ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(message_ids) == len(set(message_ids)) == 8
    assert set(AcknowledgementEmail.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.fixture
def unreachable_broker():
    """Point publishing at a Redis that is not there; call the fixture to get the real broker
    back (it comes back at the end of the test in any case)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(broker("redis://127.0.0.1:1/0", {}))
        yield stack.close


@COMMITTED
def test_with_the_broker_down_the_answers_are_saved_at_once_and_the_receipt_follows(
    client, account, unreachable_broker, eager_celery
):
    invitation = InvitationFactory(wave=WaveFactory(), contact=ContactFactory(account=account))
    url = reverse("pulses:survey", args=[invitation.link_token()])

    app.conf.task_always_eager = False  # a real publish, to a broker that does not answer
    started = time.monotonic()
    page = client.post(url, form_data())
    elapsed = time.monotonic() - started
    app.conf.task_always_eager = True

    assert page.status_code == 302
    assert elapsed < 3
    response = Response.objects.get(contact=invitation.contact)
    receipt = _receipt(response)
    assert (receipt.status, receipt.queued_at) == (Status.PENDING, None)
    assert mail.outbox == []

    unreachable_broker()  # the broker is back
    sweep_acknowledgements.delay()  # the next beat tick
    sweep_acknowledgements.delay()  # and the one after
    [message] = mail.outbox
    assert message.to[0].endswith(f"<{invitation.contact.email}>")
    receipt.refresh_from_db()
    assert receipt.status == Status.SENT
