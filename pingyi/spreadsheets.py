"""Spreadsheets as admins upload them: read .xlsx/.xls/.csv into rows of cells, keep an upload
between its preview and its confirmation.

Every import (the task table, the roster) reads through here, so a file that one accepts the
other accepts too, and their refusals read alike. What a table means is the importer's business:
it passes the function that finds its header and the words that name the document.
"""

import codecs
import contextlib
import csv
import io
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import python_calamine
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WORKBOOK_EXTENSIONS = frozenset({"xlsx", "xlsm", "xls", "xlsb", "ods"})
TEXT_EXTENSIONS = frozenset({"csv", "txt"})
# Excel files are recognised by their first bytes too: a workbook saved without its extension,
# or renamed to .csv, is still read as the workbook it is.
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Table = list[list[object]]
HeaderFinder = Callable[[Table], int | None]


class SpreadsheetError(Exception):
    """The file cannot be read as a table; the message says why, in Chinese."""


def check_upload_size(size: int) -> None:
    """Refuse a file larger than settings.PINGYI_MAX_UPLOAD_BYTES before anything reads it."""
    limit = settings.PINGYI_MAX_UPLOAD_BYTES
    if size > limit:
        raise SpreadsheetError(
            _(
                "文件大小为 %(size)s，超过了上限（%(limit)s）。"
                "请删去无关的工作表，或另存为 .csv 后再上传。"
            )
            % {"size": _size_text(size), "limit": _size_text(limit)}
        )


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return _("%(size)s 字节") % {"size": size}


def file_extension(filename: str) -> str:
    return Path(filename).suffix.lower().lstrip(".")


def read_table(
    data: bytes,
    filename: str,
    *,
    document: str,
    find_header: HeaderFinder,
    max_rows: int,
    too_many_rows_hint: str,
) -> Table:
    """The rows of a .xlsx, .xls or .csv file, each a list of cell values (row 1 is index 0).

    `document` names what the admin should have chosen (任务分解表, 会员名册) in messages;
    `find_header` picks, in a workbook, the first sheet that holds the table. Raises
    SpreadsheetError when the file is empty, too large, not a spreadsheet, longer than
    max_rows or in an encoding that cannot be told.
    """
    check_upload_size(len(data))
    shown = filename or _("上传的文件")
    words = {"file": shown, "document": document}
    if not data.strip():
        raise SpreadsheetError(_("文件“%(file)s”是空的，请选择填好的%(document)s。") % words)
    extension = file_extension(filename)
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or extension in WORKBOOK_EXTENSIONS:
        rows = _read_workbook(data, shown, find_header)
    elif extension in TEXT_EXTENSIONS:
        rows = _read_csv(data, shown)
    else:
        raise SpreadsheetError(
            _("文件“%(file)s”不是表格文件：%(document)s请用 Excel（.xlsx、.xls）或 .csv 格式。")
            % words
        )
    rows = [[_clean_cell(cell) for cell in row] for row in rows]
    while rows and is_blank(rows[-1]):
        rows.pop()
    if not rows:
        raise SpreadsheetError(
            _("文件“%(file)s”中没有任何内容，请选择填好的%(document)s。") % words
        )
    if len(rows) > max_rows:
        raise SpreadsheetError(
            _("文件“%(file)s”有 %(rows)s 行，超过了 %(max)s 行的上限；%(hint)s")
            % {
                "file": shown,
                "rows": f"{len(rows):,}",
                "max": f"{max_rows:,}",
                "hint": too_many_rows_hint,
            }
        )
    return rows


def _read_workbook(data: bytes, shown: str, find_header: HeaderFinder) -> Table:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            for meta in workbook.sheets_metadata
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
            and meta.visible == python_calamine.SheetVisibleEnum.Visible
        ]
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(
            _("文件“%(file)s”设置了打开密码，请在 Excel 中取消密码后再上传。") % {"file": shown}
        ) from exc
    # calamine answers a damaged or foreign file with several unrelated exception types
    # (CalamineError, ZipError, XmlError, ValueError…); to the admin they all mean one thing.
    except Exception as exc:
        raise SpreadsheetError(
            _(
                "文件“%(file)s”无法作为 Excel 表格打开：文件可能已损坏，或并不是 Excel 文件。"
                "请在 Excel 中打开它，另存为 .xlsx 后再上传。"
            )
            % {"file": shown}
        ) from exc
    # A workbook may hold notes or a chart before the table: take the first sheet with a header.
    for rows in sheets:
        if find_header(rows) is not None:
            return rows
    return sheets[0] if sheets else []


def _read_csv(data: bytes, shown: str) -> list[list[str]]:
    text = _decode_text(data, shown)
    first_lines = text[:4096]
    # Excel's "Unicode 文本" is tab-separated; its CSV is comma-separated.
    delimiter = "\t" if first_lines.count("\t") > first_lines.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SpreadsheetError(
            _("文件“%(file)s”不是有效的 CSV 文件：%(error)s") % {"file": shown, "error": exc}
        ) from exc


def _decode_text(data: bytes, shown: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 — what Excel in China writes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise SpreadsheetError(
        _(
            "文件“%(file)s”不是文本格式的 CSV，或无法识别其编码。"
            "请在 Excel 中另存为“CSV UTF-8(逗号分隔)”或“CSV(逗号分隔)”后再上传。"
        )
        % {"file": shown}
    )


def _clean_cell(value: object) -> object:
    return "" if value is None else value


def is_blank(row: list[object]) -> bool:
    return all(cell_text(cell) == "" for cell in row)


def cell_text(value: object) -> str:
    """A cell as the admin reads it: 3513.0 shows as 3513, text loses its outer spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def columns_named(row: list[object], column_of: Callable[[object], str | None]) -> dict[str, int]:
    """The columns a header row names (column_of tells a cell's column), each with its index;
    the first cell naming a column wins."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        column = column_of(cell)
        if column is not None and column not in found:
            found[column] = index
    return found


# ---------------------------------------------------------------------------------------------
# Uploads waiting between the preview and the confirmation.

# A preview nobody confirmed is of no use after a working day; older files are removed.
STASH_MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
EXPIRED_MESSAGE = gettext_lazy("这次预览已过期或已经导入，请重新上传文件。")


class UploadStash:
    """Uploaded files kept under MEDIA_ROOT/<area>/ by a random token until confirmed.

    The folder must be shared by the web servers and the workers that confirm an import.
    """

    def __init__(self, area: str):
        self.area = area

    def _dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.area

    def _path(self, token: str, filename: str) -> Path:
        if not _TOKEN.fullmatch(token):
            raise SpreadsheetError(EXPIRED_MESSAGE)
        extension = file_extension(filename)
        suffix = extension if extension in WORKBOOK_EXTENSIONS | TEXT_EXTENSIONS else "bin"
        return self._dir() / f"{token}.{suffix}"

    def stash(self, *, data: bytes, filename: str) -> str:
        """Keep an uploaded file until the admin confirms the preview; returns its token."""
        directory = self._dir()
        directory.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STASH_MAX_AGE_SECONDS
        for old in directory.iterdir():
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        token = uuid.uuid4().hex
        self._path(token, filename).write_bytes(data)
        return token

    def read(self, *, token: str, filename: str) -> bytes:
        path = self._path(token, filename)
        if not path.is_file():
            raise SpreadsheetError(EXPIRED_MESSAGE)
        return path.read_bytes()

    def discard(self, *, token: str, filename: str) -> None:
        with contextlib.suppress(SpreadsheetError):
            self._path(token, filename).unlink(missing_ok=True)
