"""Sessions: a new key at every login, idle and absolute timeouts, and deactivation ends them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _login(client, user, password):
    response = client.post(reverse("login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content
    return response


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_issues_a_new_session_key_and_the_old_one_is_gone(client, manager, password):
    before = client.session  # an anonymous session, as a visitor (or an attacker) would hold
    before["visited"] = True
    before.save()
    old_key = before.session_key
    client.cookies[django_settings.SESSION_COOKIE_NAME] = old_key

    _login(client, manager, password)

    new_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not SessionStore().exists(old_key)
    assert _signed_in(client)


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(
    client, manager, password, settings
):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, manager, password)
        key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        traveller.shift(timedelta(minutes=31))
        response = client.get(reverse("accounts:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not _signed_in(client)
    assert not SessionStore().exists(key)
    page = client.get(response.url)
    assert b"signed out after 30 minutes without activity" in page.content


def test_activity_keeps_a_session_alive_until_the_absolute_limit(
    client, manager, password, settings
):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    settings.SESSION_ABSOLUTE_TIMEOUT = 60 * 60
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, manager, password)
        for _ in range(3):  # 20, 40 and 60 minutes after login: never idle for 30
            traveller.shift(timedelta(minutes=20))
            assert client.get(reverse("accounts:list")).status_code == 200
        traveller.shift(timedelta(minutes=20))  # 80 minutes after login
        response = client.get(reverse("accounts:list"))

    assert response.status_code == 302
    assert not _signed_in(client)
    assert b"signed out 1 hour after logging in" in client.get(response.url).content


def test_the_api_refuses_a_timed_out_browser_session(client, manager, password, settings):
    settings.SESSION_IDLE_TIMEOUT = 10 * 60
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, manager, password)
        assert client.get("/api/v1/accounts/").status_code == 200
        traveller.shift(timedelta(minutes=11))
        assert client.get("/api/v1/accounts/").status_code in (401, 403)


def test_deactivating_in_the_admin_ends_every_session_and_revokes_tokens(
    client, django_app_client_factory, manager, administrator, password
):
    _login(client, manager, password)
    other_browser = django_app_client_factory()
    _login(other_browser, manager, password)
    token, _raw = services.api_token_create(user=manager, name="CRM sync")
    keys = [c.cookies[django_settings.SESSION_COOKIE_NAME].value for c in (client, other_browser)]

    admin = django_app_client_factory()
    admin.force_login(administrator)
    response = admin.post(
        reverse("admin:accounts_user_change", args=[manager.pk]),
        {
            "email": manager.email,
            "full_name": manager.full_name,
            "job_title": "",
            "phone": "",
            "role": manager.role,
            # is_active left out: the checkbox is unticked
        },
    )
    assert response.status_code == 302, response.content

    for key in keys:
        assert not SessionStore().exists(key)
    assert client.get(reverse("accounts:list")).status_code == 302
    assert not _signed_in(client)
    token.refresh_from_db()
    assert token.is_revoked
    assert ApiToken.objects.authenticate(_raw) is None
    change = AuditEvent.objects.get(target_type="user", detail__field="is_active")
    assert change.actor == administrator
    assert change.detail == {"field": "is_active", "from": True, "to": False}


def test_user_deactivate_service_is_idempotent_and_recorded_once(
    client, manager, administrator, password
):
    _login(client, manager, password)
    services.user_deactivate(user=manager, actor=administrator)
    services.user_deactivate(user=manager, actor=administrator)

    manager.refresh_from_db()
    assert not manager.is_active
    assert not _signed_in(client)
    assert AuditEvent.objects.filter(target_type="user", detail__field="is_active").count() == 1


def test_deactivation_also_ends_sessions_allauth_did_not_record(
    client_for, manager, administrator, teammate
):
    # A session made without allauth's login (here force_login; in life, a key cycled by a
    # password change) has no user-session record; it still ends.
    client = client_for(manager)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    from django.test import Client

    colleague = Client()
    colleague.force_login(teammate)
    colleague_key = colleague.cookies[django_settings.SESSION_COOKIE_NAME].value

    ended = services.user_deactivate(user=manager, actor=administrator)

    assert not ended.is_active
    assert not SessionStore().exists(key)
    assert SessionStore().exists(colleague_key)  # nobody else is signed out


@pytest.fixture
def django_app_client_factory():
    """More browsers: each its own cookie jar, as two devices of one person would have."""
    from django.test import Client

    return Client
