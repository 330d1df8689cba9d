"""Change maps as CSV and XLSX: per person, for an account, a territory, a segment or the
portfolio; scoped to what the user sees, formulas neutralised, audited."""

import csv
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemaps.services import changemaps_compute
from contacts.models import Contact
from core.models import AuditEvent
from tests.changemaps.conftest import answer
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

MARKER = "Eve Evans"  # the foreign account's only person
HEADER = ["account", "territory", "segment", "account_owner", "contact", "email", "job_title",
          "department", "influence", "relationship_owner", "category", "previous_category",
          "reason", "last", "prev", "delta", "scores_given", "silent_streak", "key_person",
          "wave"]  # fmt: skip
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    content = content_of(response)
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_cells(response) -> tuple[list, list]:
    header, *rows = openpyxl.load_workbook(io.BytesIO(content_of(response))).active.iter_rows()
    return [cell.value for cell in header], rows


@pytest.fixture
def computed(world, account, foreign_account):
    """The world's change maps, with the foreign account in the same territory (not segment),
    and formula payloads in what people typed about themselves."""
    foreign_account.territory = account.territory
    foreign_account.save(update_fields=["territory"])
    Contact.objects.filter(pk=world.alice.pk).update(job_title="+1+cmd", department="-2+3")
    Contact.objects.filter(pk=world.bob.pk).update(job_title="@SUM(A1:A9)", department="\tcmd")
    Contact.objects.filter(pk=world.dave.pk).update(job_title="\rcmd")
    changemaps_compute(waves="all")
    return world


def export(client, name: str, *args, **query):
    query = "&".join(f"{key}={value}" for key, value in query.items())
    return client.get(reverse(f"changemaps:export_{name}", args=args) + f"?{query}")


def test_account_csv_has_one_row_per_person_of_the_latest_wave(
    client_for, manager, account, computed
):
    response = export(client_for(manager), "account", account.pk, format="csv")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert list(rows[0]) == HEADER
    assert len(rows) == 4
    alice = next(row for row in rows if row["email"] == "alice@northwind.example")
    assert alice == {
        "account": "Northwind Logistics",
        "territory": account.territory.name,
        "segment": account.segment.name,
        "account_owner": "Maya Manager",
        "contact": "Alice Archer",
        "email": "alice@northwind.example",
        "job_title": "'+1+cmd",
        "department": "'-2+3",
        "influence": "5",
        "relationship_owner": "Maya Manager",
        "category": "Falling",
        "previous_category": "Falling",  # July's wave already showed the fall
        "reason": alice["reason"],
        "last": "5",
        "prev": "8",
        "delta": "-3",
        "scores_given": "3",
        "silent_streak": "0",
        "key_person": "yes",
        "wave": "October 2026 pulse",
    }
    assert alice["reason"] == "Fell from 8 to 5 since the April 2026 pulse"


def test_csv_neutralises_every_formula_payload(client_for, manager, account, computed):
    rows = csv_rows(export(client_for(manager), "account", account.pk, format="csv"))

    by_email = {row["email"]: row for row in rows}
    assert by_email["carol@northwind.example"]["contact"] == '\'=HYPERLINK("http://evil.example")'
    assert by_email["bob@northwind.example"]["job_title"] == "'@SUM(A1:A9)"
    assert by_email["bob@northwind.example"]["department"] == "'\tcmd"
    assert by_email["dave@northwind.example"]["job_title"] == "'\rcmd"
    texts = [value for row in rows for key, value in row.items() if key != "delta"]
    assert not any(value.startswith(TRIGGERS) for value in texts)


def test_xlsx_stores_neutralised_text_never_formulas(client_for, manager, account, computed):
    response = export(client_for(manager), "account", account.pk, format="xlsx")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, rows = xlsx_cells(response)
    assert header == HEADER
    assert all(cell.data_type != "f" for row in rows for cell in row)
    carol = next(row for row in rows if row[5].value == "carol@northwind.example")
    assert carol[4].value == '\'=HYPERLINK("http://evil.example")'
    assert carol[4].data_type == "s"
    bob = next(row for row in rows if row[5].value == "bob@northwind.example")
    assert (bob[6].value, bob[7].value) == ("'@SUM(A1:A9)", "'\tcmd")
    alice = next(row for row in rows if row[5].value == "alice@northwind.example")
    assert (alice[15].value, alice[15].data_type) == (-3, "n")  # a fall stays a number


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_outsider_gets_404_for_a_foreign_account_territory_and_segment(
    client_for, outsider, account, computed, kind
):
    client = client_for(outsider)
    assert export(client, "account", account.pk, format=kind).status_code == 404
    assert export(client, "segment", account.segment_id, format=kind).status_code == 404
    assert export(client, "territory", 10**6, format=kind).status_code == 404
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.EXPORTED).exists()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_shared_territory_holds_only_the_accounts_the_user_sees(
    client_for, manager, account, computed, kind
):
    response = export(client_for(manager), "territory", account.territory_id, format=kind)

    assert response.status_code == 200
    if kind == "csv":
        rows = csv_rows(response)
        names = [row["contact"] for row in rows]
    else:
        _, cells = xlsx_cells(response)
        names = [row[4].value for row in cells]
    assert len(names) == 4
    assert MARKER not in names


def test_the_outsider_sees_only_their_own_account_of_the_territory(
    client_for, outsider, account, computed
):
    rows = csv_rows(export(client_for(outsider), "territory", account.territory_id, format="csv"))
    assert [row["contact"] for row in rows] == [MARKER]


def test_portfolio_never_holds_a_foreign_row(client_for, manager, computed):
    rows = csv_rows(export(client_for(manager), "portfolio", format="csv"))
    assert len(rows) == 4
    assert MARKER not in {row["contact"] for row in rows}


def test_portfolio_follows_the_pages_filters(client_for, executive, account, computed):
    client = client_for(executive)
    everyone = csv_rows(export(client, "portfolio", format="csv"))
    segment = csv_rows(export(client, "portfolio", format="csv", segment=account.segment_id))

    assert {row["account"] for row in everyone} == {"Northwind Logistics", "Foreign Foods"}
    assert {row["account"] for row in segment} == {"Northwind Logistics"}


def test_segment_export(client_for, teammate, account, computed):
    rows = csv_rows(export(client_for(teammate), "segment", account.segment_id, format="csv"))
    assert {row["account"] for row in rows} == {"Northwind Logistics"}
    assert len(rows) == 4


def test_before_any_computation_the_export_is_just_the_header(client_for, manager, account):
    response = export(client_for(manager), "account", account.pk, format="csv")
    assert content_of(response).decode("utf-8-sig") == ",".join(HEADER) + "\r\n"


def test_a_bad_format_is_a_clear_400(client_for, manager, computed):
    response = export(client_for(manager), "portfolio", format="json")
    assert response.status_code == 400
    assert "format=csv or format=xlsx" in response.content.decode()


def test_each_export_writes_one_audit_entry(client_for, manager, account, computed):
    export(client_for(manager), "territory", account.territory_id, format="xlsx")

    entry = AuditEvent.objects.get(verb=AuditEvent.Verb.EXPORTED)
    assert (entry.actor, entry.target_type, entry.target_id) == (
        manager,
        "export",
        str(account.territory_id),
    )
    assert entry.target == f"Change map · {account.territory.name} · October 2026 pulse"
    assert entry.detail == {
        "export": "changemap",
        "format": "xlsx",
        "rows": 4,
        "filters": {
            "scope": "territory",
            "territory": account.territory_id,
            "wave": computed.latest.pk,
        },
    }


def test_filename_carries_scope_and_date_and_no_user_text(client_for, manager, computed):
    AccountFactory(owner=manager, territory__name='North "EU"\r\nX-Evil: 1')
    territory = manager.owned_accounts.exclude(name="Northwind Logistics").get().territory_id
    response = export(client_for(manager), "territory", territory, format="csv")

    assert re.fullmatch(
        r'attachment; filename="changemap-north-eu-x-evil-1-\d{4}-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )


def test_query_count_does_not_grow_with_people(client_for, executive, account, computed):
    client = client_for(executive)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            content_of(export(client, "portfolio", format="csv"))
        return len(captured)

    one = queries()
    for n in range(6):
        person = ContactFactory(account=AccountFactory(), email=f"more{n}@client.example")
        answer(computed.latest, person, 7)
    changemaps_compute(waves="all")
    assert queries() == one


def test_every_change_map_page_offers_the_downloads(client_for, executive, account, computed):
    client = client_for(executive)
    pages = {
        "account": reverse("changemaps:account", args=[account.pk]),
        "territory": reverse("changemaps:territory", args=[account.territory_id]),
        "segment": reverse("changemaps:segment", args=[account.segment_id]),
    }
    for name, url in pages.items():
        pk = account.pk if name == "account" else getattr(account, f"{name}_id")
        export_url = reverse(f"changemaps:export_{name}", args=[pk])
        html = client.get(url).content.decode()
        assert f'href="{export_url}?format=csv"' in html
        assert f'href="{export_url}?format=xlsx"' in html


def test_the_portfolio_download_carries_its_filters(client_for, executive, account, computed):
    client = client_for(executive)
    html = client.get(reverse("changemaps:portfolio"), {"segment": account.segment_id}).content
    export_url = reverse("changemaps:export_portfolio")
    assert f'href="{export_url}?segment={account.segment_id}&amp;format=csv"' in html.decode()
    # The htmx answer to a filter change re-renders the link with the new filters.
    partial = client.get(
        reverse("changemaps:portfolio"), {"tier": "strategic"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert f'href="{export_url}?tier=strategic&amp;format=xlsx"' in partial
