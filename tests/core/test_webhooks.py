"""Webhooks against a real HTTP server on loopback: signed, retried with back-off, recorded,
nothing lost while the receiver is down, replayable."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.celery import app
from core.models import WebhookAttempt, WebhookDelivery
from core.services import webhooks
from core.services.webhooks import (
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_event_publish,
    webhook_signature,
    webhook_signature_verify,
)
from core.tasks import deliver_webhook, requeue_webhook_deliveries
from tests.core.webhook_receiver import running_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Tasks run in this process, as a worker would run them; an eager retry runs at once
    (its countdown is skipped), so `no_backoff` keeps the tries due."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    # Propagating would surface Celery's Retry exception instead of running the retry.
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def no_backoff(settings):
    settings.RAPPORT_WEBHOOKS = {
        **settings.RAPPORT_WEBHOOKS,
        "backoff_seconds": 0,
        "max_attempts": 4,
    }


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def endpoint(receiver, administrator):
    endpoint, _secret = webhook_endpoint_create(
        url=receiver.url,
        events=["contact.left"],
        created_by=administrator,
        secret="a-test-secret-of-enough-length",
    )
    return endpoint


def publish(django_capture_on_commit_callbacks, data=None):
    with django_capture_on_commit_callbacks(execute=True):
        return webhook_event_publish(event="contact.left", data=data or {"id": 7})


def test_a_delivery_is_signed_over_timestamp_and_body(
    eager_celery, endpoint, receiver, django_capture_on_commit_callbacks
):
    [delivery_id] = publish(django_capture_on_commit_callbacks, {"id": 7, "name": "Greta"})

    [request] = receiver.requests
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["x-rapport-event"] == "contact.left"
    assert headers["x-rapport-delivery"] == str(delivery.delivery_id)
    assert headers["content-type"] == "application/json"
    timestamp, signature = headers["x-rapport-signature"].split(",")
    t = int(timestamp.removeprefix("t="))
    assert abs(t - time.time()) < 60
    # What a receiver computes, by the README: hex HMAC-SHA256(secret, f"{t}.{body}").
    expected = hmac.new(
        b"a-test-secret-of-enough-length", f"{t}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert signature == f"v1={expected}"
    assert webhook_signature_verify(
        secret="a-test-secret-of-enough-length",
        header=headers["x-rapport-signature"],
        body=request.body,
    )
    envelope = json.loads(request.body)
    assert envelope["id"] == str(delivery.delivery_id)
    assert envelope["event"] == "contact.left"
    assert envelope["data"] == {"id": 7, "name": "Greta"}
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1


def test_a_wrong_secret_or_an_old_timestamp_does_not_verify():
    body = b'{"id":1}'
    header = webhook_signature(secret="right-secret-123456", timestamp=1_700_000_000, body=body)

    assert webhook_signature_verify(
        secret="right-secret-123456", header=header, body=body, now=1_700_000_010
    )
    assert not webhook_signature_verify(
        secret="wrong-secret-123456", header=header, body=body, now=1_700_000_010
    )
    assert not webhook_signature_verify(
        secret="right-secret-123456", header=header, body=body + b" ", now=1_700_000_010
    )
    assert not webhook_signature_verify(
        secret="right-secret-123456", header=header, body=body, now=1_700_000_000 + 3600
    )


def test_failures_are_retried_until_the_receiver_answers(
    eager_celery, no_backoff, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.fail_first = 2

    [delivery_id] = publish(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert len(receiver.requests) == 3
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert delivery.last_error == ""
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    # The same body and delivery id on every try: receivers deduplicate on it.
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["X-Rapport-Delivery"] for r in receiver.requests}) == 1


def test_a_delivery_fails_after_its_last_attempt_and_a_replay_sends_it_again(
    eager_celery,
    no_backoff,
    endpoint,
    receiver,
    django_capture_on_commit_callbacks,
    client_for,
    administrator,
):
    receiver.fail_first = 100

    [delivery_id] = publish(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 4
    assert delivery.last_status_code == 500
    assert "500" in delivery.last_error

    receiver.fail_first = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(administrator).post(f"/webhooks/deliveries/{delivery.pk}/replay/")

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1  # the replay's own series
    assert delivery.attempt_log.count() == 5
    assert len(receiver.requests) == 5


def test_the_back_off_grows_exponentially_and_is_capped(settings):
    settings.RAPPORT_WEBHOOKS = {
        **settings.RAPPORT_WEBHOOKS,
        "backoff_seconds": 30,
        "backoff_max_seconds": 600,
    }

    waits = [webhooks.backoff_seconds(n) for n in range(1, 8)]

    for wait, expected in zip(waits, [30, 60, 120, 240, 480, 600, 600], strict=True):
        assert expected * 0.9 <= wait <= expected * 1.1


def test_a_failed_try_waits_for_its_back_off(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.fail_first = 1
    with django_capture_on_commit_callbacks(execute=False):  # no task: we drive the tries
        [delivery_id] = webhook_event_publish(event="contact.left", data={"id": 1})

    first = webhook_delivery_attempt(delivery_id=delivery_id)
    too_early = webhook_delivery_attempt(delivery_id=delivery_id)

    assert first.status == WebhookDelivery.Status.PENDING
    assert 27 <= first.retry_in <= 33
    assert too_early.status is None  # not due yet: nothing claimed, nothing sent
    assert len(receiver.requests) == 1


def test_a_receiver_that_is_down_loses_nothing(
    eager_celery, no_backoff, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.stop()

    [delivery_id] = publish(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code is None
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error
    assert delivery.payload["data"] == {"id": 7}  # kept whole, ready to be replayed


def test_redirects_are_not_followed(
    eager_celery, no_backoff, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.fail_first = 0
    receiver.status_after = 302

    [delivery_id] = publish(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code == 302
    assert len(receiver.requests) == 4  # only ever the registered URL


def test_only_endpoints_that_receive_the_event_get_it(endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        assert webhook_event_publish(event="response.submitted", data={"id": 1}) == []
        assert len(webhook_event_publish(event="contact.left", data={"id": 1})) == 1


def test_a_paused_endpoint_gets_nothing_new(endpoint, django_capture_on_commit_callbacks):
    webhooks.webhook_endpoint_set_active(endpoint=endpoint, is_active=False)

    with django_capture_on_commit_callbacks(execute=False):
        assert webhook_event_publish(event="contact.left", data={"id": 1}) == []


def test_two_workers_never_send_the_same_try(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        [delivery_id] = webhook_event_publish(event="contact.left", data={"id": 1})
    # The second worker finds the delivery claimed ("sending") by the first.
    assert webhooks._claim(delivery_id)

    assert webhook_delivery_attempt(delivery_id=delivery_id).status is None
    assert receiver.requests == []


def test_lost_task_messages_are_queued_again(
    eager_celery, endpoint, receiver, django_capture_on_commit_callbacks, time_machine
):
    with django_capture_on_commit_callbacks(execute=False):  # the message never reached a worker
        [delivery_id] = webhook_event_publish(event="contact.left", data={"id": 1})

    time_machine.move_to(timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        requeue_webhook_deliveries.delay()

    assert WebhookDelivery.objects.get(pk=delivery_id).status == WebhookDelivery.Status.DELIVERED
    assert len(receiver.requests) == 1


def test_the_task_runs_one_try(endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        [delivery_id] = webhook_event_publish(event="contact.left", data={"id": 1})

    deliver_webhook.apply(args=[delivery_id])

    assert WebhookDelivery.objects.get(pk=delivery_id).status == WebhookDelivery.Status.DELIVERED


def test_only_http_urls_may_be_registered(administrator):
    for url in ["file:///etc/passwd", "ftp://example.com/", "http://user:pw@example.com/"]:
        with pytest.raises(ValidationError):
            webhook_endpoint_create(url=url, events=["contact.left"], created_by=administrator)


def test_a_generated_secret_is_long_and_random(administrator):
    _endpoint, first = webhook_endpoint_create(
        url="https://crm.example/hooks", events=["contact.left"], created_by=administrator
    )
    _endpoint, second = webhook_endpoint_create(
        url="https://crm.example/hooks", events=["contact.left"], created_by=administrator
    )

    assert first != second
    assert len(first) > 40
