"""Formula injection: no cell of any CSV or XLSX we hand out is one a spreadsheet would run.

Two properties: the writers in core/spreadsheets.py neutralise any generated cell (and lose
nothing: importing undoes the guard), and every export route — found by asking every route for
CSV and XLSX, not from a list — neutralises free text that starts like a formula, whatever field
of whatever row it was typed into.
"""

import csv
import io

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.spreadsheets import (
    FORMULA_TRIGGERS,
    csv_bytes,
    csv_stream,
    neutralise_formula,
    strip_formula_guard,
    xlsx_bytes,
    xlsx_file,
)
from tests.security.routes import PUBLIC, url_of
from tests.security.sweep import classified_routes
from tests.security.xss import fill_every_free_text_field

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["a", "b", "c"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
formula_like = st.builds(
    lambda trigger, rest: trigger + rest, st.sampled_from(FORMULA_TRIGGERS), text
)
cells = st.one_of(
    text, formula_like, st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.none()
)
tables = st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=6)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]


def _xlsx_cells(data: bytes):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows(min_row=2) for cell in row]


def _runs(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _is_number(value)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_csv_writers_neutralise_every_cell_and_lose_nothing(rows):
    written = [
        b"".join(csv_stream(HEADER, rows)),
        csv_bytes(pd.DataFrame(rows, columns=HEADER, dtype=object)),
    ]
    for data in written:
        parsed = _csv_rows(data)
        assert not [cell for row in parsed for cell in row if _runs(cell)]
        for original, row in zip(rows, parsed, strict=True):
            for value, cell in zip(original, row, strict=True):
                if isinstance(value, str):
                    assert strip_formula_guard(cell) == value


@settings(max_examples=60, deadline=None)
@given(tables)
def test_xlsx_writers_neutralise_every_cell_and_lose_nothing(rows):
    written = [
        xlsx_file(HEADER, rows, sheet_name="Sheet1").read(),
        xlsx_bytes(pd.DataFrame(rows, columns=HEADER, dtype=object)),
    ]
    strings = [value for row in rows for value in row if isinstance(value, str)]
    for data in written:
        cells = _xlsx_cells(data)
        assert not [c.coordinate for c in cells if c.data_type == "f" or _runs(c.value)]
        stored = [_lines(c.value) for c in cells if isinstance(c.value, str) and c.value]
        # What was typed, less the characters XML cannot hold, behind the guard; XML turns
        # carriage returns into line feeds.
        expected = [neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value)) for value in strings]
        assert stored == [_lines(value) for value in expected if value]


def _lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _exports(client, world) -> list[str]:
    """Every URL that answers with a CSV or XLSX file, asked in both formats."""
    found = []
    for route in classified_routes():
        if route.rule().access == PUBLIC:
            continue
        url = url_of(route, world)
        for candidate in (url, f"{url}?format=csv", f"{url}?format=xlsx"):
            response = client.get(candidate)
            kind = response.get("Content-Type", "")
            if response.status_code == 200 and kind.startswith((CSV, XLSX)):
                found.append(candidate)
    return found


def _cells_of(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response["Content-Type"].startswith(XLSX):
        cells = _xlsx_cells(content)
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        return [c.value for c in cells if isinstance(c.value, str)]
    return [cell for row in _csv_rows(content) for cell in row]


@pytest.mark.django_db
def test_every_export_neutralises_formulas_typed_into_any_field(client_for, administrator, own):
    client = client_for(administrator)
    exports = _exports(client, own)
    assert len(exports) >= 10, exports

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(FORMULA_TRIGGERS), st.sampled_from(["cmd|'/C calc'!A0", "1+1",
           'HYPERLINK("http://evil.example","x")', "SUM(A1:A9)"]))  # fmt: skip
    def check(trigger, formula):
        typed = trigger + formula
        fill_every_free_text_field(payloads=[typed])
        carried = []
        for url in exports:
            cells = _cells_of(client.get(url))
            assert not [cell for cell in cells if _runs(cell)], url
            carried.append(any(cell.startswith("'" + typed) for cell in cells))
        # The typed text does reach the files (most exports carry some free text).
        assert sum(carried) >= len(exports) // 2, list(zip(exports, carried, strict=True))

    check()
