"""Importing answers people gave before Rapport: historic waves, all or nothing, re-runnable."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from pulses.importing import import_responses
from pulses.models import Invitation, Response, Wave
from tests.factories import ContactFactory
from tests.pulses.factories import WaveFactory, response_with_answers

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "responses_example.csv"
HEADER = "account,email,wave,score,keep_doing,improve,comment,answered_at\n"


@pytest.fixture
def people(account):
    return {
        name: ContactFactory(account=account, name=name.title(), email=f"{name}@northwind.example")
        for name in ("helena.varga", "tomas.lindqvist", "priya.raman")
    }


def _import(text: str, **options):
    return import_responses(text.encode(), filename="history.csv", **options)


def _answers(response):
    return {
        a.question.key: a.number if a.number is not None else a.text for a in response.answers.all()
    }


def test_the_example_file_creates_historic_waves_and_responses(people):
    plan = import_responses(EXAMPLE.read_bytes(), filename=EXAMPLE.name)

    assert plan.errors == []
    assert (plan.created, plan.updated, plan.unchanged) == (4, 0, 0)
    march, autumn = Wave.objects.order_by("opens_on")
    assert (march.name, march.opens_on) == ("Pulse of March 2025", date(2025, 3, 15))
    assert (autumn.name, autumn.opens_on) == ("Autumn 2025 review", date(2025, 10, 2))
    for wave in (march, autumn):
        assert wave.programme is None
        assert wave.status == Wave.Status.CLOSED
        assert wave.questionnaire_version.is_frozen
        assert wave.questionnaire_version.questionnaire.is_default
    assert autumn.closes_at == datetime(2025, 10, 6, 12, tzinfo=UTC)

    helena = Response.objects.get(wave=march, contact=people["helena.varga"])
    assert helena.source == Response.Source.IMPORT
    assert helena.score == 8
    assert helena.submitted_at == datetime(2025, 3, 18, 10, 5, tzinfo=UTC)
    assert _answers(helena) == {
        "relationship": 8,
        "keep_doing": "Your planners know our warehouses inside out.",
        "improve": "Invoices that match our purchase orders.",
    }
    tomas = Response.objects.get(contact=people["tomas.lindqvist"])
    assert _answers(tomas)["anything_else"] == "Thanks for asking, by the way."
    assert tomas.submitted_at == datetime(2025, 3, 20, 12, tzinfo=UTC)
    assert set(Invitation.objects.values_list("status", flat=True)) == {"skipped"}


def test_importing_the_same_file_again_changes_nothing(people):
    import_responses(EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    before = list(Response.objects.order_by("pk").values_list("pk", "updated_at"))

    again = import_responses(EXAMPLE.read_bytes(), filename=EXAMPLE.name)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert again.new_waves == []
    assert list(Response.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert Wave.objects.count() == 2


def test_a_changed_row_updates_that_response_only(people):
    import_responses(EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    changed = EXAMPLE.read_text().replace("Autumn 2025 review,7,", "Autumn 2025 review,5,")

    plan = _import(changed)

    assert (plan.created, plan.updated, plan.unchanged) == (0, 1, 3)
    assert Response.objects.get(contact=people["priya.raman"]).score == 5
    assert Response.objects.count() == 4


def test_a_dry_run_writes_nothing(people):
    plan = import_responses(EXAMPLE.read_bytes(), filename=EXAMPLE.name, dry_run=True)

    assert plan.errors == []
    assert plan.created == 4
    assert [w.name for w in plan.new_waves] == ["Pulse of March 2025", "Autumn 2025 review"]
    assert not Wave.objects.exists()
    assert not Response.objects.exists()


def test_every_error_is_reported_and_nothing_is_written(people, account, foreign_account):
    answered_by_link = WaveFactory(name="Spring 2025 pulse", closed=True)
    response_with_answers(
        wave=answered_by_link,
        contact=people["priya.raman"],
        answers={"relationship": 9},
        source=Response.Source.SURVEY,
    )
    ContactFactory(account=foreign_account, email="fay@foreign.example")
    rows = [
        "Northwind Logistics,helena.varga@northwind.example,2025-03-15,8,Good,Better,,",  # 2 ok
        "Nowhere Ltd,helena.varga@northwind.example,2025-03-15,8,,,,",  # 3
        "Northwind Logistics,nobody@northwind.example,2025-03-15,8,,,,",  # 4
        "Northwind Logistics,not-an-email,2025-03-15,8,,,,",  # 5
        "Northwind Logistics,tomas.lindqvist@northwind.example,,8,,,,",  # 6
        "Northwind Logistics,tomas.lindqvist@northwind.example,2025-04-01,11,,,,",  # 7
        "Northwind Logistics,priya.raman@northwind.example,2025-04-01,eight,,,,",  # 8
        "Northwind Logistics,priya.raman@northwind.example,2025-05-01,7.5,,,,",  # 9
        "Northwind Logistics,priya.raman@northwind.example,2025-06-01,7,,,,yesterday",  # 10
        "Northwind Logistics,priya.raman@northwind.example,2025-07-01,7,,,,2999-01-01",  # 11
        "Northwind Logistics,helena.varga@northwind.example,2025-03-20,6,,,,",  # 12 duplicate
        "Northwind Logistics,helena.varga@northwind.example,Undated pulse,6,,,,",  # 13
        "Northwind Logistics,tomas.lindqvist@northwind.example,2025-08-01,,,,,",  # 14
        f"Northwind Logistics,tomas.lindqvist@northwind.example,2025-09-01,5,{'x' * 5001},,,",  # 15
        "Northwind Logistics,priya.raman@northwind.example,Spring 2025 pulse,5,,,,",  # 16
        "Foreign Foods,fay@foreign.example,2025-03-15,4,,,,",  # 17 fine for the operator
    ]

    plan = _import(HEADER + "\n".join(rows) + "\n")

    found = {(error.row, error.column) for error in plan.errors}
    assert found == {
        (3, "account"),
        (4, "email"),
        (5, "email"),
        (6, "wave"),
        (7, "score"),
        (8, "score"),
        (9, "score"),
        (10, "answered_at"),
        (11, "answered_at"),
        (12, "email"),
        (13, "wave"),
        (14, "score"),
        (15, "keep_doing"),
        (16, "email"),
    }
    messages = {error.row: str(error) for error in plan.errors}
    assert "Unknown account “Nowhere Ltd”" in messages[3]
    assert "Nobody with the email “nobody@northwind.example” in Northwind Logistics" in messages[4]
    assert "from 0 to 10" in messages[7]
    assert "on row 2" in messages[12]
    assert "already answered" in messages[16]
    assert plan.rows == []
    assert Response.objects.count() == 1
    assert list(Wave.objects.all()) == [answered_by_link]


def test_missing_columns_are_reported_for_the_header(people):
    plan = _import("account,score\nNorthwind Logistics,8\n")

    assert [(e.row, e.column) for e in plan.errors] == [(1, "email, wave")]


def test_header_synonyms_and_an_existing_historic_wave(people):
    existing = WaveFactory(name="Autumn 2025 review", closed=True, opens_on=date(2025, 9, 29))
    text = (
        "Company;E-mail;Pulse;Relationship score;What goes well;Improvement;Date answered;Owner\n"
        "Northwind Logistics;HELENA.VARGA@northwind.example;autumn 2025 review;10;All of it;"
        "Nothing;2025-10-01;someone\n"
    )

    plan = _import(text)

    assert plan.errors == []
    assert plan.ignored_columns == ["Owner"]
    assert plan.new_waves == []
    response = Response.objects.get()
    assert (response.wave, response.score) == (existing, 10)


def test_an_excel_workbook_with_real_dates_and_numbers(people):
    frame = pd.DataFrame(
        {
            "Account": ["Northwind Logistics"],
            "Email": ["priya.raman@northwind.example"],
            "Wave": [datetime(2025, 3, 15)],  # noqa: DTZ001 - Excel has no time zones
            "Score": [7],
            "Keep doing": ["Calls"],
            "Improve": ["Billing"],
            "Answered at": [datetime(2025, 3, 16, 9, 30)],  # noqa: DTZ001
        }
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)

    plan = import_responses(buffer.getvalue(), filename="history.xlsx")

    assert plan.errors == []
    response = Response.objects.get()
    assert response.wave.name == "Pulse of March 2025"
    assert response.score == 7
    assert response.submitted_at == datetime(2025, 3, 16, 9, 30, tzinfo=UTC)  # TIME_ZONE


def test_the_command_imports_and_reports(people, capsys):
    call_command("import_responses", str(EXAMPLE), "--dry-run")
    assert "4 would be created" in capsys.readouterr().out
    assert not Response.objects.exists()

    call_command("import_responses", str(EXAMPLE))
    assert "4 were created, 0 were updated, 0 unchanged; 2 new waves." in capsys.readouterr().out
    assert Response.objects.count() == 4


def test_the_command_lists_every_problem(people, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Northwind Logistics,nobody@northwind.example,2025-03-15,12,,,,\n")

    with pytest.raises(CommandError, match="2 problems; nothing was imported"):
        call_command("import_responses", str(bad))

    err = capsys.readouterr().err
    assert "Row 2, email: Nobody with the email" in err
    assert "Row 2, score: Score must be from 0 to 10" in err
