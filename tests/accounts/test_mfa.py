"""TOTP two-factor for local accounts, with recovery codes, and required setup per role.

Codes are computed here from the secret the setup page shows, by RFC 6238 written out in the
test (not allauth's own function), with the clock frozen so a code never straddles a step.
"""

import base64
import hashlib
import hmac
import struct
import time
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.urls import reverse

from core.models import AuditEvent

pytestmark = pytest.mark.django_db

# 5 s into a 30-second step: every request of a test falls in the same step.
FROZEN = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)


def totp(secret: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{value:0{digits}d}"


@pytest.fixture(autouse=True)
def _frozen_clock_and_fresh_cache():
    cache.clear()  # allauth remembers used codes in the cache
    with time_machine.travel(FROZEN, tick=False):
        yield
    cache.clear()


def _password_login(client, user, password):
    return client.post(reverse("login"), {"login": user.email, "password": password})


def _activate_totp(client, password) -> str:
    page = client.get(reverse("mfa_activate_totp"))
    # Changing how you sign in asks for your password again first (allauth's re-authentication).
    assert page.status_code == 302
    assert page.url.startswith(reverse("account_reauthenticate"))
    confirmed = client.post(page.url, {"password": password})
    assert confirmed.status_code == 302
    page = client.get(confirmed.url)
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret.encode() in page.content  # shown, to type into an app without a camera
    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert response.status_code == 302, response.context["form"].errors
    return secret


def test_setting_up_totp_then_logging_in_asks_for_a_code(client, manager, password):
    assert _password_login(client, manager, password).status_code == 302
    secret = _activate_totp(client, password)
    assert Authenticator.objects.filter(user=manager, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(
        user=manager, type=Authenticator.Type.RECOVERY_CODES
    ).exists()
    client.post(reverse("logout"))

    response = _password_login(client, manager, password)
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not in before the second factor
    assert b"Two-factor authentication" in client.get(response.url).content

    response = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == manager.pk
    event = AuditEvent.objects.filter(verb=AuditEvent.Verb.SIGNED_IN, actor=manager).first()
    assert event.detail == {"method": "password", "second_factor": True}


def test_a_wrong_or_reused_code_is_refused(client, manager, password):
    _password_login(client, manager, password)
    secret = _activate_totp(client, password)
    client.post(reverse("logout"))

    _password_login(client, manager, password)
    wrong = f"{(int(totp(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    # The right code works once…
    assert client.post(reverse("mfa_authenticate"), {"code": totp(secret)}).status_code == 302
    client.post(reverse("logout"))
    # …and not again within its 30 seconds (someone who saw it over a shoulder).
    _password_login(client, manager, password)
    response = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_signs_in_once(client, manager, password):
    _password_login(client, manager, password)
    _activate_totp(client, password)
    codes = client.get(reverse("mfa_view_recovery_codes")).context["unused_codes"]
    assert len(codes) == 10
    client.post(reverse("logout"))

    _password_login(client, manager, password)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    _password_login(client, manager, password)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_required_role_must_set_up_totp_before_anything_else(
    client, administrator, password, settings
):
    settings.MFA_REQUIRED_ROLES = ["admin", "executive"]
    _password_login(client, administrator, password)

    for url in (reverse("accounts:list"), reverse("admin:index"), reverse("audit_log")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")
    assert client.get("/api/v1/accounts/").status_code == 403

    _activate_totp(client, password)
    assert client.get(reverse("accounts:list")).status_code == 200


def test_roles_not_listed_are_not_held_to_it(client, manager, password, settings):
    settings.MFA_REQUIRED_ROLES = ["admin", "executive"]
    _password_login(client, manager, password)
    assert client.get(reverse("accounts:list")).status_code == 200


def test_the_two_factor_page_is_in_the_user_menu(client_for, manager):
    response = client_for(manager).get(reverse("accounts:list"))
    assert reverse("mfa_index").encode() in response.content
