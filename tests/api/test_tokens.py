"""Personal API tokens: created in the profile and shown once, hashed at rest, last use noted,
revoked → 401; and the session works too."""

import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from tests.api.conftest import problem

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_profile_page_creates_a_token_and_shows_it_once(client_for, manager):
    client = client_for(manager)

    response = client.post("/accounts/profile/api-tokens/", {"name": "CRM sync"})

    assert response.status_code == 200
    raw = response.context["created"]["raw"]
    assert raw.startswith("rap_")
    assert len(raw) == 47
    assert raw in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    listing = client.get("/accounts/profile/api-tokens/").content.decode()
    assert "CRM sync" in listing
    assert raw not in listing  # never shown again
    assert raw[:12] in listing  # recognisable by its first characters


def test_only_a_hash_is_stored(manager):
    token, raw = api_token_create(user=manager, name="Script")

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in ApiToken.objects.values().get(pk=token.pk).values()}


def test_a_token_acts_as_its_user_and_notes_its_last_use(manager, account):
    token, raw = api_token_create(user=manager, name="Script")
    assert token.last_used_at is None

    response = bearer(raw).get("/api/v1/accounts/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timezone.timedelta(seconds=10)


def test_a_revoked_token_answers_401(client_for, manager):
    token, raw = api_token_create(user=manager, name="Script")
    client_for(manager).post(f"/accounts/profile/api-tokens/{token.pk}/revoke/")

    response = bearer(raw).get("/api/v1/accounts/")

    assert response.status_code == 401
    assert problem(response)["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_twice_changes_nothing(manager):
    token, _raw = api_token_create(user=manager, name="Script")

    assert api_token_revoke(token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    assert not api_token_revoke(token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_nobody_revokes_someone_elses_token(client_for, manager, administrator):
    token, raw = api_token_create(user=manager, name="Script")

    response = client_for(administrator).post(f"/accounts/profile/api-tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert bearer(raw).get("/api/v1/accounts/").status_code == 200


def test_tokens_of_deactivated_people_stop_working(manager):
    _token, raw = api_token_create(user=manager, name="Script")
    manager.is_active = False
    manager.save()

    assert bearer(raw).get("/api/v1/accounts/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer rap_notatoken", "Bearer", "Bearer a b", "Bearer x"])
def test_unknown_or_malformed_tokens_answer_401(header, manager):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/v1/accounts/").status_code == 401


def test_no_credentials_answer_401(db):
    response = APIClient().get("/api/v1/accounts/")

    assert response.status_code == 401
    assert problem(response)["title"] == "Not authenticated"


def test_the_web_session_also_works(client_for, manager, account):
    response = client_for(manager).get("/api/v1/accounts/")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_token_page_lists_only_your_own_tokens(client_for, manager, teammate):
    api_token_create(user=teammate, name="Teammate's script")

    page = client_for(manager).get("/accounts/profile/api-tokens/").content.decode()

    assert "Teammate&#x27;s script" not in page
    assert "Teammate's script" not in page


def test_the_user_menu_links_to_api_tokens(client_for, manager):
    page = client_for(manager).get("/accounts/").content.decode()

    assert 'href="/accounts/profile/api-tokens/"' in page
