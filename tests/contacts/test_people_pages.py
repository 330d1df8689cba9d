"""People table, person page, create/edit with field errors, coverage, and who may do what."""

import pytest
from django.urls import reverse

from contacts.models import Contact, InfluenceLink
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InfluenceLinkFactory,
    InternalRelationshipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(account):
    return ContactFactory(
        account=account, name="Anna Berg", department="Finance", roles=["budget_holder"]
    )


def _contact_form(**overrides):
    data = {
        "name": "Ben Ortiz",
        "email": "ben@client.example",
        "job_title": "COO",
        "influence": "5",
        "status": "active",
        "preferred_language": "en",
        "pulse_consent": "opted_in",
        "buying_roles": ["decision_maker", "champion"],
    }
    data.update(overrides)
    return data


def test_people_table_filters_by_role_department_owner_and_status(
    client_for, account, manager, teammate, anna
):
    ContactFactory(
        account=account, name="Carl Dahl", department="IT", owner=teammate, status="left"
    )
    client = client_for(manager)
    url = reverse("contacts:people", args=[account.pk])

    def names(**params):
        return [c.name for c in client.get(url, params).context["contacts"]]

    assert names() == ["Anna Berg", "Carl Dahl"]
    assert names(role="budget_holder") == ["Anna Berg"]
    assert names(department="it") == ["Carl Dahl"]
    assert names(owner=teammate.pk) == ["Carl Dahl"]
    assert names(status="left") == ["Carl Dahl"]
    assert names(q="berg") == ["Anna Berg"]


def test_people_table_query_count_does_not_grow_with_people(client_for, account, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    url = reverse("contacts:people", args=[account.pk])
    ContactFactory(account=account, roles=["user"])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    boss = ContactFactory(account=account)
    for _ in range(10):
        ContactFactory(account=account, roles=["champion", "user"], reports_to=boss)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.parametrize("name", ["contacts:people", "contacts:create", "contacts:map"])
def test_account_pages_of_another_team_answer_404(client_for, outsider, account, name):
    assert client_for(outsider).get(reverse(name, args=[account.pk])).status_code == 404


@pytest.mark.parametrize("name", ["contacts:detail", "contacts:edit", "contacts:leave"])
def test_person_pages_of_another_team_answer_404(client_for, outsider, anna, name):
    assert client_for(outsider).get(reverse(name, args=[anna.pk])).status_code == 404


@pytest.mark.parametrize(
    "name", ["contacts:leave", "contacts:relationship_add", "contacts:link_add"]
)
def test_posting_to_another_teams_person_answers_404_and_changes_nothing(
    client_for, outsider, anna, name
):
    assert (
        client_for(outsider)
        .post(reverse(name, args=[anna.pk]), {"left_on": "2026-01-01"})
        .status_code
        == 404
    )
    anna.refresh_from_db()
    assert anna.status == "active"


def test_removing_another_teams_link_answers_404(client_for, outsider, account):
    link = InfluenceLinkFactory(source=ContactFactory(account=account))
    assert (
        client_for(outsider).post(reverse("contacts:link_delete", args=[link.pk])).status_code
        == 404
    )
    assert InfluenceLink.objects.filter(pk=link.pk).exists()


def test_executive_reads_people_but_cannot_edit(client_for, executive, anna):
    client = client_for(executive)
    assert client.get(anna.get_absolute_url()).status_code == 200
    assert client.get(reverse("contacts:edit", args=[anna.pk])).status_code == 403
    assert (
        client.post(
            reverse("contacts:leave", args=[anna.pk]), {"left_on": "2026-01-01"}
        ).status_code
        == 403
    )


def test_team_member_adds_a_person_with_roles(client_for, account, teammate):
    response = client_for(teammate).post(
        reverse("contacts:create", args=[account.pk]), _contact_form()
    )
    contact = Contact.objects.get(email="ben@client.example")
    assert response.status_code == 302
    assert response.url == contact.get_absolute_url()
    assert contact.role_codes == {"decision_maker", "champion"}
    assert contact.history.latest().history_user == teammate
    assert contact.is_key_person()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ANNA@client.example"}, "email"),
        ({"influence": "9"}, "influence"),
        ({"buying_roles": ["chief_wizard"]}, "buying_roles"),
        ({"budget_currency": "EU1"}, "budget_currency"),
    ],
)
def test_bad_contact_input_shows_field_errors_and_saves_nothing(
    client_for, account, manager, anna, overrides, field
):
    anna.email = "anna@client.example"
    anna.save()
    before = Contact.objects.count()
    response = client_for(manager).post(
        reverse("contacts:create", args=[account.pk]), _contact_form(**overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Contact.objects.count() == before


def test_edit_refuses_a_reporting_loop(client_for, account, manager):
    boss = ContactFactory(account=account, name="Boss")
    report = ContactFactory(account=account, name="Report", reports_to=boss)
    response = client_for(manager).post(
        reverse("contacts:edit", args=[boss.pk]),
        _contact_form(name="Boss", email=boss.email, reports_to=report.pk),
    )
    assert response.status_code == 200
    assert "reporting loop" in response.context["form"].errors["reports_to"][0]


def test_reports_to_choices_are_only_people_of_the_same_account(
    client_for, account, manager, anna, foreign_account
):
    stranger = ContactFactory(account=foreign_account)
    response = client_for(manager).post(
        reverse("contacts:create", args=[account.pk]), _contact_form(reports_to=stranger.pk)
    )
    assert "reports_to" in response.context["form"].errors


def test_person_page_shows_roles_relationships_links_and_escapes_text(
    client_for, account, manager, teammate
):
    contact = ContactFactory(
        account=account, name="<script>alert('x')</script>", notes="<img src=x onerror=alert(1)>"
    )
    other = ContactFactory(account=account, name="Dora Ally")
    InternalRelationshipFactory(contact=contact, user=teammate, strength=4)
    InfluenceLinkFactory(source=contact, target=other, kind="allies_with")
    content = client_for(manager).get(contact.get_absolute_url()).content.decode()
    assert "Tariq Teammate" in content
    assert "Dora Ally" in content
    assert "<script>alert('x')</script>" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_relationship_and_link_forms_save_and_report_errors(
    client_for, account, manager, teammate, anna
):
    client = client_for(manager)
    client.post(
        reverse("contacts:relationship_add", args=[anna.pk]),
        {"rel-user": teammate.pk, "rel-strength": 5},
    )
    assert anna.relationships.get().strength == 5
    other = ContactFactory(account=account)
    client.post(
        reverse("contacts:link_add", args=[anna.pk]),
        {"link-kind": "influences", "link-target": other.pk, "link-strength": 3},
    )
    assert anna.links_out.get().target == other
    response = client.post(
        reverse("contacts:link_add", args=[anna.pk]),
        {"link-kind": "influences", "link-target": ContactFactory().pk, "link-strength": 3},
        follow=True,
    )
    assert "Select a valid choice" in response.content.decode()
    assert anna.links_out.count() == 1


def test_coverage_finds_the_gaps(client_for, manager, account, teammate):
    from django.utils import timezone

    ContactFactory(account=account, name="Unowned Decider", owner=None, roles=["decision_maker"])
    ContactFactory(account=account, name="Known Via Relationship", owner=None)
    InternalRelationshipFactory(
        contact=Contact.objects.get(name="Known Via Relationship"), user=teammate
    )
    ContactFactory(
        account=account,
        name="Gone Champion",
        roles=["champion"],
        status="left",
        left_on=timezone.localdate() - timezone.timedelta(days=10),
    )
    ContactFactory(account=account, name="Owned Person")
    thin = AccountFactory(name="Thin Account", owner=manager)
    ContactFactory(account=thin, name="Only Friend")

    coverage = client_for(manager).get(reverse("contacts:coverage")).context["coverage"]
    assert [c.name for c in coverage["unowned_deciders"]] == ["Unowned Decider"]
    assert [c.name for c in coverage["nobody_knows"]] == ["Unowned Decider"]
    assert [a.name for a in coverage["single_threaded"]] == ["Thin Account"]
    assert [c.name for c in coverage["recent_key_departures"]] == ["Gone Champion"]


def test_coverage_shows_only_my_accounts(client_for, manager, account, foreign_account):
    ContactFactory(
        account=foreign_account, name="Foreign Decider", owner=None, roles=["decision_maker"]
    )
    content = client_for(manager).get(reverse("contacts:coverage")).content.decode()
    assert "Foreign Decider" not in content
