"""Reading spreadsheets people upload (CSV or XLSX) into rows of text, the same way everywhere.

Every import (people, historic pulses) reads files here: the type is recognised from the content,
CSV may be UTF-8 with or without a byte-order mark and comma-, semicolon- or tab-separated,
headers are matched through an alias table, and rows keep the spreadsheet's own numbers (header
= row 1) so messages point at the right line. Errors are collected per row, never raised one at
a time, so a person sees every problem in one go.
"""

import io
import re
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from core.spreadsheets import FORMULA_GUARD, strip_formula_guard

XLSX_SIGNATURE = b"PK\x03\x04"  # an .xlsx file is a zip archive
XLS_SIGNATURE = b"\xd0\xcf\x11\xe0"  # the pre-2007 binary format
CSV_DELIMITERS = (",", ";", "\t")


def normal_text(text: str) -> str:
    """Header and vocabulary matching ignores case, spaces and punctuation."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


class ImportFileError(Exception):
    """The file as a whole cannot be read; `row` is 1 when the header is the problem."""

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.row = row


@dataclass(frozen=True)
class RowError:
    """One problem: `row` as the spreadsheet numbers it, or None for the file as a whole."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = "File" if self.row is None else f"Row {self.row}"
        return f"{where}{f', {self.column}' if self.column else ''}: {self.message}"


class RowErrors(list):
    """The problems found so far, in reading order."""

    def add(self, row: int | None, column: str, message: str) -> None:
        self.append(RowError(row, column, message))


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")  # with or without a byte-order mark
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "The file is not UTF-8 text. In Excel, choose Save As › “CSV UTF-8 (Comma "
            "delimited)”, or upload the .xlsx workbook instead."
        ) from error
    header_line = text.split("\n", 1)[0]
    # Excel writes semicolons where the decimal separator is a comma; headers never contain
    # either, so the header line tells which one this file uses (ties go to the comma).
    delimiter = max(CSV_DELIMITERS, key=header_line.count)
    try:
        # No header inference and no dropped blank lines: row numbers must match the spreadsheet.
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError as error:
        raise ImportFileError("The file is empty.") from error
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = found.groups()
            message = f"Row {line} has {saw} cells but the header has {expected}."
        else:
            message = f"The file could not be read as CSV ({error})."
        raise ImportFileError(message) from error


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_excel(
            io.BytesIO(data),
            sheet_name=0,
            header=None,
            dtype=str,
            keep_default_na=False,
            engine="openpyxl",
        )
    # A damaged or disguised workbook fails in many ways inside openpyxl and zipfile; to the
    # person uploading it they all mean the same thing.
    except Exception as error:
        raise ImportFileError("The file could not be read as an Excel workbook (.xlsx).") from error


def read_rows(
    data: bytes, *, aliases: dict[str, str], labels: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV or XLSX file into (rows, ignored header names).

    `aliases` maps `normal_text(header)` to a column name and `labels` names each column for
    messages. The frame has one column per recognised header holding stripped strings ("" for an
    empty cell; the apostrophe our exports put before formula characters removed), indexed by
    spreadsheet row number; completely empty rows are dropped. Raises ImportFileError when the
    file cannot be read or two headers mean the same column.
    """
    if data.startswith(XLS_SIGNATURE):
        raise ImportFileError(
            "This is an old Excel file (.xls). Save it as .xlsx or as CSV UTF-8 and upload it again."
        )
    raw = _read_xlsx(data) if data.startswith(XLSX_SIGNATURE) else _read_csv(data)
    if raw.empty:
        raise ImportFileError("The file is empty.")
    raw = raw.fillna("").astype(str)
    headers = [header.strip() for header in raw.iloc[0]]
    positions: dict[str, int] = {}
    ignored = []
    for position, header in enumerate(headers):
        if not header:
            continue
        column = aliases.get(normal_text(header))
        if column is None:
            ignored.append(header)
        elif column in positions:
            raise ImportFileError(
                f"The columns “{headers[positions[column]]}” and “{header}” both mean "
                f"{labels[column].lower()}; keep one of them.",
                row=1,
            )
        else:
            positions[column] = position
    frame = raw.iloc[1:, list(positions.values())].copy()
    frame.columns = list(positions)
    frame.index = pd.RangeIndex(2, len(raw) + 1)
    for column in frame.columns:
        # Plain str methods, and the guard looked for once per column: pandas' .str methods and
        # a regex per cell cost five times as much, which was most of reading a 10,000-row file.
        cells = [cell.strip() for cell in frame[column].tolist()]
        if "\n" + FORMULA_GUARD in "\n" + "\n".join(cells):
            cells = [strip_formula_guard(cell).strip() for cell in cells]
        frame[column] = cells
    if len(frame.columns):
        frame = frame[(frame != "").any(axis=1)]
    return frame, ignored


class Action(StrEnum):
    """What an import does with one row."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


class PlanSummary:
    """Counts shared by import plans: a plan has `rows` (each with an `action`) and `errors`."""

    rows: list
    errors: list

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def _count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action is action)

    @property
    def created(self) -> int:
        return self._count(Action.CREATE)

    @property
    def updated(self) -> int:
        return self._count(Action.UPDATE)

    @property
    def unchanged(self) -> int:
        return self._count(Action.UNCHANGED)
