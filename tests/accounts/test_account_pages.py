"""Account list filters, create/edit rights and forms, and the account log."""

import pytest
from django.urls import reverse

from accounts.models import Account, AccountLogEntry
from tests.factories import AccountFactory, SegmentFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def _names(response):
    return [a.name for a in response.context["page"].object_list]


def test_list_searches_filters_and_sorts(client_for, executive):
    retail = SegmentFactory(name="Retail")
    nordics = TerritoryFactory(name="Nordics")
    AccountFactory(name="Bluepeak Retail", segment=retail, tier="key")
    AccountFactory(name="Fjord Seafood", territory=nordics, tier="growth")
    AccountFactory(name="Atlas Mining", status="lost", tier="growth")
    client = client_for(executive)
    url = reverse("accounts:list")

    assert _names(client.get(url, {"q": "seafood"})) == ["Fjord Seafood"]
    assert _names(client.get(url, {"segment": retail.pk})) == ["Bluepeak Retail"]
    assert _names(client.get(url, {"territory": nordics.pk})) == ["Fjord Seafood"]
    assert _names(client.get(url, {"tier": "growth"})) == ["Atlas Mining", "Fjord Seafood"]
    assert _names(client.get(url, {"status": "lost"})) == ["Atlas Mining"]
    assert _names(client.get(url, {"sort": "-name"})) == [
        "Fjord Seafood",
        "Bluepeak Retail",
        "Atlas Mining",
    ]


def test_list_paginates_and_keeps_filters_in_page_links(client_for, executive):
    AccountFactory.create_batch(25, tier="key")
    response = client_for(executive).get(reverse("accounts:list"), {"tier": "key", "page": 2})
    assert len(response.context["page"].object_list) == 5
    assert b"tier=key&amp;page=1" in response.content


def test_owner_and_administrator_may_edit_team_and_executive_may_not(
    client_for, account, manager, teammate, executive, administrator
):
    url = reverse("accounts:edit", args=[account.pk])
    assert client_for(manager).get(url).status_code == 200
    assert client_for(administrator).get(url).status_code == 200
    assert client_for(teammate).get(url).status_code == 403
    assert client_for(executive).get(url).status_code == 403


def test_only_administrators_create_accounts(client_for, manager, executive):
    assert client_for(manager).get(reverse("accounts:create")).status_code == 403
    assert client_for(executive).get(reverse("accounts:create")).status_code == 403


def _account_form(owner_user, **overrides):
    data = {
        "name": "Kestrel Aerospace",
        "tier": "strategic",
        "status": "active",
        "owner": owner_user.pk,
        "seasonal_peak_months": ["3", "11"],
        "international_presence": "UK, France",
    }
    data.update(overrides)
    return data


def test_administrator_creates_an_account_with_team(client_for, administrator, manager, teammate):
    response = client_for(administrator).post(
        reverse("accounts:create"), _account_form(manager, team=[teammate.pk, manager.pk])
    )
    account = Account.objects.get(name="Kestrel Aerospace")
    assert response.status_code == 302
    assert response.url == account.get_absolute_url()
    assert account.seasonal_peak_months == [3, 11]
    # The owner is the owner, not also a team member.
    assert list(account.team.all()) == [teammate]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "northwind logistics"}, "name"),  # duplicate, whatever the case
        ({"tier": "platinum"}, "tier"),
        ({"owner": ""}, "owner"),
        ({"seasonal_peak_months": ["13"]}, "seasonal_peak_months"),
    ],
)
def test_bad_account_input_shows_field_errors_and_saves_nothing(
    client_for, administrator, account, manager, overrides, field
):
    before = Account.objects.count()
    response = client_for(administrator).post(
        reverse("accounts:create"), _account_form(manager, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert b"is-invalid" in response.content
    assert Account.objects.count() == before


def test_account_cannot_become_its_own_grandparent(client_for, administrator, manager):
    parent = AccountFactory(name="Global", owner=manager)
    child = AccountFactory(name="Regional", owner=manager, parent=parent)
    response = client_for(administrator).post(
        reverse("accounts:edit", args=[parent.pk]),
        _account_form(manager, name="Global", parent=child.pk),
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    parent.refresh_from_db()
    assert parent.parent is None


def test_owner_edits_and_changes_the_team(client_for, account, manager, teammate, outsider):
    response = client_for(manager).post(
        reverse("accounts:edit", args=[account.pk]),
        _account_form(manager, name="Northwind Logistics", team=[outsider.pk]),
    )
    assert response.status_code == 302
    assert list(account.team.all()) == [outsider]


def test_team_member_adds_a_success_story_to_the_log(client_for, account, teammate):
    response = client_for(teammate).post(
        reverse("accounts:log_add", args=[account.pk]),
        {
            "kind": "success_story",
            "title": "Go-live on time",
            "body": "Thanks from ops.",
            "occurred_on": "2026-11-02",
        },
    )
    assert response.status_code == 302
    entry = account.log_entries.get()
    assert (entry.kind, entry.author, str(entry.occurred_on)) == (
        "success_story",
        teammate,
        "2026-11-02",
    )


def test_log_is_shown_newest_first(client_for, account, manager):
    account.log_entries.create(title="Older", occurred_on="2026-01-01", author=manager)
    account.log_entries.create(title="Newer", occurred_on="2026-06-01", author=manager)
    response = client_for(manager).get(account.get_absolute_url())
    assert [e.title for e in response.context["log_entries"]] == ["Newer", "Older"]


def test_bad_log_entry_shows_errors_and_saves_nothing(client_for, account, manager):
    response = client_for(manager).post(
        reverse("accounts:log_add", args=[account.pk]), {"kind": "gossip", "title": ""}
    )
    assert response.status_code == 400
    assert set(response.context["log_form"].errors) >= {"kind", "title"}
    assert not AccountLogEntry.objects.exists()


def test_executive_reads_but_does_not_write_the_log(client_for, account, executive):
    response = client_for(executive).post(
        reverse("accounts:log_add", args=[account.pk]), {"kind": "note", "title": "Hi"}
    )
    assert response.status_code == 403


def test_user_text_is_escaped(client_for, account, manager):
    account.log_entries.create(
        title="<script>alert(1)</script>", body="<b>bold</b>", author=manager
    )
    content = client_for(manager).get(account.get_absolute_url()).content
    assert b"<script>alert(1)</script>" not in content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in content
