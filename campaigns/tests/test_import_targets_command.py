"""manage.py import_targets: the task-table import for operators and scripts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import TaskTableImport
from campaigns.tests.test_task_table import HEADER, SEED_CSV, database_state
from orgs.selectors import children_of

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_targets", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_every_row_and_writes_nothing(world):
    before = database_state()

    out = run(str(SEED_CSV), "--campaign", "2022年会员网上评议", "--parent", "321081", "--dry-run")

    assert database_state() == before
    assert "第 7 行（序号 4，枣林湾旅游度假区）：更新 序号 2 → 4；参评目标 未设置 → 267" in out
    assert "第 32 行（序号 28，城市发展投资控股集团有限公司）：新增 类型：直属工会" in out
    assert "共 85 行：新增 82 行，更新 3 行，无变化 0 行，拒绝 0 行" in out
    assert "任务分解表合计栏参评目标为 50,867 人，各行相加为 50,866 人，相差 1 人" in out
    assert "试运行（--dry-run）：未写入任何数据。" in out


def test_import_writes_the_table_and_records_who(world):
    out = run(
        str(SEED_CSV),
        "--campaign",
        str(world.campaign.pk),
        "--parent",
        "321081",
        "--user",
        "city_admin",
    )

    record = TaskTableImport.objects.get()
    assert f"已导入（记录编号 {record.pk}）：新增 82，更新 3，无变化 0，拒绝 0。" in out
    assert record.imported_by == world.city_admin
    assert children_of(world.city).count() == 85


def test_refused_rows_stop_the_command_and_nothing_is_written(world, tmp_path):
    table = tmp_path / "真州镇.csv"
    table.write_text(f"{HEADER}\n1,新厂工会,100,80\n2,坏数工会,-3,0\n", encoding="gbk")
    before = database_state()

    with pytest.raises(CommandError, match="有 1 行被拒绝，未写入任何数据"):
        run(str(table), "--campaign", "2022年会员网上评议", "--parent", world.town.code)

    assert database_state() == before


def test_keep_valid_imports_the_valid_rows(world, tmp_path):
    table = tmp_path / "真州镇.csv"
    table.write_text(f"{HEADER}\n1,新厂工会,100,80\n2,坏数工会,-3,0\n", encoding="utf-8-sig")

    out = run(
        str(table), "--campaign", "2022年会员网上评议", "--parent", world.town.code, "--keep-valid"
    )

    assert "第 3 行（序号 2，坏数工会）：拒绝 年报工会会员人数不能为负数（-3）" in out
    assert children_of(world.town).filter(name="新厂工会").exists()
    assert TaskTableImport.objects.get().rows_refused == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--campaign", "2099年评议", "--parent", "321081"], "找不到评议活动“2099年评议”"),
        (["--campaign", "2022年会员网上评议", "--parent", "999"], "找不到组织代码为“999”"),
        (
            ["--parent", "321081", "--campaign", "2022年会员网上评议", "--user", "viewer"],
            "不能管理“仪征市总工会”",
        ),
    ],
)
def test_wrong_arguments_are_refused_in_chinese(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(str(SEED_CSV), *args)


def test_a_file_that_is_not_a_spreadsheet_is_refused(world, tmp_path):
    garbage = tmp_path / "任务分解表.xlsx"
    garbage.write_bytes(b"not a workbook")
    with pytest.raises(CommandError, match="无法作为 Excel 表格打开"):
        run(str(garbage), "--campaign", "2022年会员网上评议", "--parent", "321081")
