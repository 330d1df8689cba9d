"""Exporting people as CSV and XLSX: the import's columns, formulas neutralised, clean round trips."""

import csv
import io

import openpyxl
import pandas as pd
import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from contacts.importing import COLUMNS, import_contacts
from contacts.models import Contact
from core.models import AuditEvent
from core.spreadsheets import (
    FORMULA_TRIGGERS,
    neutralise_formula,
    strip_formula_guard,
    strip_formula_guards,
)
from tests.factories import ContactFactory

DANGEROUS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1:A2)", "\tcmd", "\rcmd"]


@pytest.fixture
def people(account, teammate):
    boss = ContactFactory(
        account=account,
        name="Helena Varga",
        email="helena@client.example",
        roles=["decision_maker", "budget_holder"],
        phone="+36 1 555 0100",
        influence=5,
    )
    ContactFactory(
        account=account,
        name='=HYPERLINK("x")',
        email="formula@client.example",
        job_title="+1",
        department="-2",
        location="@SUM(A1:A2)",
        reports_to=boss,
        owner=teammate,
        influence=None,
        status=Contact.Status.LEFT,
    )
    return account


def csv_rows(content: bytes) -> list[dict]:
    assert content.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_csv_export_has_the_import_columns_and_neutralises_formulas(client_for, manager, people):
    response = client_for(manager).get(reverse("contacts:export_csv", args=[people.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="northwind-logistics-people.csv"' in response["Content-Disposition"]
    rows = csv_rows(response.content)
    assert tuple(rows[0]) == COLUMNS
    formula = next(row for row in rows if row["email"] == "formula@client.example")
    assert formula == {
        "account": "Northwind Logistics",
        "name": '\'=HYPERLINK("x")',
        "email": "formula@client.example",
        "title": "'+1",
        "department": "'-2",
        "roles": "",
        "influence": "",
        "reports_to_email": "helena@client.example",
        "owner_email": "teammate@example.com",
        "status": "Left the company",
        "phone": "",
        "location": "'@SUM(A1:A2)",
    }
    helena = next(row for row in rows if row["email"] == "helena@client.example")
    assert (helena["roles"], helena["influence"], helena["phone"]) == (
        "Decision maker; Budget holder",
        "5",
        "'+36 1 555 0100",
    )


@pytest.mark.django_db
def test_xlsx_export_stores_neutralised_text_never_formulas(client_for, manager, people):
    response = client_for(manager).get(reverse("contacts:export_xlsx", args=[people.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows())
    assert tuple(cell.value for cell in header) == COLUMNS
    assert all(cell.data_type != "f" for row in rows for cell in row)
    formula = next(row for row in rows if row[2].value == "formula@client.example")
    assert [formula[i].value for i in (1, 3, 4, 11)] == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1:A2)",
    ]
    helena = next(row for row in rows if row[2].value == "helena@client.example")
    assert helena[6].value == 5  # numbers stay numbers


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_reimports_without_changes(client_for, manager, people, kind):
    response = client_for(manager).get(reverse(f"contacts:export_{kind}", args=[people.pk]))
    before = Contact.history.count()

    plan = import_contacts(response.content, filename=f"export.{kind}", user=manager)

    assert plan.errors == []
    assert (plan.created, plan.updated, plan.unchanged) == (0, 0, 2)
    assert Contact.history.count() == before


@pytest.mark.django_db
def test_exports_of_an_empty_account_have_just_the_header(client_for, manager, account):
    response = client_for(manager).get(reverse("contacts:export_csv", args=[account.pk]))
    assert response.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_outsider_gets_404_for_exports(client_for, outsider, people, kind):
    response = client_for(outsider).get(reverse(f"contacts:export_{kind}", args=[people.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_executive_who_may_see_the_account_may_export_it(client_for, executive, people, kind):
    response = client_for(executive).get(reverse(f"contacts:export_{kind}", args=[people.pk]))
    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(verb=AuditEvent.Verb.EXPORTED)
    assert event.actor == executive
    assert event.detail["format"] == kind
    assert event.detail["rows"] == people.contacts.count()


@pytest.mark.django_db
def test_export_query_count_does_not_grow_with_people(client_for, manager, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    url = reverse("contacts:export_csv", args=[account.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured)

    ContactFactory(account=account, roles=["champion"])
    one = queries()
    ContactFactory.create_batch(10, account=account, roles=["user"])
    assert queries() == one


# --- The neutraliser ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", DANGEROUS)
def test_values_that_spreadsheets_run_as_formulas_get_an_apostrophe(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["Helena", "", "'quoted", " =spaced", 5, -2, None, 1.5])
def test_harmless_values_pass_unchanged(value):
    assert neutralise_formula(value) == value


@given(st.text())
def test_neutralised_text_never_starts_a_formula(value):
    safe = neutralise_formula(value)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert safe == (("'" + value) if value.startswith(FORMULA_TRIGGERS) else value)


@given(st.text().filter(lambda value: not value.startswith("'")))
def test_importing_undoes_what_exporting_added(value):
    assert strip_formula_guard(neutralise_formula(value)) == value
    assert strip_formula_guards(pd.Series([neutralise_formula(value)]))[0] == value
