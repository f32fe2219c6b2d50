"""Exports of campaign figures in the layout of the offices' own sheets."""

from django.utils import timezone

from pingyi.formatting import cn_date
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .selectors import UnitTable

# The header of the seed's 附件1, so an exported table imports again unchanged.
TASK_TABLE_COLUMNS = [
    Column("序号", 6, "int"),
    Column("名称", 34),
    Column("年报工会会员人数(人)", 16, "int"),
    Column("参评目标工会会员数(人)", 16, "int"),
    Column("类型", 16),
    Column("组织代码", 16),
]


def unit_table_xlsx(table: UnitTable) -> bytes:
    """附件1 as the system has it: the units under an org, their members and targets."""
    campaign = table.campaign
    rows = [
        (
            i,
            row.org.name,
            row.figures.reported,
            row.figures.target,
            str(row.org.get_kind_display()),
            row.org.code,
        )
        for i, row in enumerate(table.rows, start=1)
    ]
    notes = [f"注：{w}" for w in table.warnings]
    if table.undistributed:
        notes.append(
            f"注：{table.parent.name}参评目标 {table.own.target:,} 人，"
            f"已分解到下级 {table.total_target:,} 人，尚有 {table.undistributed:,} 人未分解。"
        )
    return office_xlsx(
        OfficeSheet(
            title=f"{table.parent.name}{campaign.name}任务分解表"
            if campaign
            else table.parent.name,
            subtitle=f"导出日期：{cn_date(timezone.now())}",
            columns=TASK_TABLE_COLUMNS,
            rows=rows,
            totals=("", "合计", table.total_reported, table.total_target, "", ""),
            notes=notes,
            sheet_name="任务分解表",
        )
    )
