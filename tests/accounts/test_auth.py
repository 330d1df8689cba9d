"""Logging in and out, lockout after repeated failures, password change and reset by email."""

import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(reverse("login"), {"login": email, "password": password})


def test_login_with_email_in_any_case_lands_an_account_manager_on_their_inbox(
    client, manager, account, password
):
    response = _login(client, "Manager@Example.com", password)
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.request["PATH_INFO"] == reverse("actions:inbox")
    assert b"Your inbox" in response.content


def test_administrators_land_on_all_accounts(client, administrator, account, password):
    response = client.get(_login(client, administrator.email, password).url, follow=True)
    assert response.request["PATH_INFO"] == reverse("accounts:list")
    assert b"Northwind Logistics" in response.content


def test_wrong_password_shows_an_error(client, manager):
    response = _login(client, manager.email, "not-it")
    assert response.status_code == 200
    assert b"The email address and/or password you specified are not correct." in response.content


def test_repeated_failures_lock_the_login_out_even_with_the_right_password(
    client, manager, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, manager.email, "wrong-password")
    response = _login(client, manager.email, password)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_of_one_login_leaves_another_untouched(
    client, manager, teammate, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, manager.email, "wrong-password")
    assert _login(client, teammate.email, password).status_code == 302


def test_logout_is_a_post_and_ends_the_session(client_for, manager):
    client = client_for(manager)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("accounts:list")).status_code == 302


def test_deactivated_user_cannot_log_in(client, manager, password):
    manager.is_active = False
    manager.save()
    response = _login(client, manager.email, password)
    assert response.url == reverse("account_inactive")
    assert "_auth_user_id" not in client.session
    assert b"This account is inactive" in client.get(response.url).content


def test_password_reset_by_email_end_to_end(client, manager):
    response = client.post(reverse("password_reset"), {"email": manager.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert message.subject == "Reset your Rapport password"
    html = message.alternatives[0][0]
    assert "Choose a new password" in html
    link = re.search(r"https?://[^/]+(/reset/\S+/)", message.body).group(1)

    page = client.get(link, follow=True)
    assert page.context["validlink"]
    new_password = "a-brand-new-passphrase-42"
    response = client.post(
        page.request["PATH_INFO"], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password(new_password)


def test_password_reset_for_unknown_address_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change_rejects_a_weak_password(client_for, manager, password):
    response = client_for(manager).post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors


def test_only_administrators_reach_user_management(client_for, manager, executive, administrator):
    url = reverse("admin:accounts_user_changelist")
    assert client_for(administrator).get(url).status_code == 200
    for user in (manager, executive):
        response = client_for(user).get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response.url


def test_the_admin_login_form_is_not_a_way_around_two_factor(client, administrator, password):
    # Django admin's own login form knows nothing of TOTP: it only ever sends people to ours.
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/admin/"
    client.post("/admin/login/", {"username": administrator.email, "password": password})
    assert "_auth_user_id" not in client.session
