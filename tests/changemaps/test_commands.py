"""manage.py compute_changemaps and export_changemap."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from changemaps.models import ContactSnapshot

pytestmark = pytest.mark.django_db

HEADER = ["account", "email", "name", "category", "reason", "last", "delta", "silent_streak",
          "key_person"]  # fmt: skip


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_compute_changemaps_latest_and_all_waves(world):
    assert "Computed 1 wave(s): 5 people" in run("compute_changemaps")
    assert "Computed 4 wave(s)" in run("compute_changemaps", "--all-waves")
    assert ContactSnapshot.objects.values("wave").distinct().count() == 4


def test_compute_changemaps_without_waves(db):
    assert "nothing to compute" in run("compute_changemaps")


def test_export_csv_per_person_with_formulas_neutralised(world):
    run("compute_changemaps")
    rows = list(csv.reader(io.StringIO(run("export_changemap", "--format", "csv"))))
    assert rows[0] == HEADER
    by_email = {row[1]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    assert len(by_email) == 5
    alice = by_email["alice@northwind.example"]
    assert alice == {
        "account": "Northwind Logistics",
        "email": "alice@northwind.example",
        "name": "Alice Archer",
        "category": "falling",
        "reason": "Fell from 8 to 5 since the April 2026 pulse",
        "last": "5",
        "delta": "-3",
        "silent_streak": "0",
        "key_person": "True",
    }
    # A name a spreadsheet would run as a formula stays text.
    assert by_email["carol@northwind.example"]["name"] == '\'=HYPERLINK("http://evil.example")'
    assert by_email["bob@northwind.example"]["delta"] == ""
    # Accounts in name order, people in name order within them.
    assert [row[0] for row in rows[1:]] == ["Foreign Foods"] + ["Northwind Logistics"] * 4


def test_export_filters_one_account_by_name_in_any_case(world):
    run("compute_changemaps")
    rows = list(csv.DictReader(io.StringIO(run("export_changemap", "--account", "foreign foods",
                                               "--format", "csv"))))  # fmt: skip
    assert [row["email"] for row in rows] == ["eve@foreign.example"]
    with pytest.raises(CommandError, match="No account is called"):
        run("export_changemap", "--account", "Nobody Ltd", "--format", "csv")


def test_export_json(world):
    run("compute_changemaps")
    rows = json.loads(
        run("export_changemap", "--format", "json", "--account", "Northwind Logistics")
    )
    # By name within the account ("=" sorts before letters).
    assert [row["email"] for row in rows] == [
        "carol@northwind.example",
        "alice@northwind.example",
        "bob@northwind.example",
        "dave@northwind.example",
    ]
    bob = next(row for row in rows if row["email"] == "bob@northwind.example")
    assert bob == {
        "account": "Northwind Logistics",
        "email": "bob@northwind.example",
        "name": "Bob Baker",
        "category": "silent",
        "reason": "Silent for 2 pulses since scoring 7 in the January 2026 pulse",
        "last": 7,
        "delta": None,
        "silent_streak": 2,
        "key_person": False,
    }


def test_export_to_a_file_is_excel_friendly(world, tmp_path):
    run("compute_changemaps")
    target = tmp_path / "changemap.csv"
    assert run("export_changemap", "--format", "csv", "--output", str(target)) == ""
    content = target.read_bytes()
    assert content.startswith("\ufeff".encode())
    assert b"\r\n" in content
    assert "'=HYPERLINK" in content.decode("utf-8-sig")


def test_export_before_any_computation_says_what_to_do(world):
    with pytest.raises(CommandError, match="compute_changemaps"):
        run("export_changemap", "--format", "json")
