"""Fault tests stop and start servers, so they run only under `python -m tests.faults.run`
(`make faults`), which gives them private PostgreSQL and Redis servers; `make test` skips
collecting them."""

import os

import pytest
from django.db import connections

from tests.faults.services import FaultServices

if os.environ.get("RAPPORT_FAULTS") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def services():
    """The private servers; whatever a test stopped is running again after it."""
    servers = FaultServices.from_environment()
    yield servers
    if not servers.postgres_running():
        servers.postgres_start()
        connections.close_all()  # this process's connection died with the server
    if not servers.redis_running():
        servers.redis_start()
