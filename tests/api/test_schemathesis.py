"""Schemathesis against /api/schema/: generated requests to every operation, as a manager with
a personal token, find no server error and no answer that breaks the schema."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from tests.factories import ContactFactory, InfluenceLinkFactory
from tests.pulses.factories import (
    GOOD_ANSWERS,
    PulseProgrammeFactory,
    WaveFactory,
    response_with_answers,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded from the app itself, as a client would: GET /api/schema/ (no database involved).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def wsgi_requests(db, settings):
    # Generated requests come fast: the throttle is tested on its own (test_sync.py).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "100000/min"},
    }
    # Requests go straight to the WSGI app, inside the test's transaction: like Django's test
    # client, keep the end of a request from closing that transaction's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(wsgi_requests, manager, account):
    """A manager's token, and something to see: people, links, a wave and a response."""
    greta = ContactFactory(account=account, name="Greta", roles=["decision_maker"])
    InfluenceLinkFactory(source=greta, target=ContactFactory(account=account))
    wave = WaveFactory(programme=PulseProgrammeFactory(accounts=[account]))
    response_with_answers(wave=wave, contact=greta, answers=GOOD_ANSWERS)
    _token, raw = api_token_create(user=manager, name="schemathesis")
    return raw


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})

    case.validate_response(response, checks=CHECKS)
