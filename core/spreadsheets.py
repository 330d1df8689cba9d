"""Spreadsheet files we hand out (CSV and XLSX), safe to open in Excel, LibreOffice and Sheets.

Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula ("CSV injection", OWASP). Our data is typed by people and by imports, so a contact
can well be called `=HYPERLINK("http://evil.example", "Click")`. Every exported text cell goes
through `neutralise_formula`, which puts an apostrophe in front of such a value: the convention
spreadsheets themselves use for "this is text". Importers call `strip_formula_guards` so that a
file we exported re-imports unchanged.

Exports go through `csv_response` or `xlsx_response` (people today; responses and actions
later), so no export can forget the guard.
"""

import io
from collections.abc import Sequence

import pandas as pd
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"
# A guard that `neutralise_formula` added: an apostrophe directly before a trigger character.
_GUARDED = rf"^{FORMULA_GUARD}(?=[=+\-@\t\r])"

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise_formula(value: object) -> object:
    """`value` made safe for a spreadsheet cell. Only text can be a formula; the rest passes."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return FORMULA_GUARD + value
    return value


def strip_formula_guard(value: str) -> str:
    """Undo `neutralise_formula` on one imported cell."""
    if value.startswith(FORMULA_GUARD) and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def strip_formula_guards(cells: pd.Series) -> pd.Series:
    """`strip_formula_guard` over a column of strings, vectorised for large imports."""
    return cells.str.replace(_GUARDED, "", regex=True)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell passed through `neutralise_formula`."""
    return frame.map(neutralise_formula)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV, formulas neutralised.

    UTF-8 with a byte-order mark, because Excel reads a CSV without one in the legacy code page
    and garbles every accented name; CRLF line ends as RFC 4180 asks.
    """
    text = neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")


def _xlsx_cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        # openpyxl refuses control characters; strip them before the formula check so that a
        # value like "\x01=cmd" cannot become "=cmd" after the guard was decided.
        return neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def xlsx_bytes(frame: pd.DataFrame, *, sheet_name: str = "Sheet1") -> bytes:
    """The frame as an Excel workbook with a bold, frozen header row, formulas neutralised.

    Text cells are always written as text: openpyxl would otherwise store a string that starts
    with "=" as a formula, which the guard also prevents.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name[:31])  # Excel's limit for sheet names
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for record in frame.itertuples(index=False, name=None):
        sheet.append([_xlsx_cell(value) for value in record])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Exports hold personal data: never let a shared cache keep them.
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(frame: pd.DataFrame, *, filename: str) -> HttpResponse:
    """A download of `frame` as CSV (see `csv_bytes`)."""
    return _download(csv_bytes(frame), content_type=CSV_CONTENT_TYPE, filename=filename)


def xlsx_response(
    frame: pd.DataFrame, *, filename: str, sheet_name: str = "Sheet1"
) -> HttpResponse:
    """A download of `frame` as an Excel workbook (see `xlsx_bytes`)."""
    return _download(
        xlsx_bytes(frame, sheet_name=sheet_name), content_type=XLSX_CONTENT_TYPE, filename=filename
    )


def frame_from_records(records: Sequence[dict], *, columns: Sequence[str]) -> pd.DataFrame:
    """A frame with exactly `columns`, in that order, even when there are no records."""
    return pd.DataFrame.from_records(list(records), columns=list(columns))
