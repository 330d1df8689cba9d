"""Shared fixtures: the five roles every scoping test uses, and a browser for journeys.

`manager` owns `account`; `teammate` is on its team; `outsider` is a manager of another team
with an account of their own; `executive` and `administrator` see everything.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Role
from tests.factories import AccountFactory, AccountMembershipFactory, UserFactory

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def password():
    return settings.RAPPORT_DEMO_PASSWORD


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@example.com", full_name="Maya Manager")


@pytest.fixture
def teammate(db):
    return UserFactory(email="teammate@example.com", full_name="Tariq Teammate")


@pytest.fixture
def outsider(db):
    return UserFactory(email="outsider@example.com", full_name="Olga Outsider")


@pytest.fixture
def executive(db):
    return UserFactory(email="exec@example.com", full_name="Eve Executive", role=Role.EXECUTIVE)


@pytest.fixture
def administrator(db):
    return UserFactory(email="admin@example.com", full_name="Ada Admin", role=Role.ADMINISTRATOR)


@pytest.fixture
def account(manager, teammate):
    account = AccountFactory(name="Northwind Logistics", owner=manager)
    AccountMembershipFactory(account=account, user=teammate)
    return account


@pytest.fixture
def foreign_account(outsider):
    return AccountFactory(name="Foreign Foods", owner=outsider)


@pytest.fixture
def client_for(client):
    """Log a user into the test client: `client_for(manager).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


# Tests that need committed data (browser, real workers) use
# `pytest.mark.django_db(transaction=True, serialized_rollback=True)`: a plain transactional test
# flushes every table afterwards, including reference rows that migrations create (buying roles).

# --- Browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _playwright_browser():
    if not CHROMIUM.exists():
        if ON_CI:
            pytest.fail(f"Chromium is missing at {CHROMIUM}; .ci/run installs Debian's chromium.")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread for the whole session;
    # Django would then refuse the (synchronous, safe) ORM calls that tests and fixtures make.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser, live_server):
    """A fresh browser page; `page.base_url` is the live server's address."""
    context = _playwright_browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def login_page(page, password):
    """Log in through the real login form and return the page."""

    def login(user):
        page.goto("/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return login


@pytest.fixture(scope="session", autouse=True)
def _close_chart_browser():
    # PDF tests start kaleido's Chromium; close it while the interpreter can still do it quietly.
    yield
    from reports import charts

    charts.stop_server()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s per user; tests create many users and never attack the hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
