"""The task table (任务分解表) import: reading messy files, planning, refusing, applying."""

import io
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Target, TargetSource, TaskTableImport
from campaigns.task_table import (
    RowOutcome,
    TaskTableError,
    TaskTableRefused,
    apply_task_table,
    parse_count,
    plan_task_table,
    read_table,
    refused_rows_xlsx,
)
from orgs.models import Org, OrgKind, ReportedMembers
from orgs.selectors import children_of
from orgs.services import create_child_org, normalize_org_name

pytestmark = pytest.mark.django_db

SEED_CSV = Path(settings.BASE_DIR) / "demo" / "data" / "yizheng_2022_task_table.csv"
MESSY_XLSX = Path(settings.BASE_DIR) / "docs" / "samples" / "yizheng_2022_task_table_messy.xlsx"
HEADER = "序号,名称,年报工会会员人数(人),参评目标工会会员数(人)"
TOTAL_WARNING = "任务分解表合计栏参评目标为 50,867 人，各行相加为 50,866 人，相差 1 人"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def xlsx_file(rows: list[list[object]], *, sheets_before: int = 0) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for n in range(sheets_before):
        workbook.add_worksheet(f"说明{n + 1}").write_string(0, 0, "填表说明：每个单位一行。")
    sheet = workbook.add_worksheet("任务分解表")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


def plan_for(world, data: bytes, filename: str = "任务分解表.csv", *, parent=None):
    table = read_table(data, filename)
    return plan_task_table(
        campaign=world.campaign, parent=parent or world.city, table=table, filename=filename
    )


def import_path(world, path: Path, **kwargs) -> TaskTableImport:
    plan = plan_for(world, path.read_bytes(), path.name)
    return apply_task_table(plan=plan, **kwargs)


def database_state() -> dict[str, int]:
    return {
        "orgs": Org.objects.count(),
        "reported": ReportedMembers.objects.count(),
        "targets": Target.objects.count(),
        "imports": TaskTableImport.objects.count(),
    }


# The seed's table, as printed and as a messy office workbook -----------------------------------


@pytest.mark.parametrize("path", [SEED_CSV, MESSY_XLSX], ids=["seed-csv", "messy-xlsx"])
def test_seed_table_gives_85_units_with_the_seed_figures(world, path):
    record = import_path(world, path)

    units = list(children_of(world.city))
    assert len(units) == 85
    reported = ReportedMembers.objects.filter(org__in=units, year=2022)
    assert sum(r.count for r in reported) == 62_301
    targets = Target.objects.filter(campaign=world.campaign, org__in=units)
    assert sum(t.value for t in targets) == 50_866
    assert {t.source for t in targets} == {TargetSource.IMPORT}
    assert {t.task_import_id for t in targets} == {record.pk}
    assert record.warnings == [TOTAL_WARNING]
    assert (record.stated_target, record.sum_target, record.sum_reported) == (50867, 50866, 62301)
    assert (record.rows_total, record.rows_created, record.rows_updated) == (85, 82, 3)


@pytest.mark.parametrize("path", [SEED_CSV, MESSY_XLSX], ids=["seed-csv", "messy-xlsx"])
def test_broken_and_padded_names_arrive_joined_in_the_tables_order(world, path):
    import_path(world, path)

    names = [org.name for org in children_of(world.city)]
    assert names[:5] == ["经济开发区", "化学工业园区", "汽车工业园", "枣林湾旅游度假区", "真州镇"]
    assert "城市发展投资控股集团有限公司" in names
    assert "上汽大众汽车有限公司仪征分公司" in names
    assert "江苏有线(仪征)" in names
    assert names[-1] == "市汽车工业公司"
    assert not any("序号" in name or "合计" in name or " " in name for name in names)


@pytest.mark.parametrize("path", [SEED_CSV, MESSY_XLSX], ids=["seed-csv", "messy-xlsx"])
def test_zaolinwan_row_gives_381_reported_and_267_target(world, path):
    import_path(world, path)

    park = Org.objects.get(pk=world.park.pk)
    assert park.seq == 4
    assert ReportedMembers.objects.get(org=park, year=2022).count == 381
    assert Target.objects.get(campaign=world.campaign, org=park).value == 267


@pytest.mark.parametrize("path", [SEED_CSV, MESSY_XLSX], ids=["seed-csv", "messy-xlsx"])
def test_repeated_headers_on_each_printed_page_are_skipped(world, path):
    plan = plan_for(world, path.read_bytes(), path.name)

    assert len(plan.skipped_lines) == 4
    assert plan.notes[0].startswith("跳过了 4 行重复的表头")
    assert [row.seq for row in plan.rows] == list(range(1, 86))
    assert not plan.refused


def test_messy_workbook_numbers_typed_as_text_are_read(world):
    plan = plan_for(world, MESSY_XLSX.read_bytes(), MESSY_XLSX.name)
    by_name = {row.name: row for row in plan.rows}

    assert by_name["经济开发区"].reported == 5018  # "5,018" pasted as text
    assert by_name["枣林湾旅游度假区"].seq_text == "４"  # full-width, as the admin typed it
    assert by_name["枣林湾旅游度假区"].target == 267
    assert "第 98 行“合计”之后的 1 行内容（如备注）未导入" in plan.notes


def test_existing_units_are_updated_and_new_ones_created_with_inferred_kinds(world):
    plan = plan_for(world, SEED_CSV.read_bytes(), SEED_CSV.name)
    by_name = {row.name: row for row in plan.rows}

    assert by_name["真州镇"].outcome == RowOutcome.UPDATE
    assert by_name["真州镇"].changes == ["序号 1 → 5", "参评目标 未设置 → 3,366"]
    assert by_name["青山镇"].outcome == RowOutcome.CREATE
    assert by_name["青山镇"].detail == "类型：镇工会（按名称推断）"
    assert by_name["经济开发区"].kind == OrgKind.PARK
    assert by_name["教育局"].kind == OrgKind.AGENCY
    assert by_name["玉丰村镇银行"].kind == OrgKind.DIRECT


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_the_encodings_excel_writes_in_china(world, encoding):
    data = SEED_CSV.read_text(encoding="utf-8-sig").encode(encoding)
    plan = plan_for(world, data, "任务分解表.csv")

    assert len(plan.valid_rows) == 85
    assert plan.sum_reported == 62_301


# Second import ---------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(world):
    first = import_path(world, SEED_CSV)
    before = database_state()
    stamps = {
        "orgs": dict(Org.objects.values_list("pk", "updated_at")),
        "reported": dict(ReportedMembers.objects.values_list("pk", "updated_at")),
        "targets": dict(Target.objects.values_list("pk", "updated_at")),
    }

    plan = plan_for(world, MESSY_XLSX.read_bytes(), MESSY_XLSX.name)
    assert {row.outcome for row in plan.rows} == {RowOutcome.UNCHANGED}
    second = apply_task_table(plan=plan)

    assert (second.rows_unchanged, second.rows_created, second.rows_updated) == (85, 0, 0)
    assert database_state() == before | {"imports": 2}
    assert dict(Org.objects.values_list("pk", "updated_at")) == stamps["orgs"]
    assert dict(ReportedMembers.objects.values_list("pk", "updated_at")) == stamps["reported"]
    assert dict(Target.objects.values_list("pk", "updated_at")) == stamps["targets"]
    assert set(Target.objects.values_list("task_import", flat=True)) == {first.pk}


def test_planning_writes_nothing(world):
    before = database_state()
    plan = plan_for(world, SEED_CSV.read_bytes(), SEED_CSV.name)
    assert len(plan.created) == 82
    assert database_state() == before


def test_a_unit_created_after_the_preview_is_updated_not_created_twice(world):
    plan = plan_for(world, csv_file(HEADER, "1,新厂工会,100,80"), parent=world.town)
    assert plan.rows[0].outcome == RowOutcome.CREATE
    create_child_org(parent=world.town, name="新厂工会", kind=OrgKind.GRASSROOTS)

    record = apply_task_table(plan=plan)

    assert children_of(world.town).filter(name="新厂工会").count() == 1
    assert (record.rows_created, record.rows_updated) == (0, 1)


# Refusals --------------------------------------------------------------------------------------

REFUSED_ROWS = [
    ("1,新厂工会,很多,10", "年报工会会员人数“很多”不是数字"),
    ("1,新厂工会,-5,0", "年报工会会员人数不能为负数（-5）"),
    ("1,新厂工会,100,-1", "参评目标工会会员数不能为负数（-1）"),
    ("1,新厂工会,10,11", "参评目标 11 人超过年报工会会员人数 10 人"),
    ("1,新厂工会,100.5,10", "年报工会会员人数“100.5”不是整数"),
    ("1,新厂工会,,10", "年报工会会员人数为空"),
    ("1,,100,10", "名称为空"),
    ("1,真州镇,100,10", "不能把上级组织“真州镇”自己列为它的下级"),
]


@pytest.mark.parametrize(("row", "reason"), REFUSED_ROWS)
def test_a_bad_row_is_refused_with_its_row_number_and_reason_and_nothing_is_written(
    world, row, reason
):
    data = csv_file("真州镇任务分解表", "", HEADER, "2,真州镇中心小学工会,300,200", row)
    plan = plan_for(world, data, parent=world.town)
    before = database_state()

    [refused] = plan.refused
    assert refused.line == 5
    assert refused.seq_text == "1"
    assert reason in refused.reasons
    assert refused.message.startswith("第 5 行（序号 1，")
    with pytest.raises(TaskTableRefused, match="有 1 行被拒绝，未写入任何数据"):
        apply_task_table(plan=plan)
    assert database_state() == before


def test_a_fractional_count_from_excel_is_refused_and_a_whole_float_accepted(world):
    data = xlsx_file(
        [
            ["序号", "单位名称", "年报工会会员人数(人)", "参评目标工会会员数(人)"],
            [1, "甲厂工会", 3513.0, 3513.0],
            [2, "乙厂工会", 3513.5, 3000],
        ]
    )
    plan = plan_for(world, data, "表.xlsx", parent=world.town)

    assert [row.outcome for row in plan.rows] == [RowOutcome.CREATE, RowOutcome.REFUSED]
    assert plan.rows[0].reported == 3513
    assert plan.rows[1].reasons == ["年报工会会员人数“3513.5”不是整数"]
    assert plan.rows[1].line == 3


def test_duplicate_names_refuse_both_rows_and_name_both(world):
    data = csv_file(HEADER, "1,新厂工会,100,80", "2,别的工会,50,50", "3, 新厂 工会 ,90,70")
    plan = plan_for(world, data, parent=world.town)

    message = "名称“新厂工会”重复：第 2 行（序号 1，新厂工会）、第 4 行（序号 3，新厂工会）"
    assert [row.line for row in plan.refused] == [2, 4]
    assert all(message in row.reasons for row in plan.refused)
    assert [row.name for row in plan.valid_rows] == ["别的工会"]


def test_missing_columns_name_the_header_words_not_found(world):
    plan = plan_for(world, csv_file("标题", "序号,名称,人数", "1,新厂工会,100"))

    assert plan.problems == ["第 2 行的表头中找不到“年报工会会员人数(人)”列"]
    assert not plan.can_apply(keep_valid=True)
    with pytest.raises(TaskTableRefused, match="找不到“年报工会会员人数"):
        apply_task_table(plan=plan, keep_valid=True)


def test_a_table_without_any_header_is_refused(world):
    plan = plan_for(world, csv_file("甲,乙,丙", "1,2,3"))
    assert plan.problems[0].startswith("找不到表头")


def test_a_header_without_a_name_column_says_so(world):
    plan = plan_for(world, csv_file("序号,单位全称,年报工会会员人数(人)", "1,新厂工会,100"))
    assert plan.problems == ["第 1 行的表头中找不到“名称”（也可写作“单位名称”或“工会名称”）列"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "任务分解表.csv", "文件“任务分解表.csv”是空的"),
        (b"   \r\n", "任务分解表.xlsx", "是空的"),
        (b"this is not a workbook at all", "任务分解表.xlsx", "无法作为 Excel 表格打开"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "任务分解表.xls", "无法作为 Excel 表格打开"),
        (b"%PDF-1.7 ...", "任务分解表.pdf", "不是表格文件"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "任务分解表.csv", "是 PNG 图片，不是表格文件"),
    ],
)
def test_files_that_are_not_a_task_table_are_refused_with_a_clear_message(data, filename, message):
    with pytest.raises(TaskTableError, match=message):
        read_table(data, filename)


def test_a_file_over_the_upload_limit_is_refused(settings):
    settings.PINGYI_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(TaskTableError) as refused:
        read_table(b"x" * 2048, "任务分解表.csv")
    assert str(refused.value).startswith("文件大小为 2.0 KB，超过了上限（1.0 KB）")


def test_keep_valid_writes_the_valid_rows_only_and_records_the_refused_ones(world):
    data = csv_file(HEADER, "1,新厂工会,100,80", "2,坏数工会,abc,10", "3,另一厂工会,60,60")
    plan = plan_for(world, data, parent=world.town)

    record = apply_task_table(plan=plan, keep_valid=True)

    names = set(children_of(world.town).values_list("name", flat=True))
    assert {"新厂工会", "另一厂工会"} <= names
    assert "坏数工会" not in names
    assert (record.rows_created, record.rows_refused) == (2, 1)
    assert record.refused == [
        {
            "line": 3,
            "seq": "2",
            "name": "坏数工会",
            "reported": "abc",
            "target": "10",
            "reasons": ["年报工会会员人数“abc”不是数字"],
        }
    ]


def test_all_rows_refused_is_refused_even_with_keep_valid(world):
    plan = plan_for(world, csv_file(HEADER, "1,坏数工会,abc,10"), parent=world.town)
    with pytest.raises(TaskTableRefused, match="全部 1 行都被拒绝"):
        apply_task_table(plan=plan, keep_valid=True)


def test_refused_rows_workbook_holds_each_row_with_its_reason_as_text(world):
    data = csv_file(HEADER, "1,新厂工会,100,80", '2,"=HYPERLINK(""http://x"")",abc,10')
    record = apply_task_table(plan=plan_for(world, data, parent=world.town), keep_valid=True)

    sheet = openpyxl.load_workbook(io.BytesIO(refused_rows_xlsx(record))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2:] == ("名称", "年报工会会员人数(人)", "参评目标工会会员数(人)", "拒绝原因")
    # Text, never a formula, and behind a quote (pingyi.xlsx.safe_text).
    assert rows[1][:5] == (3, "2", '\'=HYPERLINK("http://x")', "abc", "10")
    assert sheet["C2"].data_type == "s"
    assert "年报工会会员人数“abc”不是数字" in rows[1][5]


# Columns that may be there or not --------------------------------------------------------------


def test_without_a_target_column_only_reported_members_are_imported(world):
    data = csv_file("序号,工会名称,年报工会会员人数(人)", "1,枣林湾旅游度假区,400", "2,新区,90")
    plan = plan_for(world, data)

    assert any("参评目标按活动“2022年会员网上评议”的目标比例计算" in n for n in plan.notes)
    assert plan.rows[0].rule_target == 280  # 400 × 70% for a park
    apply_task_table(plan=plan)
    assert ReportedMembers.objects.get(org=world.park, year=2022).count == 400
    assert not Target.objects.filter(org=world.park).exists()


def test_without_a_seq_column_units_keep_the_tables_order(world):
    data = csv_file("单位名称,年报工会会员人数(人)", "乙厂工会,20", "甲厂工会,10")
    apply_task_table(plan=plan_for(world, data, parent=world.town))

    seqs = dict(children_of(world.town).values_list("name", "seq"))
    assert (seqs["乙厂工会"], seqs["甲厂工会"]) == (1, 2)


def test_a_kind_column_overrides_the_inferred_kind_and_unknown_labels_are_refused(world):
    data = csv_file(
        "序号,名称,组织类型,年报工会会员人数(人)",
        "1,仪征化纤工会,企业工会,500",
        "2,教育局,直属,4130",
        "3,某某中心,居委会,10",
    )
    plan = plan_for(world, data)

    assert plan.rows[0].kind == OrgKind.ENTERPRISE and plan.rows[0].kind_given
    assert "类型 机关/事业单位工会 → 直属工会" in plan.rows[1].changes
    assert plan.rows[2].reasons[0].startswith("类型“居委会”不是可用的组织类型")


def test_counts_with_thousands_separators_or_full_width_digits_are_accepted(world):
    data = csv_file(HEADER, '1,新厂工会,"5,018","３，５１３"', "2,另一厂工会,１２０ ,100人")
    plan = plan_for(world, data, parent=world.town)

    assert [(row.reported, row.target) for row in plan.rows] == [(5018, 3513), (120, 100)]


def test_subtotals_unused_template_rows_and_notes_below_the_total_are_left_out(world):
    data = csv_file(
        HEADER,
        "1,甲厂工会,30,20",
        ",基层工会小计,30,20",
        "2,乙厂工会,10,10",
        "3,,,",
        "合 计,,,",
        "注：目标按100%确定。",
    )
    plan = plan_for(world, data, parent=world.town)

    assert [row.name for row in plan.rows] == ["甲厂工会", "乙厂工会"]
    assert "跳过了 1 行小计（第 3 行）" in plan.notes
    assert "跳过了 1 行只有序号的空行（第 5 行）" in plan.notes
    assert "第 6 行“合计”之后的 1 行内容（如备注）未导入" in plan.notes
    assert not plan.refused


def test_the_table_is_found_on_a_later_sheet(world):
    rows = [["任务分解表"], [], ["序号", "名称", "年报工会会员人数(人)"], [1, "新厂工会", 30]]
    plan = plan_for(world, xlsx_file(rows, sheets_before=1), "表.xlsx", parent=world.town)

    assert [(row.line, row.name, row.reported) for row in plan.rows] == [(4, "新厂工会", 30)]


def test_orgs_outside_the_parent_are_never_touched(world):
    data = csv_file(HEADER, "1,枣林湾旅游度假区,50,40")
    plan = plan_for(world, data, parent=world.town)
    assert plan.rows[0].outcome == RowOutcome.CREATE

    apply_task_table(plan=plan)

    assert ReportedMembers.objects.get(org=world.park, year=2022).count == 381
    assert Org.objects.get(pk=world.park.pk).seq == 2
    assert children_of(world.town).filter(name="枣林湾旅游度假区").exists()


# Properties ------------------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789,()", "０１２３４５６７８９，（）")


@given(st.integers(min_value=0, max_value=10_000_000))
def test_a_count_reads_the_same_however_it_is_typed(n):
    for written in (n, float(n), str(n), f"{n:,}", f" {n:,} ".translate(FULL_WIDTH), f"{n}人"):
        assert parse_count(written) == n


@given(
    name=st.sampled_from(["城市发展投资控股集团有限公司", "江苏有线(仪征)", "马集镇", "编办"]),
    cuts=st.lists(st.integers(min_value=0, max_value=14), max_size=4),
    space=st.sampled_from([" ", "\n", "\u3000", "\t", " \n "]),
    full_width=st.booleans(),
)
def test_a_name_matches_however_it_is_broken_or_padded(name, cuts, space, full_width):
    written = name.translate(FULL_WIDTH) if full_width else name
    for cut in sorted(set(cuts), reverse=True):
        written = written[:cut] + space + written[cut:]
    assert normalize_org_name(space + written + space) == name
