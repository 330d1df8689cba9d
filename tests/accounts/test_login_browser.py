"""In a real browser: an administrator whose role requires two-factor is sent to set it up at
first login, scans (here: reads) the secret, confirms with a code and lands in the app; the
next login asks for a code. Set RAPPORT_SCREENSHOTS=/some/dir to keep pictures of each step."""

import os
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.accounts.test_mfa import totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("RAPPORT_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _fresh_code(secret: str) -> str:
    # A code typed in the last moments of its 30 seconds would expire on the way to the server.
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.5)
    return totp(secret)


def test_required_two_factor_is_set_up_at_first_login_then_asked_for(
    page, administrator, password, settings
):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    page.goto("/login/")
    _shot(page, "01-login")
    page.get_by_label("Email").fill(administrator.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()

    # Sent to set up TOTP; it first asks to confirm the password.
    page.wait_for_url(lambda url: "/auth/reauthenticate/" in url)
    assert page.get_by_text("Your role requires two-factor authentication").is_visible()
    _shot(page, "02-reauthenticate")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: reverse("mfa_activate_totp") in url)
    _shot(page, "03-activate")
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(_fresh_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: reverse("mfa_activate_totp") not in url)
    _shot(page, "04-after-activation")

    page.goto(reverse("accounts:list"))
    assert page.url.endswith(reverse("accounts:list"))
    page.goto(reverse("audit_log"))
    _shot(page, "05-audit-log")
    assert page.get_by_role("cell", name="Signed in").first.is_visible()

    # Log out; the next login asks for a code.
    page.get_by_role("button", name=administrator.full_name).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: "/login/" in url)
    page.get_by_label("Email").fill(administrator.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: reverse("mfa_authenticate") in url)
    _shot(page, "06-code")
    # The code used to activate is spent; wait for the next one if it is still current.
    spent = totp(secret)
    while totp(secret) == spent:
        time.sleep(1)
    page.get_by_label("Code").fill(_fresh_code(secret))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/auth/" not in url and "/login/" not in url)
    page.get_by_role("button", name="Administration").click()
    assert page.get_by_role("link", name="Audit log").is_visible()
