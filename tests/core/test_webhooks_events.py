"""The events that exist now reach the registered endpoints once the write commits:
`response.submitted` (by link or recorded by staff) and `contact.left`; and the administrators'
page to register endpoints and replay deliveries."""

import pytest
from django.urls import reverse

from contacts.services import contact_mark_left, contact_update
from core.models import WebhookDelivery, WebhookEndpoint
from core.services.webhooks import webhook_endpoint_create
from pulses.services.responses import response_record, response_submit
from tests.factories import ContactFactory
from tests.pulses.factories import GOOD_ANSWERS, InvitationFactory, WaveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(administrator):
    endpoint, _secret = webhook_endpoint_create(
        url="https://crm.example/hooks",
        events=["response.submitted", "contact.left"],
        created_by=administrator,
    )
    return endpoint


@pytest.fixture
def greta(account):
    return ContactFactory(account=account, name="Greta")


def run_webhook_hooks(callbacks):
    """The commit, for the webhook hooks only (other apps queue their own work on commit)."""
    hooks = [c for c in callbacks if c.__module__ == "core.services.webhooks"]
    assert hooks
    for hook in hooks:
        hook()


def deliveries(event):
    return list(WebhookDelivery.objects.filter(event=event))


def test_a_contact_who_leaves_is_announced_once_committed(
    endpoint, greta, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contact_mark_left(contact=greta, actor=manager)
        assert deliveries("contact.left") == []  # nothing before the commit

    run_webhook_hooks(callbacks)  # the hook records the delivery (its task is queued after)
    [delivery] = deliveries("contact.left")
    assert delivery.payload["event"] == "contact.left"
    assert delivery.payload["data"]["id"] == greta.pk
    assert delivery.payload["data"]["status"] == "left"
    assert delivery.payload["data"]["account"] == greta.account_id


def test_only_the_move_to_left_is_announced(
    endpoint, greta, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contact_update(contact=greta, fields={"job_title": "CEO"}, actor=manager)

    assert [c for c in callbacks if c.__module__ == "core.services.webhooks"] == []


def test_marking_left_through_the_api_is_announced(
    endpoint, greta, manager, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(manager).patch(
            f"/api/v1/contacts/{greta.pk}/", {"status": "left"}, content_type="application/json"
        )
    run_webhook_hooks(callbacks)

    assert len(deliveries("contact.left")) == 1


def test_answers_by_link_are_announced_with_the_response(
    endpoint, greta, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(contact=greta)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = response_submit(invitation=invitation, answers=GOOD_ANSWERS, language="en")
    run_webhook_hooks(callbacks)

    [delivery] = deliveries("response.submitted")
    data = delivery.payload["data"]
    assert data["id"] == response.pk
    assert data["contact"] == greta.pk
    assert data["source"] == "survey"
    assert data["score"] == 8
    assert data["answers"]["keep_doing"] == GOOD_ANSWERS["keep_doing"]


def test_answers_recorded_by_staff_are_announced(
    endpoint, greta, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response_record(
            wave=WaveFactory(),
            contact=greta,
            recorded_by=manager,
            source="interview",
            answers={"relationship": 5},
        )
    run_webhook_hooks(callbacks)

    [delivery] = deliveries("response.submitted")
    assert delivery.payload["data"]["recorded_by"]["id"] == manager.pk


def test_with_no_endpoint_nothing_is_recorded(greta, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_mark_left(contact=greta, actor=manager)

    assert not WebhookDelivery.objects.exists()


def test_a_broken_hook_never_breaks_the_write(
    greta, manager, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("the webhook code has a bug")

    monkeypatch.setattr("core.services.webhooks.webhook_event_publish", broken)

    with django_capture_on_commit_callbacks(execute=True):
        contact_mark_left(contact=greta, actor=manager)

    greta.refresh_from_db()
    assert greta.has_left


# --- The administrators' page ---------------------------------------------------------------------


def test_administrators_register_an_endpoint_and_see_its_secret_once(client_for, administrator):
    client = client_for(administrator)

    page = client.post(
        reverse("webhooks"),
        {"url": "https://crm.example/in", "description": "CRM", "events": ["contact.left"]},
    )

    assert page.status_code == 200
    secret = page.context["created"]["secret"]
    assert secret.startswith("whsec_")
    assert secret in page.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["contact.left"]
    assert secret not in client.get(reverse("webhooks")).content.decode()
    assert secret not in client.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()


def test_an_endpoint_with_a_bad_address_is_refused(client_for, administrator):
    page = client_for(administrator).post(
        reverse("webhooks"), {"url": "ftp://crm.example/in", "events": ["contact.left"]}
    )

    assert page.status_code == 200
    assert page.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_page_lists_deliveries_with_status_and_errors(
    client_for, administrator, endpoint
):
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="contact.left",
        payload={"id": "x"},
        status=WebhookDelivery.Status.FAILED,
        attempts=8,
        last_error="HTTP 503 Service Unavailable",
    )

    page = client_for(administrator).get(reverse("webhook_detail", args=[endpoint.pk]))

    content = page.content.decode()
    assert "HTTP 503 Service Unavailable" in content
    assert "Failed" in content
    assert "Replay" in content


def test_an_administrator_pauses_an_endpoint(client_for, administrator, endpoint):
    client_for(administrator).post(reverse("webhook_toggle", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert not endpoint.is_active


@pytest.mark.parametrize("role", ["manager", "executive"])
def test_webhooks_are_for_administrators_only(client_for, endpoint, role, request):
    client = client_for(request.getfixturevalue(role))
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="contact.left", payload={})

    assert client.get(reverse("webhooks")).status_code == 403
    assert client.get(reverse("webhook_detail", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhook_delivery_replay", args=[delivery.pk])).status_code == 403
    assert client.post(reverse("webhook_toggle", args=[endpoint.pk])).status_code == 403
