"""Files that are not the spreadsheet an admin meant to upload, through both imports' pages.

Each is refused with a Chinese message naming the file and what is expected, and nothing is
stored (no import record, no member, no org, no kept file); formulas are never evaluated.
"""

import io
import random
import struct
import tracemalloc
import types
import zipfile

import openpyxl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from fpdf import FPDF
from PIL import Image

from campaigns.models import TaskTableImport
from conftest import fake_id_number
from members.models import Member, RosterImport
from members.roster_import import read_roster
from orgs.models import Org
from orgs.selectors import children_of
from orgs.services import normalize_org_name
from pingyi.spreadsheets import SpreadsheetError

pytestmark = pytest.mark.django_db

ROSTER_HEADER = "姓名,身份证号码,手机号码,所在工会,性别,入会时间"
TASK_HEADER = "序号,名称,年报工会会员人数(人),参评目标工会会员数(人)"
EXPECTED_FORMATS = "Excel（.xlsx、.xls）或 .csv"
GIGABYTE = 1024**3


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload_roster(client, world, content: bytes, name: str):
    return client.post(
        reverse("roster_imports:new"),
        {"parent": world.town.pk, "file": SimpleUploadedFile(name, content)},
    )


def upload_task_table(client, world, content: bytes, name: str):
    return client.post(
        reverse("imports:new"),
        {
            "parent": world.town.pk,
            "campaign": world.campaign.pk,
            "file": SimpleUploadedFile(name, content),
        },
    )


IMPORTS = {"roster": upload_roster, "task_table": upload_task_table}


def refusal(response) -> str:
    """The refusal on the upload form's file field, as the page shows it."""
    assert response.status_code == 200
    errors = response.context["form"].errors.get("file")
    assert errors, "the upload was not refused"
    assert errors[0] in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    return errors[0]


def assert_nothing_stored(media_root, orgs_before: int) -> None:
    assert not RosterImport.objects.exists()
    assert not TaskTableImport.objects.exists()
    assert not Member.objects.exists()
    assert Org.objects.count() == orgs_before
    kept = [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []
    assert kept == []


# ---------------------------------------------------------------------------------------------
# Files that are no spreadsheet at all.


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    return bytes(pdf.output())


NOT_SPREADSHEETS = [
    pytest.param(png_bytes, "名册.xlsx", "是 PNG 图片，不是表格文件", id="png-renamed-xlsx"),
    pytest.param(pdf_bytes, "名册.xlsx", "是 PDF 文档，不是表格文件", id="pdf-renamed-xlsx"),
    pytest.param(pdf_bytes, "名册.pdf", "是 PDF 文档，不是表格文件", id="pdf"),
    pytest.param(
        lambda: random.Random(9).randbytes(4096),
        "名册.xlsx",
        "无法作为 Excel 表格打开",
        id="random-bytes-xlsx",
    ),
    pytest.param(
        lambda: random.Random(9).randbytes(4096),
        "名册.csv",
        "不是文本格式的 CSV",
        id="random-bytes-csv",
    ),
    pytest.param(lambda: b"", "名册.xlsx", "是空的", id="empty"),
    pytest.param(lambda: b"PK\x03\x04" + bytes(200), "名册.xlsx", "无法作为 Excel", id="bad-zip"),
]


@pytest.mark.parametrize("kind", IMPORTS)
@pytest.mark.parametrize(("content", "name", "says"), NOT_SPREADSHEETS)
def test_a_file_that_is_not_a_spreadsheet_is_refused_naming_it(
    world, login, media_root, kind, content, name, says
):
    orgs_before = Org.objects.count()
    response = IMPORTS[kind](login(world.town_admin), world, content(), name)

    message = refusal(response)
    assert f"文件“{name}”" in message
    assert says in message
    # Each refusal says what to upload instead.
    assert any(hint in message for hint in (EXPECTED_FORMATS, "另存为", "请选择填好的"))
    assert_nothing_stored(media_root, orgs_before)


# ---------------------------------------------------------------------------------------------
# Zip bombs.


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """About 1 MB that inflates to 1 GB of zeros, dressed as a workbook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            zeros = bytes(1024 * 1024)
            for _ in range(1024):
                sheet.write(zeros)
    return buffer.getvalue()


def lying_about_its_size(bomb: bytes, *, declared: int = 1000) -> bytes:
    """The bomb with its sheet declaring, in both zip headers, that it inflates to `declared`."""
    data = bytearray(bomb)
    name = b"xl/worksheets/sheet1.xml"
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo(name.decode())
    struct.pack_into("<L", data, info.header_offset + 22, declared)  # local header
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        lengths = struct.unpack_from("<3H", data, central + 28)
        central += 46 + sum(lengths)
    struct.pack_into("<L", data, central + 24, declared)  # central directory
    return bytes(data)


@pytest.fixture
def calamine_never_called(monkeypatch):
    """Fails the test if the workbook reader is handed the file."""

    def refuse(*args, **kwargs):
        raise AssertionError("the zip bomb reached calamine")

    stub = types.SimpleNamespace(CalamineWorkbook=types.SimpleNamespace(from_filelike=refuse))
    monkeypatch.setattr("pingyi.spreadsheets.python_calamine", stub)


@pytest.mark.parametrize("kind", IMPORTS)
def test_a_zip_bomb_is_refused_before_it_is_inflated(
    world, login, media_root, zip_bomb, calamine_never_called, kind
):
    assert len(zip_bomb) < 2 * 1024 * 1024
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(zip_bomb)).infolist()) > GIGABYTE
    orgs_before = Org.objects.count()

    message = refusal(IMPORTS[kind](login(world.town_admin), world, zip_bomb, "名册.xlsx"))

    assert message.startswith("文件“名册.xlsx”解压后有 1.0 GB，超过了上限（256.0 MB）")
    assert "压缩炸弹" in message
    assert_nothing_stored(media_root, orgs_before)


def test_a_zip_bomb_that_lies_about_its_size_is_refused_with_bounded_memory(
    zip_bomb, calamine_never_called
):
    liar = lying_about_its_size(zip_bomb)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(liar)).infolist()) < 2000
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError, match="压缩炸弹"):
            read_roster(liar, "名册.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The check inflates a megabyte at a time and stops past the declared size.
    assert peak < 16 * 1024 * 1024


def test_a_zip_that_inflates_a_hundred_times_its_size_is_refused_below_the_limit(settings):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", bytes(20 * 1024 * 1024))  # 20 MB of zeros in 20 KB
    with pytest.raises(SpreadsheetError, match="压缩比异常"):
        read_roster(buffer.getvalue(), "名册.xlsx")


def test_the_unzipped_limit_is_a_setting(settings, world):
    settings.PINGYI_MAX_UNZIPPED_BYTES = 1024
    data = roster_xlsx([["姓名", "身份证号码", "手机号码", "所在工会"]] * 200)
    with pytest.raises(SpreadsheetError, match=r"超过了上限（1.0 KB）"):
        read_roster(data, "名册.xlsx")


# ---------------------------------------------------------------------------------------------
# Too many rows.


def test_a_million_row_roster_is_refused_naming_the_limit(world, login, media_root):
    line = "张三,1,1,1,,\n"  # short lines: a million of them fit the upload limit
    content = (ROSTER_HEADER + "\n" + line * 1_000_000).encode()
    assert len(content) < 20 * 1024 * 1024
    orgs_before = Org.objects.count()

    message = refusal(upload_roster(login(world.town_admin), world, content, "百万行.csv"))

    assert message == (
        "文件“百万行.csv”有 1,000,001 行，超过了 300,000 行的上限；"
        "请把名册按工会分成几个文件分别导入。"
    )
    assert_nothing_stored(media_root, orgs_before)


def test_a_task_table_over_its_row_limit_is_refused(world, login, media_root):
    rows = "".join(f"{i},单位{i},100,70\n" for i in range(1, 20_002))
    content = (TASK_HEADER + "\n" + rows).encode()
    orgs_before = Org.objects.count()

    message = refusal(upload_task_table(login(world.town_admin), world, content, "大表.csv"))

    assert message.startswith("文件“大表.csv”有 20,002 行，超过了 20,000 行的上限")
    assert_nothing_stored(media_root, orgs_before)


def roster_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for values in rows:
        book.active.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_over_the_row_limit_is_refused_before_its_rows_are_built(
    world, login, monkeypatch
):
    monkeypatch.setattr("members.roster_import.MAX_ROSTER_ROWS", 100)
    data = roster_xlsx([["姓名", "身份证号码", "手机号码", "所在工会"]] + [["张三"]] * 150)

    message = refusal(upload_roster(login(world.town_admin), world, data, "名册.xlsx"))

    assert message.startswith("文件“名册.xlsx”有 151 行，超过了 100 行的上限")


def test_a_file_over_the_upload_size_limit_is_refused(world, login, settings, media_root):
    settings.PINGYI_MAX_UPLOAD_BYTES = 1024
    content = (ROSTER_HEADER + "\n").encode() * 100

    message = refusal(upload_roster(login(world.town_admin), world, content, "名册.csv"))

    assert message.startswith(f"文件大小为 {len(content) / 1024:.1f} KB，超过了上限（1.0 KB）")
    assert_nothing_stored(media_root, Org.objects.count())


# ---------------------------------------------------------------------------------------------
# Formulas, macros and external links.


FORMULA_TEXTS = [
    '=HYPERLINK("http://x","点我")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def test_formula_text_in_task_table_names_is_stored_as_text(world, login):
    lines = [TASK_HEADER] + [
        f'{i},"{text.replace(chr(34), chr(34) * 2)}",100,70'
        for i, text in enumerate(FORMULA_TEXTS, start=1)
    ]
    client = login(world.town_admin)
    preview = upload_task_table(client, world, "\n".join(lines).encode(), "任务分解表.csv")
    assert preview.status_code == 200 and preview.context["token"]

    client.post(reverse("imports:confirm"), {"token": preview.context["token"]})

    # Stored as the text it is, tidied as every name is (normalize_org_name drops spaces).
    names = set(children_of(world.town).values_list("name", flat=True))
    assert {normalize_org_name(text) for text in FORMULA_TEXTS} <= names
    assert '=HYPERLINK("http://x","点我")' in names


def test_formula_text_in_roster_names_is_refused_naming_row_and_value(world, login):
    lines = [ROSTER_HEADER] + [
        f'"{text.replace(chr(34), chr(34) * 2)}",{fake_id_number(20 + i)},13912345678,'
        "真州镇中心小学工会,,"
        for i, text in enumerate(FORMULA_TEXTS)
    ]
    preview = upload_roster(login(world.town_admin), world, "\n".join(lines).encode(), "名册.csv")

    plan = preview.context["plan"]
    assert plan.counts["refused"] == len(FORMULA_TEXTS)
    labels = [row.message for row in plan.refused]
    assert labels[0].startswith('第 2 行（=HYPERLINK("http://x","点我")）')
    assert all("姓名只能包含汉字、字母和间隔号 ·" in label for label in labels)
    assert not Member.objects.exists()


def test_real_formulas_are_read_as_their_saved_values_never_evaluated(world):
    """A formula cell reads as the value Excel saved with it; the formula is never run."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["姓名", "身份证号码", "手机号码", "所在工会"])
    sheet.write_formula(1, 0, '=HYPERLINK("http://x","张三")', None, "张三")
    sheet.write_string(1, 1, fake_id_number(11))
    sheet.write_formula(1, 2, "=cmd|' /C calc'!A0", None, "13912345678")
    sheet.write_string(1, 3, "真州镇中心小学工会")
    book.close()

    table = read_roster(buffer.getvalue(), "名册.xlsx")

    assert table[1][0] == "张三"
    assert str(table[1][2]) == "13912345678"


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook with one more part in its zip."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["名册.xlsm", "名册.xlsx"])
def test_a_workbook_with_macros_is_refused(world, login, media_root, name):
    data = roster_xlsx([["姓名", "身份证号码", "手机号码", "所在工会"]])
    data = with_part(data, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(512))

    message = refusal(upload_roster(login(world.town_admin), world, data, name))

    assert message.startswith(f"文件“{name}”含有宏（VBA 代码），为安全起见不予读取。")
    assert "另存为“Excel 工作簿(.xlsx)”" in message
    assert_nothing_stored(media_root, Org.objects.count())


def test_an_external_link_is_ignored_and_never_followed(world):
    data = roster_xlsx(
        [
            ["姓名", "身份证号码", "手机号码", "所在工会"],
            ["张三", fake_id_number(11), "13912345678", "真州镇中心小学工会"],
        ]
    )
    link = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships"/></externalLink>'
    )
    data = with_part(data, "xl/externalLinks/externalLink1.xml", link)
    data = with_part(
        data,
        "xl/externalLinks/_rels/externalLink1.xml.rels",
        b'<Relationships><Relationship Id="rId1" TargetMode="External" '
        b'Target="http://127.0.0.1:9/evil.xlsx"/></Relationships>',
    )

    table = read_roster(data, "名册.xlsx")

    assert table[1][0] == "张三"
