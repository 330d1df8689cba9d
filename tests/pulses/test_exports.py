"""Responses as CSV and XLSX: scoped to what the user sees, formulas neutralised, audited."""

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

from contacts.models import Contact
from core.models import AuditEvent
from pulses.models import Response
from tests.factories import AccountFactory, ContactFactory
from tests.pulses.factories import InvitationFactory, WaveFactory, response_with_answers

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "name": '=HYPERLINK("http://evil.example","Click")',
    "job_title": "+1+cmd",
    "keep_doing": "-2+3",
    "improve": "@SUM(A1:A9)",
    "anything_else": "\tcmd",
}
MARKER = "Zebedee Foreignmarker"


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    content = content_of(response)
    assert content.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_sheet(response):
    return openpyxl.load_workbook(io.BytesIO(content_of(response))).active


def xlsx_rows(response) -> list[dict]:
    header, *rows = xlsx_sheet(response).iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def waves():
    april = WaveFactory(
        name="April 2026 pulse", closed=True, opens_on=timezone.localdate() - timedelta(days=200)
    )
    return april, WaveFactory(name="October pulse")


@pytest.fixture
def said(account, foreign_account, waves, teammate):
    """Two people of `account` answered (one with formula payloads), one of the foreign account."""
    april, october = waves
    helena = ContactFactory(
        account=account, name="Helena Varga", email="helena@client.example", roles=["champion"]
    )
    sly = ContactFactory(
        account=account,
        name=PAYLOADS["name"],
        email="sly@client.example",
        job_title=PAYLOADS["job_title"],
        roles=["decision_maker", "budget_holder"],
    )
    foreigner = ContactFactory(account=foreign_account, name=MARKER, email="z@foreign.example")
    response_with_answers(
        wave=april,
        contact=helena,
        answers={"relationship": 9, "delivery": 4, "keep_doing": "Fast", "improve": "Invoices"},
        source=Response.Source.INTERVIEW,
        recorded_by=teammate,
    )
    response_with_answers(wave=october, contact=helena, answers={"relationship": 7})
    response_with_answers(
        wave=october,
        contact=sly,
        answers={
            "relationship": 3,
            "keep_doing": PAYLOADS["keep_doing"],
            "improve": PAYLOADS["improve"],
            "anything_else": PAYLOADS["anything_else"],
        },
    )
    response_with_answers(
        wave=october, contact=foreigner, answers={"relationship": 1, "improve": MARKER}
    )
    return account


def account_url(account, **query) -> str:
    query = "&".join(f"{key}={value}" for key, value in query.items())
    return reverse("pulses:export_account", args=[account.pk]) + (f"?{query}" if query else "")


def test_csv_has_one_row_per_response_and_a_column_per_question(client_for, manager, said):
    response = client_for(manager).get(account_url(said, format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert list(rows[0])[:12] == [
        "account", "contact", "email", "job_title", "roles", "wave", "wave_opens_on",
        "submitted_at", "source", "recorded_by", "language", "score",
    ]  # fmt: skip
    assert list(rows[0])[12:] == [
        "relationship", "account_manager", "delivery", "value", "keep_doing", "improve",
        "anything_else",
    ]  # fmt: skip
    assert len(rows) == 3
    # Newest wave first within the account, people by name ("'" sorts before letters).
    helena_april = rows[2]
    assert (helena_april["wave"], helena_april["contact"]) == ("April 2026 pulse", "Helena Varga")
    assert helena_april["roles"] == "Champion"
    assert helena_april["source"] == "Interview"
    assert helena_april["recorded_by"] == "Tariq Teammate"
    assert (helena_april["score"], helena_april["relationship"], helena_april["delivery"]) == (
        "9",
        "9",
        "4",
    )
    assert (helena_april["keep_doing"], helena_april["improve"]) == ("Fast", "Invoices")
    assert helena_april["value"] == ""  # not answered
    sly = next(row for row in rows if row["email"] == "sly@client.example")
    assert sly["roles"] == "Decision maker; Budget holder"


def test_csv_neutralises_every_formula_payload(client_for, manager, said):
    rows = csv_rows(client_for(manager).get(account_url(said, format="csv")))

    sly = next(row for row in rows if row["email"] == "sly@client.example")
    assert sly["contact"] == "'" + PAYLOADS["name"]
    assert sly["job_title"] == "'+1+cmd"
    assert sly["keep_doing"] == "'-2+3"
    assert sly["improve"] == "'@SUM(A1:A9)"
    assert sly["anything_else"] == "'\tcmd"
    triggers = ("=", "+", "-", "@", "\t", "\r")
    assert not any(value.startswith(triggers) for row in rows for value in row.values())


def test_xlsx_stores_neutralised_text_never_formulas(client_for, manager, said):
    response = client_for(manager).get(account_url(said, format="xlsx"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_sheet(response)
    header, *rows = list(sheet.iter_rows())
    cells = [cell for row in rows for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    by_column = {cell.value: index for index, cell in enumerate(header)}
    sly = next(row for row in rows if row[by_column["email"]].value == "sly@client.example")
    assert sly[by_column["contact"]].value == "'" + PAYLOADS["name"]
    assert sly[by_column["contact"]].data_type == "s"
    assert [sly[by_column[key]].value for key in ("job_title", "keep_doing", "improve")] == [
        "'+1+cmd",
        "'-2+3",
        "'@SUM(A1:A9)",
    ]
    assert sly[by_column["anything_else"]].value == "'\tcmd"
    assert sly[by_column["score"]].value == 3  # numbers stay numbers
    submitted = Response.objects.get(contact__email="sly@client.example").submitted_at
    # Dates stay dates: local wall time, to the second.
    assert sly[by_column["submitted_at"]].is_date
    assert sly[by_column["submitted_at"]].value == timezone.localtime(submitted).replace(
        tzinfo=None, microsecond=0
    )
    assert sly[by_column["wave_opens_on"]].value.date() == timezone.localdate()
    assert sheet.freeze_panes == "A2"


def test_carriage_return_payload_is_neutralised_in_both_formats(client_for, manager, account):
    contact = ContactFactory(account=account, name="\rcmd", email="cr@client.example")
    response_with_answers(wave=WaveFactory(), contact=contact, answers={"relationship": 5})
    client = client_for(manager)

    csv_row = csv_rows(client.get(account_url(account, format="csv")))[0]
    xlsx_row = xlsx_rows(client.get(account_url(account, format="xlsx")))[0]

    assert csv_row["contact"] == "'\rcmd"
    assert xlsx_row["contact"] == "'\rcmd"


def test_wave_filter_narrows_to_one_wave(client_for, manager, said, waves):
    april, _ = waves
    rows = csv_rows(client_for(manager).get(account_url(said, format="csv", wave=april.pk)))
    assert [(row["contact"], row["wave"]) for row in rows] == [("Helena Varga", april.name)]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_outsider_gets_404_for_a_foreign_accounts_export(client_for, outsider, said, kind):
    response = client_for(outsider).get(account_url(said, format=kind))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb=AuditEvent.Verb.EXPORTED).exists()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_everything_export_never_holds_a_foreign_row(client_for, manager, said, kind):
    response = client_for(manager).get(reverse("pulses:export") + f"?format={kind}")

    assert response.status_code == 200
    rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
    assert len(rows) == 3
    assert MARKER not in repr(rows)
    assert {row["account"] for row in rows} == {"Northwind Logistics"}


def test_executive_everything_export_covers_every_account(client_for, executive, said):
    rows = csv_rows(client_for(executive).get(reverse("pulses:export") + "?format=csv"))
    assert {row["account"] for row in rows} == {"Northwind Logistics", "Foreign Foods"}
    assert MARKER in {row["contact"] for row in rows}


def test_a_wave_the_user_cannot_see_is_a_404(client_for, manager, said):
    hidden = WaveFactory(name="Someone else's wave")
    response = client_for(manager).get(reverse("pulses:export") + f"?wave={hidden.pk}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [("format=pdf", "format=csv or format=xlsx"), ("wave=april", "wave must be a wave's number")],
)
def test_bad_input_is_a_clear_400(client_for, manager, said, query, message):
    response = client_for(manager).get(reverse("pulses:export") + f"?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_each_export_writes_one_audit_entry(client_for, manager, said, waves):
    _, october = waves
    client_for(manager).get(account_url(said, format="xlsx", wave=october.pk))

    entry = AuditEvent.objects.get(verb=AuditEvent.Verb.EXPORTED)
    assert (entry.actor, entry.verb, entry.target_type) == (manager, "exported", "export")
    assert entry.target_id == str(said.pk)
    assert entry.target == "Responses · Northwind Logistics · October pulse"
    assert entry.detail == {
        "export": "responses",
        "format": "xlsx",
        "rows": 2,
        "filters": {"account": said.pk, "wave": october.pk},
    }


def test_filename_carries_scope_and_date_and_no_user_text(client_for, manager, waves):
    account = AccountFactory(name='Evil"\r\nSet-Cookie: x=1; filename="a.exe', owner=manager)
    response = client_for(manager).get(account_url(account, format="csv"))

    # Only slug characters reach the header: no quote, line break or second filename.
    assert re.fullmatch(
        r'attachment; filename="responses-evil-set-cookie-x1-filenameaexe-\d{4}-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )


def test_filename_of_a_name_in_another_script_still_says_what_it_is(client_for, manager):
    account = AccountFactory(name="東京物流", owner=manager)
    response = client_for(manager).get(account_url(account, format="xlsx"))
    assert response["Content-Disposition"].startswith('attachment; filename="responses-20')


def test_query_count_does_not_grow_with_responses(client_for, manager, account, waves):
    client = client_for(manager)
    url = reverse("pulses:export") + "?format=csv"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            content_of(client.get(url))
        return len(captured)

    april, _ = waves
    first = ContactFactory(account=account, roles=["champion"])
    response_with_answers(wave=april, contact=first, answers={"relationship": 8, "improve": "x"})
    one = queries()
    for contact in ContactFactory.create_batch(5, account=account, roles=["user", "champion"]):
        for wave in waves:
            response_with_answers(
                wave=wave, contact=contact, answers={"relationship": 6, "keep_doing": "y"}
            )
    assert queries() == one


def test_the_pulses_tab_offers_the_downloads(client_for, teammate, said, waves):
    april, _ = waves
    InvitationFactory(wave=april, contact=Contact.objects.get(name="Helena Varga"))
    page = client_for(teammate).get(reverse("pulses:account", args=[said.pk])).content.decode()
    export = reverse("pulses:export_account", args=[said.pk])
    assert f'href="{export}?format=csv"' in page
    assert f'href="{export}?format=xlsx"' in page
    assert f'href="{export}?wave={april.pk}&amp;format=csv"' in page


def test_xml_characters_and_control_characters_are_safe_in_xlsx(client_for, manager, account):
    wave = WaveFactory()
    for name, email in [('Smith & <Sons> "Ltd"', "s@client.example"), ("\x01=cmd", "c@x.example")]:
        contact = ContactFactory(account=account, name=name, email=email)
        response_with_answers(wave=wave, contact=contact, answers={"relationship": 5})

    rows = xlsx_rows(client_for(manager).get(account_url(account, format="xlsx")))

    names = {row["email"]: row["contact"] for row in rows}
    assert names["s@client.example"] == 'Smith & <Sons> "Ltd"'
    # A control character cannot hide a formula: it goes before the guard is decided.
    assert names["c@x.example"] == "'=cmd"
