"""Spreadsheet files we hand out (CSV and XLSX), safe to open in Excel, LibreOffice and Sheets.

Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula ("CSV injection", OWASP). Our data is typed by people and by imports, so a contact
can well be called `=HYPERLINK("http://evil.example", "Click")`. Every exported text cell goes
through `neutralise_formula`, which puts an apostrophe in front of such a value: the convention
spreadsheets themselves use for "this is text". Importers call `strip_formula_guards` so that a
file we exported re-imports unchanged.

Exports go through `csv_response` or `xlsx_response` (a DataFrame, fine for one account's
people) or `spreadsheet_response` (rows from an iterator, for exports that can reach tens of
thousands of rows: responses, actions, change maps), so no export can forget the guard.
"""

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

import pandas as pd
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font

from core.models import AuditEvent
from core.services.audit import audit_record

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


# --- Large exports: rows from an iterator, never the whole file in memory -------------------------

EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ExportRows:
    """What an export selector hands its view: the header, the rows and how many there are.

    `rows` is lazy (it reads the database while the file is written), so a large export never
    sits in memory; `count` is read up front for the audit log.
    """

    header: list[str]
    rows: Iterable[Sequence]
    count: int


class ExportRequestError(ValueError):
    """The query string of an export asks for something we cannot give (a clear 400)."""


def export_format(value: str | None) -> str:
    """The requested format (`csv` when none is given); ExportRequestError for anything else."""
    chosen = (value or "csv").strip().lower()
    if chosen not in EXPORT_FORMATS:
        raise ExportRequestError("Choose format=csv or format=xlsx.")
    return chosen


def export_filename(*parts: str, extension: str, on: date | None = None) -> str:
    """A download name like `responses-northwind-logistics-2026-11-23.csv`.

    Every part is slugified to ASCII letters, digits and hyphens, so nothing a user typed (an
    account called `x"; filename=evil.exe` or one with a line break) can reach the header; a part
    that slugifies to nothing (a name in another script) is left out.
    """
    slugs = [slugify(part)[:60].strip("-") for part in parts]
    day = (on or timezone.localdate()).isoformat()
    return "-".join([*(slug for slug in slugs if slug), day]) + f".{extension}"


def _plain(value: object) -> object:
    """A value both writers can take: local, naive datetimes; numpy scalars as Python ones."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        # Spreadsheets have no time zones (openpyxl refuses aware datetimes): local wall time.
        return value.replace(tzinfo=None, microsecond=0)
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def _csv_cell(value: object) -> object:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise_formula(value)


class _Echo:
    """A file-like that hands back what `csv.writer` writes, so each row can be streamed."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[bytes]:
    """The rows as CSV bytes, one row at a time (same dialect as `csv_bytes`)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow([str(name) for name in header])).encode("utf-8")
    for row in rows:
        yield writer.writerow([_csv_cell(value) for value in row]).encode("utf-8")


# A workbook is a zip of XML parts. openpyxl's write-only mode took 60 s for 50,000 responses
# (a million cells) on the development machine, past gunicorn's 30-second timeout; writing the
# one sheet's XML directly takes 11 s. Inline strings, a bold frozen header row, dates as dates:
# small enough to read in full, and the tests read every file it writes back with openpyxl.
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # Cell styles: 0 plain, 1 date, 2 date and time, 3 bold (the header).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
)
_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - spreadsheet serial dates have no zone


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(text: str) -> str:
    # str.replace beats str.translate many times over on short, mostly clean text. XML would
    # read a bare CR back as a line feed; written as a character reference it survives.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _xlsx_xml_cell(ref: str, value: object, *, style: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # Control characters go before the formula check, as in `_xlsx_cell`.
        text = _xml_text(neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value)))
        styled = f' s="{style}"' if style else ""
        return f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, float):
        return "" if value != value else f'<c r="{ref}"><v>{value!r}</v></c>'  # NaN: empty
    if isinstance(value, datetime):
        serial = (_plain(value) - _EXCEL_EPOCH).total_seconds() / 86_400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="1"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
    plain = _plain(value)  # numpy scalars, Decimal and the like
    if plain is value:
        return _xlsx_xml_cell(ref, str(value), style=style)
    return _xlsx_xml_cell(ref, plain, style=style)


def xlsx_file(header: Sequence[str], rows: Iterable[Sequence], *, sheet_name: str):
    """The rows as a one-sheet workbook in a temporary file (rewound), formulas neutralised.

    Rows go to the zip as they come and the finished file is streamed from disk, so memory
    stays flat whatever the number of rows. Text is always a string cell, never a formula.
    """
    letters = [_column_letters(index) for index in range(len(header))]
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, xml in _XLSX_PARTS.items():
            package.writestr(name, xml)
        title = escape(sheet_name[:31], {'"': "&quot;"})
        package.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            sheet = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
            sheet.write(_SHEET_START)
            cells = "".join(
                _xlsx_xml_cell(f"{letter}1", str(name), style=3)
                for letter, name in zip(letters, header, strict=True)
            )
            sheet.write(f'<row r="1">{cells}</row>')
            for number, row in enumerate(rows, start=2):
                cells = "".join(
                    _xlsx_xml_cell(f"{letter}{number}", value)
                    for letter, value in zip(letters, row, strict=True)
                )
                sheet.write(f'<row r="{number}">{cells}</row>')
            sheet.write("</sheetData></worksheet>")
            sheet.flush()
            sheet.detach()
    handle.seek(0)
    return handle


def spreadsheet_response(
    *,
    kind: str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    filename: str,
    sheet_name: str = "Sheet1",
) -> HttpResponse:
    """A download of `rows` (an iterator of sequences matching `header`) as `kind` (csv|xlsx).

    CSV is streamed while the rows are read; XLSX is built in a temporary file first (a zip
    cannot be streamed row by row) and then streamed from it. `filename` must come from
    `export_filename`. Formulas are neutralised in both.
    """
    if kind == "csv":
        response = StreamingHttpResponse(csv_stream(header, rows), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        response = FileResponse(
            xlsx_file(header, rows, sheet_name=sheet_name),
            as_attachment=True,
            filename=filename,
            content_type=XLSX_CONTENT_TYPE,
        )
    response["Cache-Control"] = "private, no-store"
    return response


def audited_export_response(
    request,
    *,
    export: ExportRows,
    kind: str,
    name: str,
    target: str,
    target_id: object = "",
    filters: dict,
    filename: str,
    sheet_name: str,
) -> HttpResponse:
    """Record the export in the audit log (who, what, format, row count, filters), then answer
    the download: every page's export goes through here, so none can skip the log."""
    audit_record(
        actor=request.user,
        verb=AuditEvent.Verb.EXPORTED,
        target_type="export",
        target_id=target_id,
        target=target,
        detail={"export": name, "format": kind, "rows": export.count, "filters": filters},
        request=request,
    )
    return spreadsheet_response(
        kind=kind, header=export.header, rows=export.rows, filename=filename, sheet_name=sheet_name
    )
