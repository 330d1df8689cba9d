"""What an integration syncing with Rapport relies on: pages, `updated_since`, ETags, ordering
and a per-token throttle."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact
from tests.api.conftest import pointers, problem
from tests.factories import AccountFactory, AccountLogEntryFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_lists_come_in_pages_that_never_overlap(api_for, manager, account):
    for n in range(7):
        ContactFactory(account=account, name="Same name", email=f"p{n}@client.example")
    client = api_for(manager)

    first = client.get("/api/v1/contacts/", {"page_size": 3}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert first["count"] == 7
    ids = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert len(ids) == len(set(ids)) == 7
    assert third["next"] is None


def test_page_size_is_capped(api_for, manager, account):
    response = api_for(manager).get("/api/v1/contacts/", {"page_size": 10_000})

    assert response.status_code == 200


def test_a_page_past_the_end_is_not_found(api_for, manager, account):
    response = api_for(manager).get("/api/v1/accounts/", {"page": 99})

    assert response.status_code == 404
    assert problem(response)["status"] == 404


def test_updated_since_returns_only_what_changed(api_for, manager, account, time_machine):
    time_machine.move_to(timezone.now() - timedelta(days=2))
    old = ContactFactory(account=account, name="Old")
    time_machine.move_to(timezone.now() + timedelta(days=2))
    cutoff = timezone.now()
    new = ContactFactory(account=account, name="New")
    client = api_for(manager)

    changed = client.get("/api/v1/contacts/", {"updated_since": cutoff.isoformat()}).json()
    Contact.objects.filter(pk=old.pk).update(updated_at=timezone.now())
    changed_again = client.get("/api/v1/contacts/", {"updated_since": cutoff.isoformat()}).json()

    assert [row["id"] for row in changed["results"]] == [new.pk]
    assert {row["id"] for row in changed_again["results"]} == {old.pk, new.pk}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts/",
        "/api/v1/contacts/",
        "/api/v1/influence-links/",
        "/api/v1/questionnaires/",
        "/api/v1/programmes/",
        "/api/v1/waves/",
        "/api/v1/responses/",
        "/api/v1/changemap-contacts/",
        "/api/v1/changemap-accounts/",
    ],
)
def test_every_list_takes_updated_since(api_for, manager, path):
    client = api_for(manager)
    future = (timezone.now() + timedelta(days=1)).isoformat()

    assert client.get(path, {"updated_since": future}).json()["count"] == 0
    bad = client.get(path, {"updated_since": "last tuesday"})
    assert bad.status_code == 400
    assert pointers(bad) == {"updated_since"}


def test_the_account_log_takes_updated_since(api_for, manager, account):
    AccountLogEntryFactory(account=account)
    client = api_for(manager)
    future = (timezone.now() + timedelta(days=1)).isoformat()

    assert client.get(f"/api/v1/accounts/{account.pk}/log/").json()["count"] == 1
    assert (
        client.get(f"/api/v1/accounts/{account.pk}/log/", {"updated_since": future}).json()["count"]
        == 0
    )


def test_an_unchanged_resource_answers_304(api_for, manager, account):
    client = api_for(manager)
    first = client.get(f"/api/v1/accounts/{account.pk}/")
    etag = first["ETag"]

    again = client.get(f"/api/v1/accounts/{account.pk}/", HTTP_IF_NONE_MATCH=etag)
    account.industry = "Changed"
    account.save()
    changed = client.get(f"/api/v1/accounts/{account.pk}/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "private" in first["Cache-Control"]


def test_lists_have_etags_too(api_for, manager, account):
    client = api_for(manager)
    etag = client.get("/api/v1/accounts/")["ETag"]

    assert client.get("/api/v1/accounts/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    AccountFactory(owner=manager)
    assert client.get("/api/v1/accounts/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_what_one_user_sees_never_matches_anothers_etag(
    api_for, manager, executive, account, foreign_account
):
    etag = api_for(manager).get("/api/v1/accounts/")["ETag"]

    assert api_for(executive).get("/api/v1/accounts/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_ordering_by_a_listed_field(api_for, manager):
    AccountFactory(owner=manager, name="Beta")
    AccountFactory(owner=manager, name="Alpha")

    names = [
        row["name"]
        for row in api_for(manager)
        .get("/api/v1/accounts/", {"ordering": "-name"})
        .json()["results"]
    ]

    assert names == ["Beta", "Alpha"]


def test_each_token_has_its_own_request_budget(api_for, manager, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "3/min"},
    }
    busy, other = api_for(manager), api_for(manager)

    statuses = [busy.get("/api/v1/accounts/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    throttled = busy.get("/api/v1/accounts/")
    assert problem(throttled)["status"] == 429
    assert int(throttled["Retry-After"]) > 0
    assert other.get("/api/v1/accounts/").status_code == 200


@pytest.mark.parametrize(
    "moment",
    ["0914-08-10T04:23:59-17:24", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"],
)
def test_any_offset_or_extreme_moment_is_answered_not_crashed_on(api_for, manager, moment):
    response = api_for(manager).get("/api/v1/programmes/", {"updated_since": moment})

    assert response.status_code in (200, 400)
