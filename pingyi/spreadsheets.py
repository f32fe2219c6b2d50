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
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import python_calamine
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingyi.xlsx import FORMULA_STARTS

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


def check_archive(data: bytes, shown: str) -> None:
    """Refuse a zip-based workbook (.xlsx, .xlsm, .ods) that would unpack to more than
    settings.PINGYI_MAX_UNZIPPED_BYTES, or unpack far beyond its own size (a zip bomb), or that
    carries macros, before any reader inflates it.

    The sizes a zip declares may lie, so every member's compressed bytes are inflated here, in
    chunks, counting the output and stopping at the declared size: a member that inflates past
    what it declares is refused. What the readers later inflate is thereby bounded too.
    """
    words = {"file": shown}
    damaged = _not_excel(shown)
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise damaged from exc
    limit = settings.PINGYI_MAX_UNZIPPED_BYTES
    declared = sum(member.file_size for member in members)
    packed = max(sum(member.compress_size for member in members), 1)
    if len(members) > MAX_ARCHIVE_MEMBERS or declared > limit or _bomb_ratio(declared, packed):
        raise _unzipped_too_large(shown, declared)
    if any(member.filename.lower().endswith("vbaproject.bin") for member in members):
        raise SpreadsheetError(
            _(
                "文件“%(file)s”含有宏（VBA 代码），为安全起见不予读取。"
                "请在 Excel 中另存为“Excel 工作簿(.xlsx)”后再上传。"
            )
            % words
        )
    for member in members:
        inflated = _inflated_size(data, member, cap=member.file_size)
        if inflated is None:
            raise damaged
        if inflated > member.file_size:
            raise _unzipped_too_large(shown, declared + inflated)


# A workbook holds a few dozen parts; a zip of thousands is no spreadsheet an admin saved.
MAX_ARCHIVE_MEMBERS = 10_000
# Office files shrink about ten times when zipped (a 300,000-row roster: 118 MB in 10.7 MB);
# a zip bomb of zeros a thousand times. The ratio is only checked above a size that matters.
MAX_ARCHIVE_RATIO = 100
_RATIO_FROM_BYTES = 16 * 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def _bomb_ratio(declared: int, packed: int) -> bool:
    return declared > _RATIO_FROM_BYTES and declared / packed > MAX_ARCHIVE_RATIO


def _unzipped_too_large(shown: str, size: int) -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "文件“%(file)s”解压后有 %(size)s，超过了上限（%(limit)s），"
            "或压缩比异常（疑似“压缩炸弹”），不予读取。请确认文件是填好的表格，删去无关的工作表后再上传。"
        )
        % {
            "file": shown,
            "size": _size_text(size),
            "limit": _size_text(settings.PINGYI_MAX_UNZIPPED_BYTES),
        }
    )


def _inflated_size(data: bytes, member: zipfile.ZipInfo, *, cap: int) -> int | None:
    """How many bytes the member's compressed data inflates to, counted up to cap + 1 (enough to
    tell it exceeds cap); None when the data is not readable as stored or deflated."""
    offset = member.header_offset
    header = data[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        return None
    start = offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    compressed = data[start : start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        return len(compressed)
    if member.compress_type != zipfile.ZIP_DEFLATED:
        return None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    try:
        chunk = inflater.decompress(compressed, 1 << 20)
        while True:
            size += len(chunk)
            if size > cap or not inflater.unconsumed_tail:
                break
            chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
        if size <= cap:
            size += len(inflater.flush())
    except zlib.error:
        return None
    return size


def _size_text(size: int) -> str:
    if size >= 1024 * 1024 * 1024:
        return f"{size / 1024 / 1024 / 1024:.1f} GB"
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
    SpreadsheetError when the file is empty, too large, not a spreadsheet (a picture or a PDF
    renamed .xlsx), a zip bomb, a workbook with macros, longer than max_rows or in an encoding
    that cannot be told. Rows are counted before they are read into Python, so a file of a
    million rows is refused without building them. Formulas are never evaluated: a formula cell
    reads as the value Excel saved with it, and text beginning with = stays text.
    """
    check_upload_size(len(data))
    shown = filename or _("上传的文件")
    words = {"file": shown, "document": document}
    if not data.strip():
        raise SpreadsheetError(_("文件“%(file)s”是空的，请选择填好的%(document)s。") % words)
    extension = file_extension(filename)
    foreign = _foreign_kind(data)
    if foreign:
        raise SpreadsheetError(
            _(
                "文件“%(file)s”是 %(kind)s，不是表格文件：%(document)s请用 Excel（.xlsx、.xls）"
                "或 .csv 格式。"
            )
            % {**words, "kind": foreign}
        )
    too_many = _TooMany(shown=shown, max_rows=max_rows, hint=too_many_rows_hint)
    if data.startswith(_ZIP_MAGIC):
        check_archive(data, shown)
        rows = _read_workbook(data, shown, find_header, too_many)
    elif data.startswith(_OLE_MAGIC) or extension in WORKBOOK_EXTENSIONS:
        rows = _read_workbook(data, shown, find_header, too_many)
    elif extension in TEXT_EXTENSIONS:
        rows = _read_csv(data, shown, too_many)
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
        raise too_many.error(len(rows))
    return rows


# The first bytes of files admins pick by mistake, and what to call them in the refusal.
_FOREIGN_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", gettext_lazy("PNG 图片")),
    (b"\xff\xd8\xff", gettext_lazy("JPEG 图片")),
    (b"GIF8", gettext_lazy("GIF 图片")),
    (b"%PDF", gettext_lazy("PDF 文档")),
    (b"Rar!", gettext_lazy("RAR 压缩包")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("7z 压缩包")),
    (b"\x1f\x8b", gettext_lazy("gzip 压缩包")),
    (b"\x7fELF", gettext_lazy("程序文件")),
)


def _foreign_kind(data: bytes) -> str:
    """What a file that is certainly no spreadsheet is (a picture, a PDF…), "" otherwise."""
    for magic, kind in _FOREIGN_MAGIC:
        if data.startswith(magic):
            return str(kind)
    return ""


@dataclass
class _TooMany:
    """The refusal of a file longer than max_rows, in the words of its import."""

    shown: str
    max_rows: int
    hint: str

    def error(self, rows: int) -> SpreadsheetError:
        return SpreadsheetError(
            _("文件“%(file)s”有 %(rows)s 行，超过了 %(max)s 行的上限；%(hint)s")
            % {
                "file": self.shown,
                "rows": f"{rows:,}",
                "max": f"{self.max_rows:,}",
                "hint": self.hint,
            }
        )


def _not_excel(shown: str) -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "文件“%(file)s”无法作为 Excel 表格打开：文件可能已损坏，或并不是 Excel 文件。"
            "请在 Excel 中打开它，另存为 .xlsx 后再上传。"
        )
        % {"file": shown}
    )


def _read_workbook(data: bytes, shown: str, find_header: HeaderFinder, too_many: _TooMany) -> Table:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            workbook.get_sheet_by_name(meta.name)
            for meta in workbook.sheets_metadata
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
            and meta.visible == python_calamine.SheetVisibleEnum.Visible
        ]
        # calamine holds a sheet compactly; its rows become Python lists only once counted.
        for sheet in sheets:
            height = sheet.end[0] + 1 if sheet.end else 0  # rows from row 1 to the last used
            if height > too_many.max_rows:
                raise too_many.error(height)
        tables = [sheet.to_python(skip_empty_area=False) for sheet in sheets]
    except SpreadsheetError:
        raise
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(
            _("文件“%(file)s”设置了打开密码，请在 Excel 中取消密码后再上传。") % {"file": shown}
        ) from exc
    # calamine answers a damaged or foreign file with several unrelated exception types
    # (CalamineError, ZipError, XmlError, ValueError…); to the admin they all mean one thing.
    except Exception as exc:
        raise _not_excel(shown) from exc
    # A workbook may hold notes or a chart before the table: take the first sheet with a header.
    for rows in tables:
        if find_header(rows) is not None:
            return rows
    return tables[0] if tables else []


def _read_csv(data: bytes, shown: str, too_many: _TooMany) -> list[list[str]]:
    text = _decode_text(data, shown)
    first_lines = text[:4096]
    # Excel's "Unicode 文本" is tab-separated; its CSV is comma-separated.
    delimiter = "\t" if first_lines.count("\t") > first_lines.count(",") else ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > too_many.max_rows and not is_blank(row):
                # Counting lines is enough to tell the admin how long the file is.
                raise too_many.error(text.count("\n") + (not text.endswith("\n")))
    except csv.Error as exc:
        raise SpreadsheetError(
            _("文件“%(file)s”不是有效的 CSV 文件：%(error)s") % {"file": shown, "error": exc}
        ) from exc
    return rows


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
    if value is None:
        return ""
    # A cell our exports neutralised ('=…, see pingyi.xlsx.safe_text) reads back as it was typed,
    # so that a workbook of refused rows can be corrected and imported again.
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


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
