"""Single sign-on by OpenID Connect, against a real (tiny) provider served on 127.0.0.1.

The test plays the browser: it follows our redirect to the provider's authorization endpoint,
which answers with a code for whoever `provider.identity` says is signed in there, and brings
the code back to our callback; Rapport then talks to the provider's token and userinfo
endpoints over HTTP itself.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from core.models import AuditEvent
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROVIDER_ID = "acme"


@pytest.fixture
def provider(settings):
    with running_provider() as provider:
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "APPS": [
                    {
                        "provider_id": PROVIDER_ID,
                        "name": "Acme SSO",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": provider.url,
                            "token_auth_method": "client_secret_post",
                            "oauth_pkce_enabled": True,
                        },
                    }
                ]
            }
        }
        yield provider


def _sso_login(client, provider, *, claims: dict, next_url: str = ""):
    """Press "Log in with Acme SSO", sign in at the provider, come back. Returns our answer."""
    provider.identity = claims
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    data = {"process": "login"}
    if next_url:
        data["next"] = next_url
    to_provider = client.post(login_url, data)
    assert to_provider.status_code == 302
    assert to_provider.url.startswith(provider.url + "/authorize?")
    at_provider = requests.get(to_provider.url, allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def test_without_configuration_there_is_no_sso_button(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in with" not in response.content
    assert b'name="password"' in response.content


def test_with_configuration_the_login_page_offers_the_provider(client, provider):
    response = client.get(reverse("login"))
    assert b"Log in with Acme SSO" in response.content
    # The password form stays for local accounts.
    assert b'name="password"' in response.content


def test_an_existing_user_signs_in_by_verified_email_and_is_connected(client, provider, manager):
    claims = {"sub": "acme-42", "email": "Manager@Example.com", "email_verified": True}
    response = _sso_login(client, provider, claims=claims)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == manager.pk
    assert client.get(response.url, follow=True).status_code == 200
    # Rapport really went to the token endpoint, with the PKCE verifier.
    assert provider.token_requests[-1]["grant_type"] == "authorization_code"
    assert provider.token_requests[-1]["code_verifier"]
    account = SocialAccount.objects.get(user=manager)
    assert (account.provider, account.uid) == (PROVIDER_ID, "acme-42")
    # The local password still works: connecting does not wipe it.
    manager.refresh_from_db()
    assert manager.has_usable_password()
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.SIGNED_IN, actor=manager)
    assert event.detail["method"] == "sso"


def test_the_second_sso_login_finds_the_connected_account_even_after_an_email_change(
    client, provider, manager
):
    _sso_login(
        client, provider, claims={"sub": "acme-7", "email": manager.email, "email_verified": True}
    )
    client.logout()
    response = _sso_login(
        client,
        provider,
        claims={"sub": "acme-7", "email": "maya.renamed@example.com", "email_verified": True},
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == manager.pk


def test_sso_lands_on_the_page_asked_for(client, provider, manager, account):
    wanted = reverse("accounts:detail", args=[account.pk])
    claims = {"sub": "acme-1", "email": manager.email, "email_verified": True}
    response = _sso_login(client, provider, claims=claims, next_url=wanted)
    assert response.url == wanted


def test_an_unknown_address_cannot_sign_up(client, provider, django_user_model):
    users_before = django_user_model.objects.count()
    claims = {"sub": "acme-9", "email": "stranger@example.com", "email_verified": True}
    response = _sso_login(client, provider, claims=claims)

    assert response.status_code == 200
    assert b"No Rapport account for this sign-in" in response.content
    assert "_auth_user_id" not in client.session
    assert django_user_model.objects.count() == users_before


def test_an_unverified_address_does_not_reach_the_user_who_has_it(client, provider, manager):
    claims = {"sub": "acme-3", "email": manager.email, "email_verified": False}
    response = _sso_login(client, provider, claims=claims)

    assert b"No Rapport account for this sign-in" in response.content
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.filter(user=manager).exists()


def test_a_deactivated_user_cannot_sign_in_by_sso(client, provider):
    user = UserFactory(email="gone@example.com", is_active=False)
    claims = {"sub": "acme-5", "email": user.email, "email_verified": True}
    response = _sso_login(client, provider, claims=claims)
    assert "_auth_user_id" not in client.session
    assert b"No Rapport account" in response.content


def test_a_forged_callback_without_a_matching_state_is_refused(client, provider, manager):
    provider.identity = {"sub": "acme-42", "email": manager.email, "email_verified": True}
    at_provider = requests.get(
        f"{provider.url}/authorize",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid email",
            "redirect_uri": "http://testserver/auth/oidc/acme/login/callback/",
            "state": "not-a-state-we-issued",
        },
        allow_redirects=False,
        timeout=5,
    )
    back = urlsplit(at_provider.headers["Location"])
    response = client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert "_auth_user_id" not in client.session
    assert b"Single sign-on failed" in response.content


def test_sso_sessions_are_not_held_to_the_local_totp_requirement(
    client, provider, administrator, settings
):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    claims = {"sub": "acme-adm", "email": administrator.email, "email_verified": True}
    _sso_login(client, provider, claims=claims)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 200
