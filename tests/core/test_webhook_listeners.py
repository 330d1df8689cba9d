"""Which events anyone listens to is remembered per process until an endpoint changes.

Every survey submit asks whether `response.submitted` has a listener; the answer comes from a
cache stamp instead of a query, and must never miss an endpoint registered, paused, resumed or
removed since it was remembered.
"""

import pytest
from django.core.cache import cache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

from core.models import WebhookDelivery
from core.services import webhooks
from core.services.webhooks import (
    LISTENERS_STAMP_KEY,
    on_commit_publish,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
)

pytestmark = pytest.mark.django_db
cache_is_shared = webhooks._cache_is_shared  # as it is, before the fixture below stands in


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    # One process: its local-memory cache stands in for the Redis that processes share.
    monkeypatch.setattr(webhooks, "_cache_is_shared", lambda: True)
    cache.clear()
    yield
    cache.clear()


def publish(event, capture):
    with capture(execute=True):
        on_commit_publish(event, lambda: {"id": 1})
    return WebhookDelivery.objects.filter(event=event).count()


def register(administrator, events=("response.submitted",)):
    endpoint, _secret = webhook_endpoint_create(
        url="https://crm.example/hooks", events=list(events), created_by=administrator
    )
    return endpoint


def test_nobody_listening_is_remembered_without_a_query(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0
    with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True):
        on_commit_publish("response.submitted", lambda: {"id": 1})


def test_an_endpoint_registered_after_that_gets_the_next_event(
    administrator, django_capture_on_commit_callbacks
):
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0
    register(administrator)
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 1
    assert publish("contact.left", django_capture_on_commit_callbacks) == 0


def test_pausing_resuming_and_removing_an_endpoint_are_seen_at_once(
    administrator, django_capture_on_commit_callbacks
):
    endpoint = register(administrator)
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 1
    webhook_endpoint_set_active(endpoint=endpoint, is_active=False)
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 1
    webhook_endpoint_set_active(endpoint=endpoint, is_active=True)
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 2
    WebhookDelivery.objects.all().delete()
    endpoint.delete()
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0


def test_a_read_that_straddles_a_change_is_not_kept(
    administrator, django_capture_on_commit_callbacks
):
    # Another process read the endpoints before this one's were committed, and remembered
    # "nobody" under the stamp it saw: the commit stamps anew, so that is read again.
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0
    with django_capture_on_commit_callbacks(execute=True):
        register(administrator)
        webhooks._listened.update(stamp=cache.get(LISTENERS_STAMP_KEY), events=frozenset())
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 1


def test_without_a_cache_the_endpoints_are_read_every_time(
    administrator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "cache", DummyCache("redis-away", {}))
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0
    register(administrator)
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 1


def test_a_cache_of_its_own_per_process_is_not_trusted_for_it(
    administrator, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # Without Redis (local memory), a worker would never see a stamp the web process renewed.
    monkeypatch.setattr(webhooks, "_cache_is_shared", cache_is_shared)
    monkeypatch.setattr(webhooks, "caches", {"default": LocMemCache("its-own", {})})
    assert publish("response.submitted", django_capture_on_commit_callbacks) == 0
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        on_commit_publish("response.submitted", lambda: {"id": 1})
