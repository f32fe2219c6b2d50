"""Spreadsheets laid out like the office's own: a title, a dated subtitle, a header, rows, totals.

Every text cell is written as a string, so a name such as "=HYPERLINK(…)" stays text in the
admin's Excel; and every text that begins like a formula (=, +, -, @, a tab or a carriage return)
is written behind a single quote (safe_text, OWASP's advice against CSV injection), so that it
stays text too when the admin edits the cell or saves the sheet as CSV. Numbers, negative ones
included, are written as numbers. Every export of the product writes its text through safe_text.
"""

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | Decimal | None

# The first characters with which Excel, LibreOffice or WPS read a cell's text as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r")
# Text that is a plain number ("-3", "+1.5", "-12%") or a lone dash stays as it is: a spreadsheet
# reads it as that number or that dash, never as a formula.
_PLAIN = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?|-+")


def safe_text(text: str) -> str:
    """Text as an export writes it: behind a single quote when a spreadsheet would otherwise
    take it for a formula ("=HYPERLINK(…)" → "'=HYPERLINK(…)"), unchanged otherwise."""
    if text[:1] in FORMULA_STARTS and not _PLAIN.fullmatch(text):
        return "'" + text
    return text


@dataclass
class Column:
    title: str
    width: float = 12
    kind: str = "text"  # "text", "int", "decimal" (one place), "points" (two) or "percent"


@dataclass
class OfficeSheet:
    title: str
    subtitle: str
    columns: list[Column]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    totals: Sequence[Cell] | None = None
    notes: list[str] = field(default_factory=list)
    sheet_name: str = "Sheet1"


def office_xlsx(sheet: OfficeSheet) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(sheet.sheet_name[:31])
    font = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    title = book.add_format({"bold": True, "font_size": 16, "font_name": "黑体", "align": "center"})
    subtitle = book.add_format({"font_size": 10, "font_name": "宋体", "align": "right"})
    header = book.add_format(
        {**font, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"}
    )
    props = {
        "text": font,
        "int": {**font, "num_format": "#,##0"},
        "decimal": {**font, "num_format": "0.0"},
        "points": {**font, "num_format": "0.00"},
        "percent": {**font, "num_format": "0.0%"},
    }
    formats = {kind: book.add_format(p) for kind, p in props.items()}
    bold = {kind: book.add_format({**p, "bold": True}) for kind, p in props.items()}
    last_col = len(sheet.columns) - 1
    ws.merge_range(0, 0, 0, last_col, safe_text(sheet.title), title)
    ws.merge_range(1, 0, 1, last_col, safe_text(sheet.subtitle), subtitle)
    ws.set_row(0, 28)
    for col, column in enumerate(sheet.columns):
        ws.write_string(2, col, safe_text(column.title), header)
        ws.set_column(col, col, column.width)
    row_index = 3
    for row in sheet.rows:
        _write_row(ws, row_index, row, sheet.columns, formats)
        row_index += 1
    if sheet.totals is not None:
        _write_row(ws, row_index, sheet.totals, sheet.columns, bold)
        row_index += 1
    for note in sheet.notes:
        row_index += 1
        ws.write_string(row_index, 0, safe_text(note))
    ws.freeze_panes(3, 0)
    ws.repeat_rows(2)  # the header again on every printed page, as the offices print them
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    book.close()
    return buffer.getvalue()


def _write_row(ws, index: int, row: Sequence[Cell], columns: list[Column], formats) -> None:
    for col, (value, column) in enumerate(zip(row, columns, strict=True)):
        fmt = formats[column.kind]
        if value is None or value == "":
            ws.write_blank(index, col, None, fmt)
        elif column.kind == "text" or isinstance(value, str):
            ws.write_string(index, col, safe_text(str(value)), formats["text"])
        else:
            ws.write_number(index, col, float(value) if isinstance(value, Decimal) else value, fmt)


def xlsx_download(data: bytes, filename: str) -> FileResponse:
    """A workbook as a download; the (Chinese) file name is encoded for every browser."""
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
