"""Exported cells that a spreadsheet would read as a formula are written behind a quote.

OWASP's advice against CSV injection: text beginning with =, +, -, @, a tab or a carriage return
is prefixed with a single quote. Numbers, negative ones included, stay numbers. Every exporter
writes through pingyi.xlsx (office_xlsx, safe_text); the last test checks none goes around it.
"""

import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from campaigns.task_table import read_table
from conftest import fake_id_number
from members.tests.test_roster_import import HEADER, csv_bytes, import_bytes, row
from orgs.services import create_child_org
from pingyi.xlsx import Column, OfficeSheet, office_xlsx, safe_text

ROOT = Path(__file__).resolve().parent.parent
HYPERLINK = '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("=1+1", "'=1+1"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # What a spreadsheet reads as a number or a dash is no formula, and stays as it is.
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("-12.5%", "-12.5%"),
        ("-", "-"),
        ("真州镇工会", "真州镇工会"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_safe_text(text, written):
    assert safe_text(text) == written


def cells(data: bytes) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [cell for line in sheet.iter_rows() for cell in line]


def assert_no_formula(data: bytes) -> None:
    assert [c.coordinate for c in cells(data) if c.data_type == "f"] == []


def test_office_xlsx_quotes_formula_text_and_keeps_numbers(world):
    sheet = OfficeSheet(
        title="=标题",
        subtitle="@副标题",
        columns=[Column("名称", 20), Column("增减", 10, "int"), Column("说明", 20)],
        rows=[[HYPERLINK, -5, "-3"], ["+86 139", 7, "\t=1"]],
        totals=["合计", 2, "-"],
        notes=["=注"],
    )

    data = office_xlsx(sheet)

    values = [[c.value for c in line] for line in openpyxl.load_workbook(io.BytesIO(data)).active]

    assert values[0][0] == "'=标题" and values[1][0] == "'@副标题"
    assert values[3] == ["'" + HYPERLINK, -5, "-3"]
    assert values[4] == ["'+86 139", 7, "'\t=1"]
    assert values[5] == ["合计", 2, "-"]
    assert values[7][0] == "'=注"
    assert_no_formula(data)


@pytest.mark.django_db
def test_a_member_named_like_a_formula_exports_behind_a_quote(world, login):
    """The roster's refused rows, downloaded to correct them, hold the names as typed."""
    data = csv_bytes(
        HEADER, row(), row(f'"{HYPERLINK.replace(chr(34), chr(34) * 2)}"', fake_id_number(12))
    )
    record = import_bytes(world, data, keep_valid=True, parent=world.town)
    assert record.refused_count == 1

    response = login(world.town_admin).get(reverse("roster_imports:refused_xlsx", args=[record.pk]))

    content = b"".join(response.streaming_content)
    name = next(c for c in cells(content) if "HYPERLINK" in str(c.value))
    assert name.data_type == "s"
    assert name.value == "'" + HYPERLINK
    assert_no_formula(content)


@pytest.mark.django_db
def test_a_refused_rows_workbook_imports_again_as_it_was_typed(world, login):
    """The quote an export adds is dropped on import: a corrected workbook reads as typed."""
    data = csv_bytes(HEADER, row(), row("=1+1", fake_id_number(12)))
    record = import_bytes(world, data, keep_valid=True, parent=world.town)
    response = login(world.town_admin).get(reverse("roster_imports:refused_xlsx", args=[record.pk]))
    content = b"".join(response.streaming_content)
    assert "'=1+1" in [c.value for c in cells(content)]

    table = read_table(content, "拒绝的行.xlsx")

    assert "=1+1" in [cell for line in table for cell in line]


@pytest.mark.django_db
@pytest.mark.parametrize("export", ["units", "progress"])
def test_an_org_named_like_a_formula_exports_behind_a_quote(world, login, export):
    create_child_org(parent=world.town, name=HYPERLINK, kind="grassroots")
    client = login(world.town_admin)
    url = {
        "units": reverse("orgs:units_xlsx", args=[world.town.pk]),
        "progress": f"/console/progress/{world.town.pk}/xlsx/",
    }[export]

    response = client.get(url)

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    name = next(c for c in cells(content) if "HYPERLINK" in str(c.value))
    assert (name.data_type, name.value) == ("s", "'" + HYPERLINK)
    assert_no_formula(content)


def test_no_exporter_writes_cells_around_safe_text():
    """Every module that writes a workbook or a CSV outside pingyi/xlsx.py writes its text
    through safe_text (tests, benchmarks and the sample generator write inputs, not exports)."""
    skipped = {"tests", "benchmarks", "samples", ".venv", "migrations"}
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if skipped & set(relative.parts) or relative == Path("pingyi/xlsx.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if not re.search(r"\.write_\w+\(|csv\.\w*[Ww]riter\(", source):
            continue
        for line in source.splitlines():
            if re.search(r"\.write_string\(", line) and "safe_text(" not in line:
                offenders.append(f"{relative}: {line.strip()}")
            # (copy.write_row is PostgreSQL's COPY in the roster import, not a spreadsheet.)
            if re.search(r"(?<!copy)\.write_(?:row|column|formula)\(|csv\.\w*[Ww]riter\(", line):
                offenders.append(f"{relative}: {line.strip()}")
    assert offenders == []
