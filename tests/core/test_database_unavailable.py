"""With the database unreachable, pages answer a friendly 503 (the API a problem detail) and
say when to try again. The real outage (PostgreSQL stopped for a minute, with web, worker and
beat running) is tests/faults/test_database_down.py."""

import pytest
from django.db import connection
from django.test import Client


@pytest.fixture
def database_away(django_db_blocker):
    """This process's connection points at a database that is not there (a closed port for
    PostgreSQL, a folder that does not exist for SQLite) until the test ends."""
    saved = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-rapport-folder/gone.sqlite3"
        else:
            connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def test_a_page_that_needs_the_database_answers_a_friendly_503(database_away):
    page = Client(raise_request_exception=False).get("/p/some-link-token/")
    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    assert page["Cache-Control"] == "no-store"
    body = page.content.decode()
    assert "We'll be right back" in body
    assert "can't reach its database" in body
    assert "Traceback" not in body


def test_the_api_answers_a_503_problem_detail(database_away):
    answer = Client(raise_request_exception=False).get(
        "/api/v1/accounts/", headers={"authorization": "Bearer rap_" + "x" * 43}
    )
    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 503
    assert answer["Retry-After"] == "30"


def test_other_errors_still_answer_500(db, settings):
    # A bug is not an outage: the ordinary error page, not the "right back" one.
    settings.ROOT_URLCONF = "tests.core.broken_urls"
    page = Client(raise_request_exception=False).get("/broken/")
    assert page.status_code == 500
    assert "We'll be right back" not in page.content.decode()
