"""/api/v1/accounts/: scoping through the token, team and log, edits by who may edit."""

import pytest

from accounts.models import Account
from tests.api.conftest import pointers, problem
from tests.factories import AccountFactory, AccountLogEntryFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_managers_token_lists_only_their_accounts(api_for, manager, account, foreign_account):
    response = api_for(manager).get("/api/v1/accounts/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [account.pk]


def test_another_managers_account_is_not_found(api_for, manager, foreign_account):
    response = api_for(manager).get(f"/api/v1/accounts/{foreign_account.pk}/")

    assert response.status_code == 404
    assert problem(response)["status"] == 404


def test_an_account_shows_its_owner_and_team(api_for, teammate, account):
    body = api_for(teammate).get(f"/api/v1/accounts/{account.pk}/").json()

    assert body["owner"]["email"] == "manager@example.com"
    assert [member["user"]["email"] for member in body["team"]] == ["teammate@example.com"]


def test_executives_see_every_account(api_for, executive, account, foreign_account):
    body = api_for(executive).get("/api/v1/accounts/").json()

    assert body["count"] == 2


def test_the_owner_edits_their_account(api_for, manager, account):
    response = api_for(manager).patch(
        f"/api/v1/accounts/{account.pk}/", {"industry": "Freight", "seasonal_peak_months": [12, 11]}
    )

    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.industry == "Freight"
    assert account.seasonal_peak_months == [11, 12]


def test_the_team_reads_but_does_not_edit(api_for, teammate, account):
    response = api_for(teammate).patch(f"/api/v1/accounts/{account.pk}/", {"industry": "Freight"})

    assert response.status_code == 403
    assert problem(response)["title"] == "Not allowed"


def test_an_outsider_cannot_edit_what_they_cannot_see(api_for, outsider, account):
    response = api_for(outsider).patch(f"/api/v1/accounts/{account.pk}/", {"industry": "X"})

    assert response.status_code == 404


def test_administrators_create_accounts_with_a_team(api_for, administrator, manager, teammate):
    response = api_for(administrator).post(
        "/api/v1/accounts/",
        {"name": "Helios Energy", "owner_id": manager.pk, "team_ids": [teammate.pk, manager.pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    account = Account.objects.get(name="Helios Energy")
    assert list(account.team.all()) == [teammate]  # the owner is never on their own team
    assert response.json()["team"][0]["user"]["id"] == teammate.pk


def test_managers_do_not_create_accounts(api_for, manager):
    response = api_for(manager).post("/api/v1/accounts/", {"name": "X", "owner_id": manager.pk})

    assert response.status_code == 403


def test_unknown_fields_and_wrong_types_are_field_errors(api_for, manager, account):
    response = api_for(manager).patch(
        f"/api/v1/accounts/{account.pk}/",
        {"industri": "typo", "seasonal_peak_months": ["June", 13], "tier": 5},
        format="json",
    )

    assert response.status_code == 400
    body = problem(response)
    assert body["type"].endswith("/invalid")
    assert pointers(response) == {
        "#/industri",
        "#/seasonal_peak_months/0",
        "#/seasonal_peak_months/1",
        "#/tier",
    }


def test_a_parent_out_of_sight_does_not_exist(api_for, manager, account, foreign_account):
    response = api_for(manager).patch(
        f"/api/v1/accounts/{account.pk}/", {"parent": foreign_account.pk}
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/parent"}


def test_the_log_is_read_by_those_who_see_the_account(api_for, teammate, outsider, account):
    AccountLogEntryFactory(account=account, title="Kick-off")

    assert api_for(teammate).get(f"/api/v1/accounts/{account.pk}/log/").json()["count"] == 1
    assert api_for(outsider).get(f"/api/v1/accounts/{account.pk}/log/").status_code == 404


def test_the_team_adds_to_the_log_mentioning_people(api_for, teammate, account):
    contact = ContactFactory(account=account)

    response = api_for(teammate).post(
        f"/api/v1/accounts/{account.pk}/log/",
        {"kind": "meeting", "title": "QBR", "mentioned_contact_ids": [contact.pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["mentioned_contacts"] == [contact.pk]
    assert response.json()["author"]["email"] == "teammate@example.com"


def test_executives_read_the_log_but_do_not_write_it(api_for, executive, account):
    response = api_for(executive).post(
        f"/api/v1/accounts/{account.pk}/log/", {"kind": "note", "title": "Hello"}
    )

    assert response.status_code == 403


def test_people_of_another_account_cannot_be_mentioned(api_for, manager, account, foreign_account):
    stranger = ContactFactory(account=foreign_account)

    response = api_for(manager).post(
        f"/api/v1/accounts/{account.pk}/log/",
        {"kind": "note", "title": "Hi", "mentioned_contact_ids": [stranger.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/mentioned_contact_ids"}


def test_the_account_list_does_not_grow_queries_with_accounts(
    api_for, manager, django_assert_max_num_queries
):
    for _ in range(8):
        account = AccountFactory(owner=manager)
        account.memberships.create(user=UserFactory())
    client = api_for(manager)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/accounts/")

    assert response.json()["count"] == 8


def test_users_list_our_people(api_for, manager, teammate):
    body = api_for(manager).get("/api/v1/users/").json()

    assert {row["email"] for row in body["results"]} >= {
        "manager@example.com",
        "teammate@example.com",
    }
