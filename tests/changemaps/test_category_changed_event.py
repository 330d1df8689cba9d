"""`changemap.category_changed` is announced once per real change, never for history rebuilds."""

import pytest

from changemaps.services import changemaps_compute
from core.models import WebhookDelivery
from core.services.webhooks import webhook_endpoint_create
from tests.changemaps.conftest import answer, make_wave
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

EVENT = "changemap.category_changed"


@pytest.fixture
def endpoint(administrator):
    endpoint, _secret = webhook_endpoint_create(
        url="https://crm.example/hooks", events=[EVENT], created_by=administrator
    )
    return endpoint


def _events():
    return [d.payload["data"] for d in WebhookDelivery.objects.filter(event=EVENT).order_by("pk")]


def test_a_fall_is_announced_once_and_a_recompute_announces_nothing(
    endpoint, account, django_capture_on_commit_callbacks
):
    anna = ContactFactory(account=account, name="Anna")
    spring, summer = make_wave("April 2026 pulse", 200), make_wave("July 2026 pulse", 100)
    answer(spring, anna, 8)
    answer(summer, anna, 5)

    with django_capture_on_commit_callbacks(execute=True):
        changemaps_compute(waves=[spring])  # first wave: nothing to compare with
    assert _events() == []

    with django_capture_on_commit_callbacks(execute=True):
        changemaps_compute()  # the latest wave, first time: compared with the previous wave
    assert [(e["contact_id"], e["previous_category"], e["category"]) for e in _events()] == [
        (anna.pk, "new", "falling")
    ]
    assert _events()[0]["reason"] == "Fell from 8 to 5 since the April 2026 pulse"

    with django_capture_on_commit_callbacks(execute=True):
        changemaps_compute()
        changemaps_compute(waves="all")
    assert len(_events()) == 1
