"""The progress table as the office's own spreadsheet (pingyi/xlsx.py): title, date, header,
rows in the page's order, 合计, percentages as percentage cells. Layout: docs/data-formats.md."""

from django.utils.translation import gettext as _

from pingyi.formatting import cn_date, percent
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .figures import ProgressTable, UnitProgress


def progress_title(table: ProgressTable) -> str:
    """e.g. 2022年会员网上评议进展情况（仪征市总工会）"""
    return _("%(campaign)s进展情况（%(org)s）") % {
        "campaign": table.campaign.name,
        "org": table.parent.name,
    }


def progress_subtitle(table: ProgressTable) -> str:
    """e.g. 截至2022年11月6日"""
    return _("截至%(date)s") % {"date": cn_date(table.until)}


def _cells(unit: UnitProgress, excluded: bool) -> list:
    return [
        unit.reported,
        unit.target,
        unit.registered,
        unit.evaluated,
        *([unit.excluded] if excluded else []),
        unit.completion,
        unit.participation,
        unit.registration_rate,
        unit.week_new,
    ]


def progress_xlsx(table: ProgressTable, rows: list[UnitProgress]) -> bytes:
    """The table with its rows in the given (the page's) order; 已剔除 only when the review
    excluded any evaluation of the subtree."""
    excluded = bool(table.total.excluded)
    columns = [
        Column(_("序号"), 6, "int"),
        Column(_("名称"), 30),
        Column(_("年报工会会员人数(人)"), 14, "int"),
        Column(_("参评目标工会会员数(人)"), 14, "int"),
        Column(_("已注册(人)"), 11, "int"),
        Column(_("已评议(人)"), 11, "int"),
        *([Column(_("已剔除(条)"), 10, "int")] if excluded else []),
        Column(_("完成率"), 10, "percent"),
        Column(_("参评率"), 10, "percent"),
        Column(_("注册率"), 10, "percent"),
        Column(_("本周新增(人)"), 12, "int"),
        Column(_("排名"), 7, "int"),
        Column(_("进度"), 12),
    ]
    body = [
        [
            number,
            unit.org.name,
            *_cells(unit, excluded),
            unit.rank,
            _("落后于时间进度") if unit.behind else "",
        ]
        for number, unit in enumerate(rows, start=1)
    ]
    totals = [None, _("合计"), *_cells(table.total, excluded), None, ""]
    notes = [
        _(
            "完成率 = 已评议 ÷ 参评目标；参评率 = 已评议 ÷ 年报工会会员人数；"
            "注册率 = 已注册 ÷ 年报工会会员人数。"
        ),
        *(
            [_("已剔除：经异常评议核查剔除的评议，不计入已评议、本周新增和各项比率。")]
            if excluded
            else []
        ),
        _("本周新增：%(start)s至%(end)s的评议人数。")
        % {"start": cn_date(table.week_start), "end": cn_date(table.until)},
        _(
            "落后于时间进度：完成率低于时间进度 %(expected)s"
            "（已过活动时间 %(share)s × 进度系数 %(pace)s）。"
        )
        % {
            "expected": percent(table.expected, 1),
            "share": percent(table.elapsed_share, 1),
            "pace": percent(table.pace),
        },
    ]
    sheet = OfficeSheet(
        title=progress_title(table),
        subtitle=progress_subtitle(table),
        columns=columns,
        rows=body,
        totals=totals,
        notes=notes,
        sheet_name=_("评议进度"),
    )
    return office_xlsx(sheet)
