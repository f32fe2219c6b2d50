"""Exports of campaign figures in the layout of the offices' own sheets."""

from django.utils import timezone
from django.utils.translation import gettext as _

from pingyi.formatting import cn_date
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .selectors import UnitTable

# The header of the seed's 附件1, so an exported table imports again unchanged: these titles,
# like the 合计 word below, are what the task-table reader looks for, so they stay untranslated.
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
    notes = [_("注：%(note)s") % {"note": w} for w in table.warnings]
    if table.undistributed:
        notes.append(
            _(
                "注：%(org)s参评目标 %(target)s 人，"
                "已分解到下级 %(distributed)s 人，尚有 %(undistributed)s 人未分解。"
            )
            % {
                "org": table.parent.name,
                "target": f"{table.own.target:,}",
                "distributed": f"{table.total_target:,}",
                "undistributed": f"{table.undistributed:,}",
            }
        )
    return office_xlsx(
        OfficeSheet(
            title=_("%(org)s%(campaign)s任务分解表")
            % {"org": table.parent.name, "campaign": campaign.name}
            if campaign
            else table.parent.name,
            subtitle=_("导出日期：%(date)s") % {"date": cn_date(timezone.now())},
            columns=TASK_TABLE_COLUMNS,
            rows=rows,
            totals=("", "合计", table.total_reported, table.total_target, "", ""),
            notes=notes,
            sheet_name=_("任务分解表"),
        )
    )
