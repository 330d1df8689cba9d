"""API clients for the shared roles: `api_for(user)` is a client carrying that user's token."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttle counters live in the cache (Redis on CI): every test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_for(db):
    """`api_for(manager)`: an APIClient that authenticates with a new personal token of theirs."""

    def client_for(user):
        _token, raw = api_token_create(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.raw_token = raw
        return client

    return client_for


def problem(response) -> dict:
    """The problem-details body of an error response, checked for its media type."""
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()


def pointers(response) -> set[str]:
    return {entry.get("pointer") or entry.get("parameter") for entry in problem(response)["errors"]}
