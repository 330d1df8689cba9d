"""/api/v1/contacts/ and /influence-links/: scoping, roles, reports-to loops, edits, links."""

import pytest

from contacts.models import Contact, InfluenceLink
from tests.api.conftest import pointers, problem
from tests.factories import ContactFactory, InfluenceLinkFactory, InternalRelationshipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def greta(account):
    return ContactFactory(account=account, name="Greta", roles=["decision_maker"])


@pytest.fixture
def stranger(foreign_account):
    return ContactFactory(account=foreign_account, name="Stranger")


def test_a_managers_token_lists_only_their_peoples(api_for, manager, greta, stranger):
    body = api_for(manager).get("/api/v1/contacts/").json()

    assert [row["id"] for row in body["results"]] == [greta.pk]


def test_someone_elses_contact_is_not_found(api_for, manager, stranger):
    response = api_for(manager).get(f"/api/v1/contacts/{stranger.pk}/")

    assert response.status_code == 404
    assert problem(response)["detail"]


def test_a_contact_shows_roles_owner_relationships_and_links(api_for, teammate, account, greta):
    boss = ContactFactory(account=account, name="Boss")
    greta.reports_to = boss
    greta.save()
    InternalRelationshipFactory(contact=greta, user=teammate, strength=4)
    link = InfluenceLinkFactory(source=greta, target=boss, kind="allies_with")

    body = api_for(teammate).get(f"/api/v1/contacts/{greta.pk}/").json()

    assert body["roles"] == ["decision_maker"]
    assert body["owner"]["email"] == "manager@example.com"
    assert body["reports_to"] == boss.pk
    assert body["relationships"] == [
        {
            "user": {"id": teammate.pk, "full_name": teammate.full_name, "email": teammate.email},
            "strength": 4,
            "notes": "",
        }
    ]
    assert body["links_out"][0]["id"] == link.pk
    assert body["links_out"][0]["kind"] == "allies_with"


def test_the_team_adds_a_person(api_for, teammate, account, greta):
    response = api_for(teammate).post(
        "/api/v1/contacts/",
        {
            "account": account.pk,
            "name": "Jonas Weber",
            "email": "JONAS@northwind.example",
            "roles": ["budget_holder"],
            "influence": 4,
            "reports_to": greta.pk,
            "owner_id": teammate.pk,
        },
    )

    assert response.status_code == 201, response.content
    contact = Contact.objects.get(name="Jonas Weber")
    assert contact.email == "jonas@northwind.example"
    assert contact.role_codes == {"budget_holder"}
    assert contact.owner == teammate
    assert contact.history.first().history_user == teammate


def test_people_cannot_be_added_to_an_account_out_of_sight(api_for, manager, foreign_account):
    response = api_for(manager).post(
        "/api/v1/contacts/", {"account": foreign_account.pk, "name": "X", "email": "x@x.example"}
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/account"}


def test_executives_read_people_but_do_not_add_them(api_for, executive, account):
    response = api_for(executive).post(
        "/api/v1/contacts/", {"account": account.pk, "name": "X", "email": "x@x.example"}
    )

    assert response.status_code == 403


def test_a_reporting_loop_is_refused(api_for, manager, account, greta):
    jonas = ContactFactory(account=account, name="Jonas", reports_to=greta)

    response = api_for(manager).patch(f"/api/v1/contacts/{greta.pk}/", {"reports_to": jonas.pk})

    assert response.status_code == 400
    body = problem(response)
    assert [entry["pointer"] for entry in body["errors"]] == ["#/reports_to"]
    assert "loop" in body["errors"][0]["detail"]
    greta.refresh_from_db()
    assert greta.reports_to is None


def test_reporting_to_someone_in_another_account_is_refused(
    api_for, administrator, greta, stranger
):
    response = api_for(administrator).patch(
        f"/api/v1/contacts/{greta.pk}/", {"reports_to": stranger.pk}
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/reports_to"}


def test_wrong_types_and_unknown_fields_are_field_errors(api_for, manager, greta):
    response = api_for(manager).patch(
        f"/api/v1/contacts/{greta.pk}/",
        {"influence": 9, "roles": ["king"], "email": "not-an-address", "favourite_colour": "red"},
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/influence", "#/roles", "#/email", "#/favourite_colour"}


def test_the_same_address_twice_in_an_account_is_refused(api_for, manager, account, greta):
    response = api_for(manager).post(
        "/api/v1/contacts/", {"account": account.pk, "name": "Twin", "email": greta.email.upper()}
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/email"}


def test_people_do_not_move_between_accounts(api_for, administrator, greta, foreign_account):
    response = api_for(administrator).patch(
        f"/api/v1/contacts/{greta.pk}/", {"account": foreign_account.pk}
    )

    assert response.status_code == 400
    assert pointers(response) == {"#/account"}


def test_marking_someone_as_left_keeps_them(api_for, manager, greta):
    response = api_for(manager).patch(f"/api/v1/contacts/{greta.pk}/", {"status": "left"})

    assert response.status_code == 200
    assert response.json()["left_on"] is not None
    assert Contact.objects.get(pk=greta.pk).has_left


def test_contacts_filter_by_role_and_search(api_for, manager, account, greta):
    ContactFactory(account=account, name="Other", roles=["user"])
    client = api_for(manager)

    by_role = client.get("/api/v1/contacts/", {"role": "decision_maker"}).json()
    by_search = client.get("/api/v1/contacts/", {"q": "gre"}).json()

    assert [row["id"] for row in by_role["results"]] == [greta.pk]
    assert [row["id"] for row in by_search["results"]] == [greta.pk]


def test_bad_filter_values_name_the_parameter(api_for, manager):
    response = api_for(manager).get(
        "/api/v1/contacts/", {"updated_since": "yesterday", "account": "x"}
    )

    assert response.status_code == 400
    assert pointers(response) == {"updated_since", "account"}


def test_the_contact_list_does_not_grow_queries_with_people(
    api_for, manager, account, django_assert_max_num_queries
):
    for _ in range(6):
        contact = ContactFactory(account=account, roles=["user"])
        InfluenceLinkFactory(source=contact, target=ContactFactory(account=account))
    client = api_for(manager)

    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/contacts/").json()["count"] == 12


def test_links_between_visible_people_only(api_for, manager, account, greta, stranger):
    mine = InfluenceLinkFactory(source=greta, target=ContactFactory(account=account))
    theirs = InfluenceLinkFactory(source=stranger, target=ContactFactory(account=stranger.account))
    client = api_for(manager)

    listed = client.get("/api/v1/influence-links/").json()

    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert client.get(f"/api/v1/influence-links/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/v1/influence-links/{theirs.pk}/").status_code == 404


def test_the_team_links_and_unlinks_people(api_for, teammate, account, greta):
    jonas = ContactFactory(account=account, name="Jonas")
    client = api_for(teammate)

    created = client.post(
        "/api/v1/influence-links/",
        {"source": greta.pk, "target": jonas.pk, "kind": "in_conflict_with", "strength": 5},
    )
    assert created.status_code == 201, created.content
    deleted = client.delete(f"/api/v1/influence-links/{created.json()['id']}/")

    assert deleted.status_code == 204
    assert not InfluenceLink.objects.exists()


def test_links_to_oneself_or_across_accounts_are_refused(api_for, administrator, greta, stranger):
    client = api_for(administrator)

    to_self = client.post("/api/v1/influence-links/", {"source": greta.pk, "target": greta.pk})
    across = client.post("/api/v1/influence-links/", {"source": greta.pk, "target": stranger.pk})

    assert to_self.status_code == 400
    assert across.status_code == 400
    assert pointers(across) == {"#/target"}
