"""The acknowledgement SLA: the pure computation on rows, and the page built on it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Acknowledgement
from actions.services.acknowledgements import acknowledgement_in_person
from actions.sla import sla_summary
from tests.actions.factories import answer
from tests.factories import AccountFactory, ContactFactory, UserFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _row(
    pk,
    *,
    owner=(1, "Maya"),
    account=(10, "Northwind"),
    received_hours_ago,
    acknowledged_after=None,
    urgent=False,
):
    received = NOW - received_hours_ago * H
    return {
        "pk": pk,
        "owner_id": owner[0],
        "owner__full_name": owner[1],
        "account_id": account[0],
        "account__name": account[1],
        "contact__name": f"Person {pk}",
        "received_at": received,
        "due_at": received + 48 * H,
        "acknowledged_at": None
        if acknowledged_after is None
        else received + acknowledged_after * H,
        "urgent": urgent,
    }


def test_share_within_48_hours_counts_only_responses_that_are_due_or_done():
    rows = [
        _row(1, received_hours_ago=100, acknowledged_after=10),  # on time
        _row(2, received_hours_ago=100, acknowledged_after=60),  # late
        _row(3, received_hours_ago=72),  # overdue, still open
        _row(4, received_hours_ago=5),  # open, still has 43 hours: counts nowhere yet
        _row(5, received_hours_ago=6, acknowledged_after=2),  # on time
    ]
    overall = sla_summary(rows, now=NOW)["overall"]
    assert overall == {
        "responses": 5,
        "decided": 4,
        "on_time": 2,
        "share_on_time": 50,
        "median_hours": 10.0,
        "open": 2,
        "overdue": 1,
        "urgent_overdue": 0,
    }


def test_acknowledged_exactly_at_48_hours_is_on_time():
    rows = [_row(1, received_hours_ago=50, acknowledged_after=48)]
    assert sla_summary(rows, now=NOW)["overall"]["share_on_time"] == 100


def test_per_manager_and_per_account_worst_first_and_the_overdue_list_longest_first():
    maya, tom, nobody = (1, "Maya"), (2, "Tom"), (None, None)
    north, helios = (10, "Northwind"), (20, "Helios")
    rows = [
        _row(1, owner=maya, account=north, received_hours_ago=100, acknowledged_after=4),
        _row(2, owner=maya, account=helios, received_hours_ago=100, acknowledged_after=20),
        _row(3, owner=tom, account=helios, received_hours_ago=60, urgent=True),
        _row(4, owner=tom, account=helios, received_hours_ago=90),
        _row(5, owner=nobody, account=north, received_hours_ago=1),
    ]
    summary = sla_summary(rows, now=NOW)

    managers = {g["name"]: g for g in summary["by_manager"]}
    assert [g["name"] for g in summary["by_manager"]] == ["Tom", "Maya", "No owner"]
    assert (managers["Maya"]["share_on_time"], managers["Maya"]["median_hours"]) == (100, 12.0)
    assert (managers["Tom"]["share_on_time"], managers["Tom"]["overdue"]) == (0, 2)
    assert managers["No owner"]["share_on_time"] is None
    assert managers["No owner"]["median_hours"] is None
    accounts = {g["name"]: g for g in summary["by_account"]}
    assert accounts["Helios"]["overdue"] == 2
    assert accounts["Helios"]["share_on_time"] == 33
    assert [(o["pk"], o["overdue_hours"], o["urgent"]) for o in summary["overdue"]] == [
        (4, 42.0, False),
        (3, 12.0, True),
    ]
    assert summary["overall"]["urgent_overdue"] == 1


def test_no_rows_gives_an_empty_summary():
    summary = sla_summary([], now=NOW)
    assert summary["overall"]["responses"] == 0
    assert summary["overall"]["share_on_time"] is None
    assert summary["by_manager"] == summary["by_account"] == summary["overdue"] == []


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sla_page_shows_my_accounts_only(client_for, manager, account, outsider):
    mine = answer(contact=ContactFactory(account=account, name="Ana Alvarez")).acknowledgement
    Acknowledgement.objects.filter(pk=mine.pk).update(due_at=timezone.now() - H)
    foreign = AccountFactory(name="Foreign Foods", owner=outsider)
    answer(contact=ContactFactory(account=foreign, name="Fritz Foreign"))

    page = client_for(manager).get(reverse("actions:sla"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ana Alvarez" in html
    assert "Foreign Foods" not in html
    assert "Fritz Foreign" not in html
    assert page.context["summary"]["overall"]["overdue"] == 1

    outsider_page = client_for(outsider).get(reverse("actions:sla"))
    assert "Ana Alvarez" not in outsider_page.content.decode()
    assert outsider_page.context["summary"]["overall"]["responses"] == 1


@pytest.mark.django_db
def test_the_sla_page_counts_acknowledgements_within_the_window(client_for, executive, account):
    acknowledgement = answer(contact=ContactFactory(account=account)).acknowledgement
    acknowledgement_in_person(
        acknowledgement=acknowledgement, by=account.owner, method="call", note="Called."
    )
    old = answer(contact=ContactFactory(account=account)).acknowledgement
    Acknowledgement.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=40), due_at=timezone.now() - timedelta(days=38)
    )
    client = client_for(executive)
    assert client.get(reverse("actions:sla") + "?days=30").context["summary"]["overall"] == {
        "responses": 1,
        "decided": 1,
        "on_time": 1,
        "share_on_time": 100,
        "median_hours": 0.0,
        "open": 0,
        "overdue": 0,
        "urgent_overdue": 0,
    }
    assert (
        client.get(reverse("actions:sla") + "?days=90").context["summary"]["overall"]["responses"]
        == 2
    )


@pytest.mark.django_db
def test_the_sla_page_costs_the_same_queries_for_few_or_many_responses(client_for, executive):
    client = client_for(executive)
    answer(contact=ContactFactory())
    client.get(reverse("actions:sla"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("actions:sla"))
        return len(queries)

    few = count()
    for _ in range(4):
        answer(contact=ContactFactory(account=AccountFactory(owner=UserFactory())))
    assert count() == few
