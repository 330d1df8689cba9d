"""The relationship map: the JSON it draws from, its text version, and who may see it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import BuyingRole, Contact
from contacts.relationship_map import MapLink, MapPerson, map_elements, map_outline
from tests.factories import ContactFactory, InfluenceLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def buying_roles(db):
    # Created by a data migration; a browser test's flush may have removed them since.
    for position, (code, label) in enumerate(BuyingRole.Code.choices):
        BuyingRole.objects.get_or_create(code=code, defaults={"label": label, "position": position})


def map_json(client, account):
    response = client.get(reverse("contacts:map_data", args=[account.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def nodes_by_name(data):
    return {node["data"]["name"]: node for node in data["nodes"]}


def edges_of_kind(data, kind):
    return [edge["data"] for edge in data["edges"] if edge["data"]["kind"] == kind]


def test_each_person_is_a_node_with_what_their_card_shows(client_for, manager, account):
    owner = UserFactory(full_name="Maya Patel")
    boss = ContactFactory(
        account=account,
        name="Anna Berg",
        job_title="Chief Financial Officer",
        influence=5,
        owner=owner,
        roles=["decision_maker", "budget_holder"],
    )

    data = map_json(client_for(manager), account)

    assert data["counts"] == {"people": 1, "left": 0, "links": 0}
    node = nodes_by_name(data)["Anna Berg"]
    assert node["data"] == {
        "id": f"p{boss.pk}",
        "pk": boss.pk,
        "name": "Anna Berg",
        "title": "Chief Financial Officer",
        "department": "Operations",
        "roles": [
            {"code": "decision_maker", "label": "Decision maker", "abbr": "DM"},
            {"code": "budget_holder", "label": "Budget holder", "abbr": "BH"},
        ],
        "owner": "Maya Patel",
        "influence": 5,
        "status": "active",
        "status_label": "Active",
        "left": False,
        "left_on": None,
        "key": True,
        "category": None,
        "url": reverse("contacts:detail", args=[boss.pk]),
    }
    assert node["classes"] == "person key"


def test_key_people_are_decision_makers_budget_holders_champions_or_highly_influential(
    client_for, manager, account
):
    ContactFactory(account=account, name="Champion", influence=1, roles=["champion"])
    ContactFactory(account=account, name="Heavyweight", influence=4, roles=["user"])
    ContactFactory(account=account, name="Quiet User", influence=3, roles=["user"])
    ContactFactory(account=account, name="Unknown", influence=None)

    nodes = nodes_by_name(map_json(client_for(manager), account))

    assert {name for name, node in nodes.items() if node["data"]["key"]} == {
        "Champion",
        "Heavyweight",
    }
    assert nodes["Unknown"]["data"]["influence"] is None


def test_reports_to_edges_run_from_the_manager_down_to_each_report(client_for, manager, account):
    boss = ContactFactory(account=account, name="Boss")
    first = ContactFactory(account=account, name="First", reports_to=boss)
    second = ContactFactory(account=account, name="Second", reports_to=boss)
    ContactFactory(account=account, name="Under First", reports_to=first)

    data = map_json(client_for(manager), account)

    tree = {(edge["source"], edge["target"]) for edge in edges_of_kind(data, "reports_to")}
    under_first = nodes_by_name(data)["Under First"]["data"]["id"]
    assert tree == {
        (f"p{boss.pk}", f"p{first.pk}"),
        (f"p{boss.pk}", f"p{second.pk}"),
        (f"p{first.pk}", under_first),
    }


def test_influence_links_are_a_second_layer_of_edges_with_kind_and_strength(
    client_for, manager, account
):
    anna = ContactFactory(account=account, name="Anna")
    ben = ContactFactory(account=account, name="Ben")
    cleo = ContactFactory(account=account, name="Cleo")
    InfluenceLinkFactory(source=anna, target=ben, kind="influences", strength=5)
    InfluenceLinkFactory(source=ben, target=cleo, kind="allies_with", strength=2)
    InfluenceLinkFactory(source=cleo, target=anna, kind="in_conflict_with", strength=4)

    data = map_json(client_for(manager), account)

    links = {
        (edge["kind"], edge["source"], edge["target"], edge["strength"], edge["label"])
        for edge in (element["data"] for element in data["edges"])
        if edge["kind"] != "reports_to"
    }
    assert links == {
        ("influences", f"p{anna.pk}", f"p{ben.pk}", 5, "influences"),
        ("allies_with", f"p{ben.pk}", f"p{cleo.pk}", 2, "allies with"),
        ("in_conflict_with", f"p{cleo.pk}", f"p{anna.pk}", 4, "in conflict with"),
    }
    assert data["counts"]["links"] == 3
    assert not edges_of_kind(data, "reports_to")


def test_people_who_left_stay_on_the_map_flagged_with_their_lines(client_for, manager, account):
    boss = ContactFactory(account=account, name="Boss")
    gone = ContactFactory(
        account=account,
        name="Gone",
        reports_to=boss,
        status=Contact.Status.LEFT,
        left_on="2026-03-31",
    )
    InfluenceLinkFactory(source=gone, target=boss)

    data = map_json(client_for(manager), account)

    node = nodes_by_name(data)["Gone"]
    assert node["data"]["left"] is True
    assert node["data"]["left_on"] == "2026-03-31"
    assert node["data"]["status_label"] == "Left the company"
    assert "left" in node["classes"].split()
    assert nodes_by_name(data)["Boss"]["data"]["left"] is False
    assert [edge["data"]["left"] for edge in data["edges"]] == [True, True]
    assert data["counts"]["left"] == 1


def test_outsider_gets_404_for_the_map_and_its_data(client_for, outsider, account):
    ContactFactory(account=account, name="Secret Person")
    client = client_for(outsider)

    for name in ("contacts:map", "contacts:map_data"):
        response = client.get(reverse(name, args=[account.pk]))
        assert response.status_code == 404
        assert b"Secret Person" not in response.content


def test_anonymous_visitors_are_sent_to_log_in(client, account):
    response = client.get(reverse("contacts:map_data", args=[account.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_executive_sees_every_accounts_map(client_for, executive, account):
    ContactFactory(account=account, name="Anna Berg")
    client = client_for(executive)

    assert "Anna Berg" in nodes_by_name(map_json(client, account))
    page = client.get(reverse("contacts:map", args=[account.pk]))
    assert page.status_code == 200


def test_map_data_takes_the_same_number_of_queries_however_many_people(
    client_for, manager, account
):
    client = client_for(manager)

    def queries_for_map():
        with CaptureQueriesContext(connection) as captured:
            map_json(client, account)
        return len(captured)

    boss = ContactFactory(account=account, roles=["decision_maker"])
    ContactFactory(account=account, reports_to=boss, roles=["user"])
    few = queries_for_map()

    for index in range(12):
        person = ContactFactory(
            account=account,
            reports_to=boss,
            owner=UserFactory(),
            roles=["user", "influencer"] if index % 2 else ["champion"],
        )
        InfluenceLinkFactory(source=person, target=boss)
    many = queries_for_map()

    assert many == few
    # Session, user, account, people, their roles, links.
    assert many <= 6


def test_map_page_points_the_script_at_the_data_and_has_a_text_version(
    client_for, manager, account
):
    boss = ContactFactory(account=account, name="Anna Berg", job_title="CEO")
    ContactFactory(account=account, name="Ben Holm", reports_to=boss)
    ContactFactory(account=account, name="Cleo Dahl", status=Contact.Status.LEFT)

    response = client_for(manager).get(reverse("contacts:map", args=[account.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-url="{reverse("contacts:map_data", args=[account.pk])}"' in html
    assert "contacts/relationship-map.js" in html
    assert "vendor/cytoscape-3.34.4/cytoscape.min.js" in html
    assert "<script>" not in html  # the CSP allows no inline script
    assert 'id="map-show-left"' in html
    # The text version nests reports under their manager and links to each person.
    assert [row.person.name for row in response.context["outline"]] == [
        "Anna Berg",
        "Ben Holm",
        "Cleo Dahl",
    ]
    assert f'href="{reverse("contacts:detail", args=[boss.pk])}"' in html


def test_empty_account_invites_adding_or_importing_people(client_for, manager, account):
    response = client_for(manager).get(reverse("contacts:map", args=[account.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "No people yet — add people or import a file" in html
    assert f'href="{reverse("contacts:import", args=[account.pk])}"' in html
    assert 'id="relationship-map"' not in html
    assert map_json(client_for(manager), account) == {
        "nodes": [],
        "edges": [],
        "counts": {"people": 0, "left": 0, "links": 0},
    }


# --- The pure functions, without the database ---------------------------------------------------


def person(pk, name, reports_to=None, **fields):
    return MapPerson(id=pk, name=name, reports_to_id=reports_to, **fields)


def test_edges_to_people_outside_the_map_are_dropped_not_left_dangling():
    people = [person(1, "Anna"), person(2, "Ben", reports_to=99)]
    links = [
        MapLink(id=7, source_id=1, target_id=2, kind="influences", strength=3),
        MapLink(id=8, source_id=1, target_id=42, kind="allies_with", strength=3),
    ]

    elements = map_elements(people=people, links=links)

    assert [edge["data"]["id"] for edge in elements["edges"]] == ["l7"]


def test_outline_nests_reports_and_closes_every_list_it_opens():
    people = [
        person(1, "Boss"),
        person(2, "Head", reports_to=1),
        person(3, "Staff", reports_to=2),
        person(4, "Peer", reports_to=1),
        person(5, "Loner"),
    ]

    rows = map_outline(people=people)

    assert [(row.person.name, row.depth, row.has_reports, len(row.closes)) for row in rows] == [
        ("Boss", 0, True, 0),
        ("Head", 1, True, 0),
        ("Staff", 2, False, 1),
        ("Peer", 1, False, 1),
        ("Loner", 0, False, 0),
    ]
    opened = sum(row.has_reports for row in rows)
    assert opened == sum(len(row.closes) for row in rows)


def test_outline_keeps_everyone_even_in_a_reporting_loop():
    people = [person(1, "A", reports_to=2), person(2, "B", reports_to=1), person(3, "C")]

    rows = map_outline(people=people)

    assert sorted(row.person.name for row in rows) == ["A", "B", "C"]
    assert sum(row.has_reports for row in rows) == sum(len(row.closes) for row in rows)
