"""Actions as CSV and XLSX: scoped to what the user sees, formulas neutralised, audited."""

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action
from actions.services.actions import action_create, action_update
from core.models import AuditEvent
from tests.factories import ContactFactory
from tests.pulses.factories import PulseProgrammeFactory, WaveFactory, response_with_answers

pytestmark = pytest.mark.django_db

MARKER = "Zebedee Foreignmarker"
HEADER = ["action_id", "account", "title", "status", "priority", "focus", "cycle_start", "owner",
          "due_on", "overdue", "raised_by", "raised_in_wave", "linked_responses", "updates",
          "you_said_we_did", "description", "done_at", "created_at", "updated_at"]  # fmt: skip


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    content = content_of(response)
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_rows(response) -> tuple[list, list]:
    header, *rows = openpyxl.load_workbook(io.BytesIO(content_of(response))).active.iter_rows()
    return [cell.value for cell in header], rows


@pytest.fixture
def wave(account):
    return WaveFactory(
        name="May pulse",
        opens_on=timezone.localdate() - timedelta(days=20),
        programme=PulseProgrammeFactory(accounts=[account]),
        closed=True,
    )


@pytest.fixture
def actions(account, foreign_account, manager, teammate, outsider, wave):
    """Four actions of `account` raised in each way (one full of formulas), one foreign."""
    helena = ContactFactory(account=account, name="Helena Varga")
    bob = ContactFactory(account=account, name="Bob Baker")
    said = response_with_answers(wave=wave, contact=helena, answers={"relationship": 5})
    response_with_answers(wave=wave, contact=bob, answers={"relationship": 8})
    focus = action_create(
        account=account,
        by=manager,
        fields={"title": "Clear invoices", "is_focus": True, "source_response": said,
                "owner": teammate, "due_on": timezone.localdate() - timedelta(days=1)},
    )  # fmt: skip
    action_update(action=focus, by=manager, fields={}, note="Spoke to finance.")
    action_create(
        account=account,
        by=manager,
        fields={"title": '=HYPERLINK("http://evil.example","Click")', "description": "+1+cmd",
                "source_wave": wave, "priority": Action.Priority.HIGH,
                "status": Action.Status.DONE, "you_said_we_did": "-2+3 @SUM(A1)"},
    )  # fmt: skip
    action_create(
        account=account,
        by=manager,
        fields={"title": "@Call Helena", "source_wave": wave, "source_contact": helena,
                "description": "\tcmd", "priority": Action.Priority.LOW},
    )  # fmt: skip
    action_create(account=account, by=manager, fields={"title": "\rTidy the CRM"})
    action_create(account=foreign_account, by=outsider, fields={"title": MARKER})
    return account


def url(account=None, **query) -> str:
    base = (
        reverse("actions:export_account", args=[account.pk])
        if account
        else reverse("actions:export")
    )
    return base + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def test_csv_has_one_row_per_action_with_what_the_tab_shows(client_for, manager, actions, wave):
    response = client_for(manager).get(url(actions, format="csv"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert list(rows[0]) == HEADER
    assert len(rows) == 4
    focus = rows[0]  # the focus first, as on the tab
    dated = {"action_id", "cycle_start", "due_on", "created_at", "updated_at"}
    assert {key: value for key, value in focus.items() if key not in dated} == {
        "account": "Northwind Logistics",
        "title": "Clear invoices",
        "status": "Open",
        "priority": "Medium",
        "focus": "yes",
        "owner": "Tariq Teammate",
        "overdue": "yes",
        "raised_by": "Helena Varga",
        "raised_in_wave": "May pulse",  # a response's wave is the action's too
        "linked_responses": "1",
        "updates": "2",
        "you_said_we_did": "",
        "description": "",
        "done_at": "",
    }
    assert focus["due_on"] == (timezone.localdate() - timedelta(days=1)).isoformat()


def test_linked_responses_follow_how_the_action_was_raised(client_for, manager, actions):
    rows = csv_rows(client_for(manager).get(url(actions, format="csv")))
    linked = {row["title"]: row["linked_responses"] for row in rows}
    assert linked == {
        "Clear invoices": "1",  # its response
        '\'=HYPERLINK("http://evil.example","Click")': "2",  # everyone who answered the wave
        "'@Call Helena": "1",  # Helena's answer in that wave
        "'\rTidy the CRM": "0",  # raised from nothing
    }


def test_csv_neutralises_every_formula_payload(client_for, manager, actions):
    rows = csv_rows(client_for(manager).get(url(actions, format="csv")))

    done = next(row for row in rows if row["status"] == "Done")
    assert done["title"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert done["description"] == "'+1+cmd"
    assert done["you_said_we_did"] == "'-2+3 @SUM(A1)"
    assert done["done_at"]
    call = next(row for row in rows if row["priority"] == "Low")
    assert (call["title"], call["description"]) == ("'@Call Helena", "'\tcmd")
    triggers = ("=", "+", "-", "@", "\t", "\r")
    assert not any(value.startswith(triggers) for row in rows for value in row.values())


def test_xlsx_stores_neutralised_text_never_formulas(client_for, manager, actions):
    response = client_for(manager).get(url(actions, format="xlsx"))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, rows = xlsx_rows(response)
    assert header == HEADER
    cells = [cell for row in rows for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    titles = [row[header.index("title")] for row in rows]
    assert all(cell.data_type == "s" and cell.value.startswith(("C", "'")) for cell in titles)
    assert {cell.value for cell in titles} >= {
        '\'=HYPERLINK("http://evil.example","Click")',
        "'@Call Helena",
    }
    assert rows[0][header.index("linked_responses")].value == 1  # numbers stay numbers


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_outsider_gets_404_for_a_foreign_accounts_export(client_for, outsider, actions, kind):
    response = client_for(outsider).get(url(actions, format=kind))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.EXPORTED).exists()


def test_everything_export_never_holds_a_foreign_row(client_for, manager, actions):
    rows = csv_rows(client_for(manager).get(url(format="csv")))
    assert len(rows) == 4
    assert MARKER not in repr(rows)


def test_everything_export_as_xlsx_never_holds_a_foreign_row(client_for, teammate, actions):
    _, rows = xlsx_rows(client_for(teammate).get(url(format="xlsx")))
    assert len(rows) == 4
    assert MARKER not in repr([cell.value for row in rows for cell in row])


def test_executive_everything_export_covers_every_account(client_for, executive, actions):
    rows = csv_rows(client_for(executive).get(url(format="csv")))
    assert {row["account"] for row in rows} == {"Northwind Logistics", "Foreign Foods"}


def test_a_bad_format_is_a_clear_400(client_for, manager, actions):
    response = client_for(manager).get(url(actions, format="docx"))
    assert response.status_code == 400
    assert "format=csv or format=xlsx" in response.content.decode()


def test_each_export_writes_one_audit_entry(client_for, manager, actions):
    client_for(manager).get(url(actions, format="csv"))

    entry = AuditEvent.objects.get(verb=AuditEvent.Verb.EXPORTED)
    assert (entry.actor, entry.target_type, entry.target_id) == (manager, "export", str(actions.pk))
    assert entry.target == "Actions · Northwind Logistics"
    assert entry.detail == {
        "export": "actions",
        "format": "csv",
        "rows": 4,
        "filters": {"account": actions.pk},
    }


def test_filename_carries_scope_and_date(client_for, manager, actions):
    response = client_for(manager).get(url(actions, format="xlsx"))
    assert re.fullmatch(
        r'attachment; filename="actions-northwind-logistics-\d{4}-\d\d-\d\d\.xlsx"',
        response["Content-Disposition"],
    )


def test_query_count_does_not_grow_with_actions(client_for, manager, account, wave):
    client = client_for(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            content_of(client.get(url(format="csv")))
        return len(captured)

    contact = ContactFactory(account=account)
    said = response_with_answers(wave=wave, contact=contact, answers={"relationship": 5})
    action_create(account=account, by=manager, fields={"title": "One", "source_response": said})
    one = queries()
    for n in range(8):
        action_create(
            account=account,
            by=manager,
            fields={"title": f"Action {n}", "source_wave": wave, "source_contact": contact,
                    "owner": manager},
        )  # fmt: skip
    assert queries() == one


def test_the_actions_tab_offers_the_downloads(client_for, teammate, actions):
    page = client_for(teammate).get(reverse("actions:account", args=[actions.pk])).content.decode()
    export = reverse("actions:export_account", args=[actions.pk])
    assert f'href="{export}?format=csv"' in page
    assert f'href="{export}?format=xlsx"' in page
