"""The analysis tables as rows of cells, shared by the pages, the .xlsx exports and the API.

The anonymity threshold is applied here, once: a cell of a breakdown with fewer than
THRESHOLD evaluations holds the text 样本不足 and never its figure, whichever way it is shown.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from pingyi.formatting import cn_date
from pingyi.xlsx import Column, OfficeSheet

from .charts import heat_colour
from .needs import Needs
from .selectors import INSUFFICIENT, THRESHOLD, Figures, PainPoints, Satisfaction, UnitFigures


@dataclass
class Cell:
    value: str | int | float | None  # what the xlsx holds: a number, or text
    text: str  # what the page shows
    colour: str = ""  # the heatmap's background, if any
    arrow: str = ""  # ▲ / ▼ beside a change

    @property
    def insufficient(self) -> bool:
        return self.value == str(INSUFFICIENT)


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    totals: list[Cell] | None = None
    notes: list[str] = field(default_factory=list)
    orgs: list = field(default_factory=list)  # the unit of each row, for drill-down links
    link_col: int = -1  # the column that links to the row's unit

    @property
    def lines(self) -> list[tuple]:
        """(unit or None, cells) per row, for the page."""
        orgs = self.orgs or [None] * len(self.rows)
        return [(org, row) for org, row in zip(orgs, self.rows, strict=True)]


def _blocked() -> Cell:
    return Cell(str(INSUFFICIENT), str(INSUFFICIENT), colour=heat_colour(None))


def rate(value: float | None) -> Cell:
    return Cell(value, "" if value is None else f"{value * 100:.1f}%")


def index_cell(value: float | None, *, coloured: bool = False) -> Cell:
    text = "" if value is None else f"{value:.1f}"
    number = None if value is None else round(value, 1)
    return Cell(number, text, colour=heat_colour(value) if coloured else "")


def change_cell(now: Figures, before: Figures | None) -> Cell:
    if before is None or not before.sufficient:
        return Cell("", "")
    if not now.sufficient:
        return _blocked()
    delta = now.index - before.index
    arrow = "▲" if delta > 0.05 else "▼" if delta < -0.05 else ""
    return Cell(f"{delta:+.1f}", f"{delta:+.1f}", arrow=arrow)


def figure_cells(figures: Figures) -> list[Cell]:
    """评议数, 满意率, 好评率, 差评率, 满意度指数 — or 样本不足 for all of them."""
    if not figures.sufficient:
        return [_blocked() for _i in range(5)]
    return [
        Cell(figures.n, f"{figures.n:,}"),
        rate(figures.satisfied_rate),
        rate(figures.good_rate),
        rate(figures.bad_rate),
        index_cell(figures.index, coloured=True),
    ]


def item_cell(figures: Figures) -> Cell:
    return index_cell(figures.index, coloured=True) if figures.sufficient else _blocked()


def subtitle(campaign, org, kind_label: str = "") -> str:
    parts = [org.name, campaign.name]
    if kind_label:
        parts.append(_("仅%(kind)s") % {"kind": kind_label})
    parts.append(_("导出于%(date)s") % {"date": cn_date(timezone.localdate())})
    return " · ".join(parts)


def satisfaction_table(report: Satisfaction) -> Table:
    """One row per unit: its figures, the change against the previous campaign, each item's
    index (the heatmap)."""
    columns = [
        Column(_("序号"), 6, "int"),
        Column(_("单位"), 28),
        Column(_("评议数"), 10, "int"),
        Column(_("满意率"), 10, "percent"),
        Column(_("好评率"), 10, "percent"),
        Column(_("差评率"), 10, "percent"),
        Column(_("满意度指数"), 11, "decimal"),
    ]
    if report.previous:
        columns += [Column(_("上次指数"), 10, "decimal"), Column(_("变化"), 8)]
    columns += [Column(q.label, 12, "decimal") for q in report.items]

    def row(number: int | str, unit: UnitFigures, before: UnitFigures | None) -> list[Cell]:
        cells = [Cell(number, str(number)), Cell(unit.org.name, unit.org.name)]
        cells += figure_cells(unit.overall)
        if report.previous:
            prior = before.overall if before else None
            if prior is not None and prior.sufficient:
                cells.append(index_cell(prior.index))
            else:
                cells.append(_blocked() if prior is not None and prior.n else Cell("", ""))
            cells.append(change_cell(unit.overall, prior))
        cells += [item_cell(unit.item(q.pk)) for q in report.items]
        return cells

    table = Table(title=_("会员满意度分析"), columns=columns)
    table.rows = [
        row(i, u, report.previous_unit(u.org.pk)) for i, u in enumerate(report.units, start=1)
    ]
    table.orgs, table.link_col = [u.org for u in report.units], 1
    totals = row("", report.total, report.previous.total if report.previous else None)
    totals[1] = Cell(_("合计"), _("合计"))
    table.totals = totals
    table.notes = [
        _("满意率为3—5星占比，好评率为4—5星，差评率为1—2星；满意度指数=(平均星级−1)÷4×100。"),
        _("分项按评价了该分项的会员计算；不足%(n)s份评议的单位或分项显示“样本不足”。")
        % {"n": THRESHOLD},
    ]
    if report.previous:
        table.notes.append(
            _("上次指数为同一组织上一次评议活动“%(name)s”的结果。")
            % {"name": report.previous.campaign.name}
        )
    return table


def item_table(report: Satisfaction) -> Table:
    """One row per item over the whole selection."""
    columns = [
        Column(_("分项工作"), 28),
        Column(_("评价人数"), 10, "int"),
        Column(_("满意率"), 10, "percent"),
        Column(_("好评率"), 10, "percent"),
        Column(_("差评率"), 10, "percent"),
        Column(_("满意度指数"), 11, "decimal"),
    ]
    if report.previous:
        columns += [Column(_("上次指数"), 10, "decimal"), Column(_("变化"), 8)]
    table = Table(title=_("分项工作满意度"), columns=columns)
    for q in report.items:
        figures = report.total.item(q.pk)
        cells = [Cell(q.label, q.label), *figure_cells(figures)]
        if report.previous:
            prior = report.previous_item(report.previous.total, q)
            sufficient = prior is not None and prior.sufficient
            cells.append(index_cell(prior.index) if sufficient else Cell("", ""))
            cells.append(change_cell(figures, prior))
        table.rows.append(cells)
    return table


def pain_table(points: list[PainPoints]) -> Table:
    columns = [
        Column(_("单位"), 28),
        Column(_("评议数"), 10, "int"),
        Column(_("满意度指数最低的分项"), 40),
        Column(_("差评占比最高的分项"), 40),
        Column(_("低于上级平均最多的分项"), 40),
    ]
    table = Table(title=_("堵点痛点分析"), columns=columns, link_col=0)
    table.orgs = [p.unit.org for p in points]
    for p in points:
        name = Cell(p.unit.org.name, p.unit.org.name)
        if not p.sufficient:
            table.rows.append([name, *[_blocked() for _i in range(4)]])
            continue
        low = "；".join(f"{x.question.label} {x.figures.index:.1f}" for x in p.lowest_index)
        bad = "；".join(
            f"{x.question.label} {x.figures.bad_rate * 100:.1f}%" for x in p.most_negative
        )
        gap = "；".join(f"{x.question.label} {x.gap:+.1f}" for x in p.below_parent)
        table.rows.append(
            [
                name,
                Cell(p.unit.overall.n, f"{p.unit.overall.n:,}"),
                Cell(low or "—", low or "—"),
                Cell(bad or "—", bad or "—"),
                Cell(gap or "—", gap or "—"),
            ]
        )
    table.notes = [
        _("只计评价人数不少于%(n)s人的分项；“—”表示没有符合条件的分项。") % {"n": THRESHOLD},
        _("低于上级平均：该单位分项指数减去上级（本页所选组织）同一分项的指数。"),
    ]
    return table


def needs_table(report: Needs) -> Table:
    columns = [Column(_("单位"), 28), Column(_("建议数"), 10, "int")]
    columns += [Column(name, 10, "int") for name in report.categories]
    table = Table(title=_("会员需求分类统计"), columns=columns)

    def row(name: str, r) -> list[Cell]:
        if not r.sufficient:
            return [Cell(name, name), *[_blocked() for _i in range(len(columns) - 1)]]
        cells = [Cell(name, name), Cell(r.suggestions, f"{r.suggestions:,}")]
        cells += [Cell(n, f"{n:,}") if n >= THRESHOLD else _blocked() for n in r.categories]
        return cells

    table.rows = [row(u.org.name, u) for u in report.units]
    table.orgs, table.link_col = [u.org for u in report.units], 0
    table.totals = row(_("合计"), report.total)
    table.notes = [
        _("一条建议可同时归入多个类别；未匹配任何规则的归入“其他”。"),
        _("不足%(n)s条的单位或类别显示“样本不足”。") % {"n": THRESHOLD},
    ]
    if report.words:
        table.notes.append(
            _("高频关键词：") + "、".join(f"{w}（{n}）" for w, n in report.words[:20])
        )
    if report.phrases:
        table.notes.append(
            _("高频短语：") + "、".join(f"{w}（{n}）" for w, n in report.phrases[:10])
        )
    return table


def as_sheet(table: Table, subtitle_text: str) -> OfficeSheet:
    return OfficeSheet(
        title=table.title,
        subtitle=subtitle_text,
        columns=table.columns,
        rows=[[c.value for c in row] for row in table.rows],
        totals=[c.value for c in table.totals] if table.totals else None,
        notes=table.notes,
        sheet_name=table.title,
    )
