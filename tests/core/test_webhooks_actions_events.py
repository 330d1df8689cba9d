"""`action.completed` and `acknowledgement.overdue` reach the registered endpoints once the
write commits, once each, with the resource as the API shows it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action
from actions.services.acknowledgements import acknowledgements_sweep
from actions.services.actions import action_create, action_update
from core.models import WebhookDelivery
from core.services.webhooks import webhook_endpoint_create
from tests.actions.factories import answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(administrator):
    endpoint, _secret = webhook_endpoint_create(
        url="https://crm.example/hooks",
        events=["action.completed", "acknowledgement.overdue"],
        created_by=administrator,
    )
    return endpoint


def webhook_hooks(callbacks):
    return [c for c in callbacks if c.__module__ == "core.services.webhooks"]


def run_webhook_hooks(callbacks):
    """The commit, for the webhook hooks only (other apps queue their own work on commit)."""
    hooks = webhook_hooks(callbacks)
    assert hooks
    for hook in hooks:
        hook()


def deliveries(event):
    return list(WebhookDelivery.objects.filter(event=event))


def _action(account, manager, **fields):
    return action_create(account=account, by=manager, fields={"title": "Fix invoices", **fields})


def test_an_action_moved_to_done_is_announced_once_committed(
    endpoint, account, manager, django_capture_on_commit_callbacks
):
    action = _action(account, manager)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action_update(
            action=action,
            by=manager,
            fields={"status": Action.Status.DONE, "you_said_we_did": "Invoices carry your PO."},
        )
        assert deliveries("action.completed") == []  # nothing before the commit
    run_webhook_hooks(callbacks)

    [delivery] = deliveries("action.completed")
    data = delivery.payload["data"]
    assert delivery.payload["event"] == "action.completed"
    assert data["id"] == action.pk
    assert data["account"] == account.pk
    assert data["status"] == "done"
    assert data["done_at"]
    assert data["you_said_we_did"] == "Invoices carry your PO."


def test_other_changes_and_a_second_done_are_not_announced(
    endpoint, account, manager, django_capture_on_commit_callbacks
):
    action = _action(account, manager, status=Action.Status.DONE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action_update(action=action, by=manager, fields={"title": "Fix the invoices"})
        action_update(action=action, by=manager, fields={"status": Action.Status.DONE})

    assert webhook_hooks(callbacks) == []


def test_completing_through_the_api_is_announced(
    endpoint, account, manager, client_for, django_capture_on_commit_callbacks
):
    action = _action(account, manager)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(manager).patch(
            f"/api/v1/actions/{action.pk}/", {"status": "done"}, content_type="application/json"
        )
    assert response.status_code == 200, response.content
    run_webhook_hooks(callbacks)

    assert len(deliveries("action.completed")) == 1


def test_an_overdue_acknowledgement_is_announced_once_by_the_sweeper(
    endpoint, account, django_capture_on_commit_callbacks, time_machine
):
    acknowledgement = answer(account=account).acknowledgement
    later = timezone.now() + timedelta(hours=49)
    time_machine.move_to(later, tick=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        acknowledgements_sweep(now=later)
    run_webhook_hooks(callbacks)
    with django_capture_on_commit_callbacks(execute=False) as again:
        acknowledgements_sweep(now=later + timedelta(minutes=1))

    assert webhook_hooks(again) == []
    [delivery] = deliveries("acknowledgement.overdue")
    data = delivery.payload["data"]
    assert data["id"] == acknowledgement.pk
    assert data["response"] == acknowledgement.response_id
    assert data["status"] == "pending"
    assert data["overdue"] is True


def test_an_acknowledgement_not_yet_due_is_not_announced(
    endpoint, account, django_capture_on_commit_callbacks
):
    answer(account=account)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        acknowledgements_sweep(now=timezone.now() + timedelta(hours=25))

    assert webhook_hooks(callbacks) == []
