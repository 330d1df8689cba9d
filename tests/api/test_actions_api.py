"""/api/v1/acknowledgements/ (read) and /api/v1/actions/: scoping, filters, CRUD through the
services, the one-focus rule as a problem, executives reading but not writing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action, ActionUpdate
from actions.services.actions import action_create
from tests.actions.factories import answer
from tests.api.conftest import pointers, problem
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def greta(account, manager):
    return ContactFactory(account=account, name="Greta", owner=manager)


@pytest.fixture
def stranger(foreign_account):
    return ContactFactory(account=foreign_account, name="Stranger")


@pytest.fixture
def mine(account, manager):
    return action_create(account=account, by=manager, fields={"title": "Fix invoices"})


@pytest.fixture
def theirs(foreign_account, outsider):
    return action_create(account=foreign_account, by=outsider, fields={"title": "Not yours"})


# --- Acknowledgements -----------------------------------------------------------------------------


def test_a_managers_token_lists_only_acknowledgements_of_their_accounts(
    api_for, manager, greta, stranger
):
    ours = answer(contact=greta).acknowledgement
    answer(contact=stranger)

    body = api_for(manager).get("/api/v1/acknowledgements/").json()

    assert [row["id"] for row in body["results"]] == [ours.pk]
    assert body["results"][0]["owner"]["id"] == manager.pk
    assert body["results"][0]["overdue"] is False


def test_someone_elses_acknowledgement_is_not_found(api_for, manager, stranger):
    theirs = answer(contact=stranger).acknowledgement

    response = api_for(manager).get(f"/api/v1/acknowledgements/{theirs.pk}/")

    assert response.status_code == 404
    assert problem(response)["detail"]


def test_acknowledgements_filter_on_overdue_urgent_status_and_owner(
    api_for, manager, teammate, greta, account, time_machine
):
    late = answer(contact=greta, score=4).acknowledgement
    time_machine.move_to(timezone.now() + timedelta(hours=49), tick=False)
    fresh = answer(contact=ContactFactory(account=account, owner=teammate)).acknowledgement
    client = api_for(manager)

    def ids(query):
        response = client.get(f"/api/v1/acknowledgements/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("overdue=true") == [late.pk]
    assert ids("overdue=false") == [fresh.pk]
    assert ids("urgent=true") == [late.pk]
    assert ids(f"owner={teammate.pk}") == [fresh.pk]
    assert sorted(ids("status=pending")) == sorted([late.pk, fresh.pk])
    assert ids("status=replied") == []


def test_acknowledgements_are_read_only(api_for, manager, greta):
    ours = answer(contact=greta).acknowledgement

    response = api_for(manager).delete(f"/api/v1/acknowledgements/{ours.pk}/")

    assert response.status_code == 405


# --- Actions --------------------------------------------------------------------------------------


def test_a_managers_token_lists_only_their_actions(api_for, manager, mine, theirs):
    body = api_for(manager).get("/api/v1/actions/").json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["updates"][0]["text"] == "Created"


def test_someone_elses_action_is_not_found_for_reading_or_writing(api_for, manager, theirs):
    client = api_for(manager)

    assert client.get(f"/api/v1/actions/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/actions/{theirs.pk}/", {"title": "x"}).status_code == 404
    assert client.delete(f"/api/v1/actions/{theirs.pk}/").status_code == 404
    assert Action.objects.filter(pk=theirs.pk).exists()


def test_actions_since_a_moment(api_for, manager, mine, time_machine):
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    since = timezone.now().isoformat()

    body = api_for(manager).get("/api/v1/actions/", {"updated_since": since}).json()

    assert body["results"] == []


def test_the_team_creates_changes_and_deletes_an_action(api_for, teammate, account, greta):
    client = api_for(teammate)

    created = client.post(
        "/api/v1/actions/",
        {
            "account": account.pk,
            "title": "Invoices that match the POs",
            "owner_id": teammate.pk,
            "priority": 1,
            "source_contact": greta.pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    action = Action.objects.get(pk=created.json()["id"])
    assert action.created_by == teammate
    assert created.json()["owner"]["id"] == teammate.pk

    changed = client.patch(
        f"/api/v1/actions/{action.pk}/",
        {"status": "done", "you_said_we_did": "Invoices carry your PO."},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "done"
    assert changed.json()["done_at"]
    assert changed.json()["updates"][0]["status"] == "done"

    deleted = client.delete(f"/api/v1/actions/{action.pk}/")
    assert deleted.status_code == 204
    assert not Action.objects.filter(pk=action.pk).exists()
    assert not ActionUpdate.objects.filter(action_id=action.pk).exists()


def test_a_second_focus_is_a_problem_naming_the_field(api_for, manager, account):
    action_create(account=account, by=manager, fields={"title": "The focus", "is_focus": True})

    response = api_for(manager).post(
        "/api/v1/actions/",
        {"account": account.pk, "title": "Another", "is_focus": True},
        format="json",
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/is_focus"}
    assert "The focus" in problem(response)["errors"][0]["detail"]
    assert Action.objects.count() == 1


def test_unknown_fields_are_refused(api_for, manager, mine):
    response = api_for(manager).patch(
        f"/api/v1/actions/{mine.pk}/", {"account": mine.account_id, "nonsense": 1}, format="json"
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/nonsense"}


def test_actions_cannot_be_added_to_an_account_out_of_sight(api_for, manager, foreign_account):
    response = api_for(manager).post(
        "/api/v1/actions/", {"account": foreign_account.pk, "title": "x"}, format="json"
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/account"}


def test_executives_read_actions_but_do_not_write_them(api_for, executive, account, mine):
    client = api_for(executive)

    assert client.get(f"/api/v1/actions/{mine.pk}/").status_code == 200
    assert client.patch(f"/api/v1/actions/{mine.pk}/", {"title": "x"}).status_code == 403
    assert client.delete(f"/api/v1/actions/{mine.pk}/").status_code == 403
    created = client.post("/api/v1/actions/", {"account": account.pk, "title": "x"})
    assert created.status_code == 403
    assert problem(created)["status"] == 403
    assert Action.objects.count() == 1


def test_the_action_list_costs_the_same_for_more_actions(
    api_for, manager, account, django_assert_max_num_queries
):
    for number in range(5):
        action_create(account=account, by=manager, fields={"title": f"Action {number}"})
    client = api_for(manager)

    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/actions/").status_code == 200
