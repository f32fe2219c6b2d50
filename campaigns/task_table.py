"""The task table (任务分解表): read it from a messy spreadsheet, plan its changes, apply them.

The layout is the seed's 附件1: 序号, 名称, 年报工会会员人数(人), 参评目标工会会员数(人), one row
per unit under a parent org, a 合计 row at the end. Real files carry title rows, the header
again on every printed page and names broken over two lines, so the reader finds the header by
its words and the planner normalises what it reads. Planning never writes; applying writes the
whole plan in one transaction or nothing.
"""

import functools
import hashlib
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from orgs.models import Org, OrgKind, ReportedMembers
from orgs.selectors import children_of
from orgs.services import (
    create_child_org,
    infer_org_kind,
    normalize_org_name,
    set_reported_members,
)
from pingyi import import_plans, spreadsheets
from pingyi.import_plans import list_text, reasons_text
from pingyi.spreadsheets import (  # noqa: F401  (public names of this module before the move)
    EXPIRED_MESSAGE,
    TEXT_EXTENSIONS,
    WORKBOOK_EXTENSIONS,
    cell_text,
    check_upload_size,
    file_extension,
    is_blank,
)
from pingyi.xlsx import safe_text

from .models import Campaign, Target, TargetRate, TargetSource, TaskTableImport
from .rollups import refresh_for_orgs
from .rules import target_from_rate

# A task table lists a few hundred units; far more rows means the wrong file, and planning
# it would hold a request for minutes.
MAX_TABLE_ROWS = 20_000
# No union reports ten million members: a larger figure is a typo, and PostgreSQL's integer
# column would refuse it less kindly.
MAX_COUNT = 10_000_000
MAX_NAME_LENGTH = Org._meta.get_field("name").max_length

SEQ, NAME, REPORTED, TARGET, KIND = "seq", "name", "reported", "target", "kind"
# The columns as messages name them. The words the reader looks for in a file (below, and in
# column_of) are data: a task table is written in Chinese whatever the interface language.
COLUMN_TITLES = {
    SEQ: gettext_lazy("序号"),
    NAME: gettext_lazy("名称"),
    REPORTED: gettext_lazy("年报工会会员人数(人)"),
    TARGET: gettext_lazy("参评目标工会会员数(人)"),
    KIND: gettext_lazy("类型"),
}
NAME_HEADERS = ("名称", "单位名称", "工会名称", "单位", "组织名称")
KIND_HEADERS = ("类型", "组织类型")
TOTAL_WORDS = ("合计", "总计")
_UNIT_SUFFIX = re.compile(r"\((人|个|名)\)$")
_SPACES = re.compile(r"\s+")
_COUNT_TEXT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")


# The reader's refusals are the task table's: callers catch TaskTableError for both.
TaskTableError = spreadsheets.SpreadsheetError


class TaskTableRefused(Exception):
    """apply_task_table was given a plan with refusals and no leave to keep the valid rows."""

    def __init__(self, plan: "TaskTablePlan"):
        self.plan = plan
        super().__init__(plan.refusal_message())


class RowOutcome(models.TextChoices):
    CREATE = "create", gettext_lazy("新增")
    UPDATE = "update", gettext_lazy("更新")
    UNCHANGED = "unchanged", gettext_lazy("无变化")
    REFUSED = "refused", gettext_lazy("拒绝")


# ---------------------------------------------------------------------------------------------
# Reading: bytes → rows of cells, as the admin sees them in Excel (row 1 is index 0).


def read_table(data: bytes, filename: str) -> list[list[object]]:
    """The rows of the task table in a .xlsx, .xls or .csv file, each a list of cell values.

    Raises TaskTableError with a message for the admin when the file is empty, too large, not
    a spreadsheet, or in an encoding that cannot be told.
    """
    return spreadsheets.read_table(
        data,
        filename,
        document=_("任务分解表"),
        find_header=find_header,
        max_rows=MAX_TABLE_ROWS,
        too_many_rows_hint=_("任务分解表每个单位一行，请确认选对了文件。"),
    )


# ---------------------------------------------------------------------------------------------
# Cells: header words, counts, kinds.


def _header_key(cell: object) -> str:
    if not isinstance(cell, str):
        return ""
    return _UNIT_SUFFIX.sub("", normalize_org_name(cell))


def column_of(cell: object) -> str | None:
    """Which column a header cell names, by its words: "参评目标工会会员\\n数（人）" is TARGET."""
    key = _header_key(cell)
    if key == "序号":
        return SEQ
    if key in NAME_HEADERS:
        return NAME
    if key in KIND_HEADERS:
        return KIND
    if "年报" in key and "会员" in key:
        return REPORTED
    if "目标" in key and "会员" in key:
        return TARGET
    return None


def header_columns(row: list[object]) -> dict[str, int]:
    """The columns a row names as a header, each with its index (the first one wins)."""
    return spreadsheets.columns_named(row, column_of)


def _looks_like_header(row: list[object]) -> bool:
    return len(header_columns(row)) >= 2


def find_header(table: list[list[object]]) -> int | None:
    """Index of the header row: the first naming two columns, else the first naming 名称."""
    fallback = None
    for index, row in enumerate(table):
        columns = header_columns(row)
        if len(columns) >= 2:
            return index
        if fallback is None and NAME in columns:
            fallback = index
    return fallback


def parse_count(value: object, *, label: str | None = None) -> int:
    """A count of members as a spreadsheet holds it: 5018, 5018.0, "5,018", "５０１８", "5018人".

    Raises ValueError with a message naming the label: blank, not a number, not whole,
    negative or implausibly large.
    """
    if label is None:
        label = _("人数")
    shown = cell_text(value)
    values = {"label": label, "value": shown}
    if shown == "":
        raise ValueError(_("%(label)s为空") % values)
    if isinstance(value, bool):
        raise ValueError(_("%(label)s“%(value)s”不是数字") % values)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("%(label)s“%(value)s”不是数字") % values)
        if not value.is_integer():
            raise ValueError(_("%(label)s“%(value)s”不是整数") % values)
        number = int(value)
    elif isinstance(value, str | Decimal):
        # NFKC turns full-width digits, commas and minus signs into ASCII ones.
        text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).replace("−", "-")
        text = text.removesuffix("人")
        sign = -1 if text.startswith("-") else 1
        match = _COUNT_TEXT.fullmatch(text.lstrip("+-"))
        if match is None:
            raise ValueError(_("%(label)s“%(value)s”不是数字") % values)
        if match.group(2) and match.group(2).strip("0"):
            raise ValueError(_("%(label)s“%(value)s”不是整数") % values)
        number = sign * int(match.group(1).replace(",", ""))
    else:
        raise ValueError(_("%(label)s“%(value)s”不是数字") % values)
    if number < 0:
        raise ValueError(_("%(label)s不能为负数（%(value)s）") % values)
    if number > MAX_COUNT:
        raise ValueError(
            _("%(label)s %(number)s 大得不合理（超过 %(max)s），请核对")
            % {"label": label, "number": f"{number:,}", "max": f"{MAX_COUNT:,}"}
        )
    return number


@functools.cache
def _kind_labels() -> dict[str, str]:
    """Every way a kind may be written: its code, its label, its label without "工会".

    The labels are read untranslated: a 类型 column holds the Chinese words whatever the
    interface language (and this cache would otherwise keep the first caller's language).
    """
    labels: dict[str, str] = {}
    with translation.override(None):
        for kind in OrgKind:
            label = normalize_org_name(str(kind.label))
            labels[kind.value] = kind.value
            labels[label] = kind.value
            labels[label.removesuffix("工会")] = kind.value
    return labels


@functools.cache
def _kind_choices() -> tuple[str, ...]:
    """The kind labels a 类型 cell may hold, untranslated, as the refusal lists them."""
    with translation.override(None):
        return tuple(str(kind.label) for kind in OrgKind)


def parse_kind(value: object) -> str:
    """An OrgKind from its Chinese label ("镇工会", "企业"…); ValueError when none fits."""
    text = normalize_org_name(cell_text(value))
    kind = _kind_labels().get(text) or _kind_labels().get(text.lower())
    if kind is None:
        raise ValueError(
            _("类型“%(value)s”不是可用的组织类型（可填：%(choices)s）")
            % {"value": cell_text(value), "choices": list_text(_kind_choices())}
        )
    return kind


def _is_total_row(row: list[object]) -> bool:
    return any(
        isinstance(cell, str) and normalize_org_name(cell).strip(":") in TOTAL_WORDS for cell in row
    )


def _is_subtotal_row(row: list[object]) -> bool:
    """A section's 小计 ("镇、园区小计"): its figures are in the unit rows already."""
    return any(isinstance(cell, str) and normalize_org_name(cell).endswith("小计") for cell in row)


def _lines_text(lines: list[int]) -> str:
    return list_text(_("第 %(line)s 行") % {"line": line} for line in lines)


# ---------------------------------------------------------------------------------------------
# Planning: what each row would do, against the database as it is now. Nothing is written.


@dataclass
class PlannedRow:
    """One unit row of the table and what importing it would do."""

    line: int  # the spreadsheet row number the admin sees
    seq_text: str
    raw_name: str
    name: str
    reported_text: str = ""
    target_text: str = ""
    seq: int = 0
    reported: int | None = None
    target: int | None = None
    kind: str = ""
    kind_given: bool = False
    org_id: int | None = None
    outcome: str = RowOutcome.UNCHANGED
    changes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # Without a target column: the target the unit keeps, or else what the campaign's rule gives.
    kept_target: int | None = None
    rule_target: int | None = None

    @property
    def outcome_label(self) -> str:
        return str(RowOutcome(self.outcome).label)

    @property
    def kind_label(self) -> str:
        return str(OrgKind(self.kind).label) if self.kind else ""

    @property
    def label(self) -> str:
        """How a message names the row: 第 12 行（序号 8，新集镇）."""
        parts = [_("序号 %(seq)s") % {"seq": self.seq_text}] if self.seq_text else []
        parts.append(self.name or self.raw_name or _("名称为空"))
        return _("第 %(line)s 行（%(parts)s）") % {
            "line": self.line,
            "parts": pgettext("list separator", "，").join(parts),
        }

    @property
    def detail(self) -> str:
        """What the preview and the command say about the row after its outcome."""
        if self.outcome == RowOutcome.REFUSED:
            return reasons_text(self.reasons)
        if self.outcome == RowOutcome.CREATE:
            how = _("按表中类型") if self.kind_given else _("按名称推断")
            return _("类型：%(kind)s（%(how)s）") % {"kind": self.kind_label, "how": how}
        return reasons_text(self.changes)

    @property
    def message(self) -> str:
        """The row in one line: 第 7 行（序号 4，枣林湾旅游度假区）：更新 序号 2 → 4."""
        return import_plans.row_message(
            label=self.label, outcome=self.outcome_label, detail=self.detail
        )

    def as_refused_record(self) -> dict:
        return {
            "line": self.line,
            "seq": self.seq_text,
            "name": self.raw_name,
            "reported": self.reported_text,
            "target": self.target_text,
            "reasons": list(self.reasons),
        }


@dataclass
class TaskTablePlan:
    """What importing a table under a parent would do, row by row, with the table's totals."""

    campaign: Campaign
    parent: Org
    filename: str
    table: list[list[object]]
    header_line: int | None = None
    columns: dict[str, int] = field(default_factory=dict)
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the whole table is refused
    warnings: list[str] = field(default_factory=list)  # kept with the import record
    notes: list[str] = field(default_factory=list)  # shown in the preview only
    skipped_lines: list[int] = field(default_factory=list)
    stated_reported: int | None = None
    stated_target: int | None = None
    sum_reported: int = 0
    sum_target: int = 0

    @property
    def has_target(self) -> bool:
        return TARGET in self.columns

    def _with(self, outcome: str) -> list[PlannedRow]:
        return [row for row in self.rows if row.outcome == outcome]

    created = property(lambda self: self._with(RowOutcome.CREATE))
    updated = property(lambda self: self._with(RowOutcome.UPDATE))
    unchanged = property(lambda self: self._with(RowOutcome.UNCHANGED))
    refused = property(lambda self: self._with(RowOutcome.REFUSED))

    @property
    def valid_rows(self) -> list[PlannedRow]:
        return [row for row in self.rows if row.outcome != RowOutcome.REFUSED]

    def can_apply(self, *, keep_valid: bool = False) -> bool:
        return import_plans.can_apply(
            problems=self.problems,
            valid=len(self.valid_rows),
            refused=len(self.refused),
            keep_valid=keep_valid,
        )

    def summary(self) -> str:
        return _(
            "共 %(total)s 行：新增 %(created)s 行，更新 %(updated)s 行，"
            "无变化 %(unchanged)s 行，拒绝 %(refused)s 行"
        ) % {
            "total": len(self.rows),
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "refused": len(self.refused),
        }

    def refusal_message(self, *, keep_valid_hint: str | None = None) -> str:
        return import_plans.refusal_message(
            problems=self.problems,
            total=len(self.rows),
            valid=len(self.valid_rows),
            refused=len(self.refused),
            keep_valid_hint=keep_valid_hint,
        )


def plan_task_table(
    *, campaign: Campaign, parent: Org, table: list[list[object]], filename: str = ""
) -> TaskTablePlan:
    """Work out, without writing, what importing the table under parent would do to each row."""
    plan = TaskTablePlan(campaign=campaign, parent=parent, filename=filename, table=table)
    header_index = find_header(table)
    if header_index is None:
        plan.problems.append(
            _(
                "找不到表头：表格中应有一行写着“序号”“名称”“年报工会会员人数(人)”"
                "“参评目标工会会员数(人)”"
            )
        )
        return plan
    plan.header_line = header_index + 1
    plan.columns = header_columns(table[header_index])
    missing = [
        (_("“%(title)s”（也可写作“单位名称”或“工会名称”）") if column == NAME else _("“%(title)s”"))
        % {"title": COLUMN_TITLES[column]}
        for column in (NAME, REPORTED)
        if column not in plan.columns
    ]
    if missing:
        plan.problems.append(
            _("第 %(line)s 行的表头中找不到%(columns)s列")
            % {"line": plan.header_line, "columns": list_text(missing)}
        )
        return plan

    _read_rows(plan, table[header_index + 1 :], first_line=header_index + 2)
    if not plan.rows:
        plan.problems.append(_("第 %(line)s 行的表头下面没有任何单位") % {"line": plan.header_line})
        return plan
    _refuse_duplicates(plan)
    _match_orgs(plan)
    _check_totals(plan)
    _add_notes(plan)
    return plan


def _read_rows(plan: TaskTablePlan, rows: list[list[object]], *, first_line: int) -> None:
    """Turn the rows under the header into PlannedRows; stop at the 合计 row."""
    columns = plan.columns
    unused: list[int] = []
    subtotals: list[int] = []

    def cell(row: list[object], column: str) -> object:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else ""

    for offset, row in enumerate(rows):
        line = first_line + offset
        if is_blank(row):
            continue
        if _looks_like_header(row):
            plan.skipped_lines.append(line)
            continue
        if _is_total_row(row):
            _read_total_row(plan, row, line, cell)
            after = [first_line + i for i, r in enumerate(rows) if i > offset and not is_blank(r)]
            if after:
                plan.notes.append(
                    _("第 %(line)s 行“合计”之后的 %(count)s 行内容（如备注）未导入")
                    % {"line": line, "count": len(after)}
                )
            break
        if _is_subtotal_row(row):
            subtotals.append(line)
            continue
        if is_blank([cell(row, column) for column in (NAME, REPORTED, TARGET, KIND)]):
            # A template's numbered rows left unused: only 序号 is filled in.
            unused.append(line)
            continue
        plan.rows.append(_read_row(row, line, cell, ordinal=len(plan.rows) + 1, columns=columns))
    if subtotals:
        plan.notes.append(
            _("跳过了 %(count)s 行小计（%(lines)s）")
            % {"count": len(subtotals), "lines": _lines_text(subtotals)}
        )
    if unused:
        plan.notes.append(
            _("跳过了 %(count)s 行只有序号的空行（%(lines)s）")
            % {"count": len(unused), "lines": _lines_text(unused)}
        )


def _read_total_row(plan: TaskTablePlan, row, line: int, cell) -> None:
    for column, attr, label in (
        (REPORTED, "stated_reported", _("年报工会会员人数")),
        (TARGET, "stated_target", _("参评目标")),
    ):
        if column not in plan.columns or cell_text(cell(row, column)) == "":
            continue
        try:
            setattr(plan, attr, parse_count(cell(row, column), label=label))
        except ValueError as exc:
            plan.notes.append(
                _("第 %(line)s 行合计栏的%(error)s，未核对该合计") % {"line": line, "error": exc}
            )


def _read_row(row, line: int, cell, *, ordinal: int, columns: dict[str, int]) -> PlannedRow:
    raw_name = cell_text(cell(row, NAME))
    planned = PlannedRow(
        line=line,
        seq_text=cell_text(cell(row, SEQ)),
        raw_name=_SPACES.sub(" ", raw_name),
        name=normalize_org_name(raw_name),
        reported_text=cell_text(cell(row, REPORTED)),
        target_text=cell_text(cell(row, TARGET)),
        seq=ordinal,
    )
    reasons = planned.reasons
    if planned.seq_text:
        try:
            planned.seq = parse_count(cell(row, SEQ), label=_("序号"))
        except ValueError as exc:
            reasons.append(str(exc))
    if not planned.name:
        reasons.append(_("名称为空"))
    elif len(planned.name) > MAX_NAME_LENGTH:
        reasons.append(_("名称超过 %(max)s 个字") % {"max": MAX_NAME_LENGTH})
    try:
        planned.reported = parse_count(cell(row, REPORTED), label=_("年报工会会员人数"))
    except ValueError as exc:
        reasons.append(str(exc))
    if TARGET in columns:
        try:
            planned.target = parse_count(cell(row, TARGET), label=_("参评目标工会会员数"))
        except ValueError as exc:
            reasons.append(str(exc))
    if (
        planned.reported is not None
        and planned.target is not None
        and planned.target > planned.reported
    ):
        reasons.append(
            _("参评目标 %(target)s 人超过年报工会会员人数 %(reported)s 人")
            % {"target": f"{planned.target:,}", "reported": f"{planned.reported:,}"}
        )
    if KIND in columns and cell_text(cell(row, KIND)):
        try:
            planned.kind, planned.kind_given = parse_kind(cell(row, KIND)), True
        except ValueError as exc:
            reasons.append(str(exc))
    return planned


def _refuse_duplicates(plan: TaskTablePlan) -> None:
    """Rows naming the same unit are all refused."""
    for rows in import_plans.repeated(plan.rows, key=lambda row: row.name):
        message = _("名称“%(name)s”重复：%(rows)s") % {
            "name": rows[0].name,
            "rows": list_text(r.label for r in rows),
        }
        for row in rows:
            row.reasons.append(message)


def _match_orgs(plan: TaskTablePlan) -> None:
    """Match rows to the parent's direct children by normalised name and work out the changes."""
    parent, campaign = plan.parent, plan.campaign
    existing: dict[str, list[Org]] = {}
    for child in children_of(parent):
        existing.setdefault(normalize_org_name(child.name), []).append(child)
    child_ids = [org.pk for orgs in existing.values() for org in orgs]
    reported_now = dict(
        ReportedMembers.objects.filter(org_id__in=child_ids, year=campaign.year).values_list(
            "org_id", "count"
        )
    )
    targets_now = dict(
        Target.objects.filter(campaign=campaign, org_id__in=child_ids).values_list(
            "org_id", "value"
        )
    )
    rates = dict(TargetRate.objects.filter(campaign=campaign).values_list("org_kind", "rate"))
    parent_name = normalize_org_name(parent.name)

    for row in plan.rows:
        matches = existing.get(row.name, [])
        if row.name and row.name == parent_name:
            row.reasons.append(
                _("不能把上级组织“%(parent)s”自己列为它的下级") % {"parent": parent.name}
            )
        if len(matches) > 1:
            row.reasons.append(
                _(
                    "“%(parent)s”下已有 %(count)s 个名为“%(name)s”的组织，"
                    "无法确定更新哪一个，请先在组织页改名"
                )
                % {"parent": parent.name, "count": len(matches), "name": row.name}
            )
        if row.reasons:
            row.outcome = RowOutcome.REFUSED
            continue
        if not matches:
            row.outcome = RowOutcome.CREATE
            row.kind = row.kind or infer_org_kind(row.name, parent=parent)
        else:
            org = matches[0]
            row.org_id = org.pk
            row.changes = _changes(
                row,
                org,
                reported=reported_now.get(org.pk),
                target=targets_now.get(org.pk),
                has_target=plan.has_target,
            )
            row.kind = row.kind or org.kind
            row.outcome = RowOutcome.UPDATE if row.changes else RowOutcome.UNCHANGED
            if not plan.has_target:
                row.kept_target = targets_now.get(org.pk)
        if not plan.has_target and row.kept_target is None and row.kind in rates:
            row.rule_target = target_from_rate(row.reported, rates[row.kind])


def _changes(
    row: PlannedRow, org: Org, *, reported: int | None, target: int | None, has_target: bool
) -> list[str]:
    def shown(value: int | None, empty: str) -> str:
        return empty if value is None else f"{value:,}"

    changes = []
    if org.seq != row.seq:
        changes.append(_("序号 %(old)s → %(new)s") % {"old": org.seq, "new": row.seq})
    if row.kind_given and row.kind != org.kind:
        changes.append(
            _("类型 %(old)s → %(new)s") % {"old": org.get_kind_display(), "new": row.kind_label}
        )
    if reported != row.reported:
        changes.append(
            _("年报工会会员人数 %(old)s → %(new)s")
            % {"old": shown(reported, _("未填")), "new": shown(row.reported, "")}
        )
    if has_target and target != row.target:
        changes.append(
            _("参评目标 %(old)s → %(new)s")
            % {"old": shown(target, _("未设置")), "new": shown(row.target, "")}
        )
    return changes


def _check_totals(plan: TaskTablePlan) -> None:
    """Compare the 合计 row with the sum of the rows that will be imported."""
    valid = plan.valid_rows
    plan.sum_reported = sum(row.reported or 0 for row in valid)
    plan.sum_target = sum(row.target or 0 for row in valid)
    left_out = (
        _("（各行相加不含被拒绝的 %(count)s 行）") % {"count": len(plan.refused)}
        if plan.refused
        else ""
    )
    for label, stated, summed in (
        (_("年报工会会员人数"), plan.stated_reported, plan.sum_reported),
        (_("参评目标"), plan.stated_target, plan.sum_target if plan.has_target else None),
    ):
        if stated is not None and summed is not None and stated != summed:
            plan.warnings.append(
                _(
                    "任务分解表合计栏%(label)s为 %(stated)s 人，各行相加为 %(summed)s 人，"
                    "相差 %(difference)s 人%(left_out)s"
                )
                % {
                    "label": label,
                    "stated": f"{stated:,}",
                    "summed": f"{summed:,}",
                    "difference": f"{abs(stated - summed):,}",
                    "left_out": left_out,
                }
            )


def _add_notes(plan: TaskTablePlan) -> None:
    if plan.skipped_lines:
        plan.notes.insert(
            0,
            _("跳过了 %(count)s 行重复的表头（%(lines)s）")
            % {"count": len(plan.skipped_lines), "lines": _lines_text(plan.skipped_lines)},
        )
    if not plan.has_target:
        plan.notes.append(
            _(
                "表中没有“参评目标工会会员数(人)”列：只导入年报工会会员人数，"
                "参评目标按活动“%(campaign)s”的目标比例计算（已单独设置目标的单位保持不变）"
            )
            % {"campaign": plan.campaign.name}
        )
    if SEQ not in plan.columns:
        plan.notes.append(_("表中没有“序号”列：各单位按表中的先后顺序排列"))
    if plan.stated_reported is None and plan.stated_target is None:
        plan.notes.append(_("表中没有合计数，未核对合计"))
    listed = {row.name for row in plan.rows}
    others = [c.name for c in children_of(plan.parent) if normalize_org_name(c.name) not in listed]
    if others:
        shown = list_text(others[:10]) + (_("等") if len(others) > 10 else "")
        plan.notes.append(
            _("“%(parent)s”下另有 %(count)s 个组织不在本表中，保持不变：%(orgs)s")
            % {"parent": plan.parent.name, "count": len(others), "orgs": shown}
        )


# ---------------------------------------------------------------------------------------------
# Applying: write the plan in one transaction, or refuse.


def apply_task_table(
    *, plan: TaskTablePlan, user=None, keep_valid: bool = False, file_sha256: str = ""
) -> TaskTableImport:
    """Write the plan's valid rows and record the import; all or nothing.

    Raises TaskTableRefused when the table has a problem, or a row is refused and keep_valid
    is not set. The plan is made again under a lock on the parent, so what is written matches
    the database it is written to (the preview may be minutes old, another admin may import
    under the same parent at the same time).
    """
    if not plan.can_apply(keep_valid=keep_valid):
        raise TaskTableRefused(plan)
    with transaction.atomic():
        parent = Org.objects.select_for_update().get(pk=plan.parent.pk)
        fresh = plan_task_table(
            campaign=plan.campaign, parent=parent, table=plan.table, filename=plan.filename
        )
        if not fresh.can_apply(keep_valid=keep_valid):
            raise TaskTableRefused(fresh)
        record = TaskTableImport.objects.create(
            campaign=fresh.campaign,
            parent=parent,
            filename=fresh.filename[:255],
            file_sha256=file_sha256 or table_sha256(fresh.table),
            imported_by=user if getattr(user, "is_authenticated", False) else None,
            rows_total=len(fresh.rows),
            rows_created=len(fresh.created),
            rows_updated=len(fresh.updated),
            rows_unchanged=len(fresh.unchanged),
            rows_refused=len(fresh.refused),
            sum_reported=fresh.sum_reported,
            sum_target=fresh.sum_target,
            stated_reported=fresh.stated_reported,
            stated_target=fresh.stated_target,
            warnings=list(fresh.warnings),
            refused=[row.as_refused_record() for row in fresh.refused],
        )
        touched = [
            _apply_row(row, parent=parent, campaign=fresh.campaign, record=record)
            for row in fresh.created + fresh.updated
        ]
        refresh_for_orgs(orgs=touched, under=parent, year=fresh.campaign.year)
    return record


def _apply_row(row: PlannedRow, *, parent: Org, campaign: Campaign, record: TaskTableImport) -> Org:
    if row.outcome == RowOutcome.CREATE:
        org = create_child_org(parent=parent, name=row.name, kind=row.kind, seq=row.seq)
    else:
        org = Org.objects.get(pk=row.org_id)
        fields = []
        if org.seq != row.seq:
            org.seq = row.seq
            fields.append("seq")
        if row.kind_given and org.kind != row.kind:
            org.kind = row.kind
            fields.append("kind")
        if fields:
            org.save(update_fields=[*fields, "updated_at"])
    set_reported_members(org=org, year=campaign.year, count=row.reported)
    if row.target is None:
        return org
    target = Target.objects.filter(campaign=campaign, org=org).first()
    if target is None:
        Target.objects.create(
            campaign=campaign,
            org=org,
            value=row.target,
            source=TargetSource.IMPORT,
            task_import=record,
        )
    elif target.value != row.target:
        target.value, target.source, target.task_import = row.target, TargetSource.IMPORT, record
        target.save(update_fields=["value", "source", "task_import", "updated_at"])
    return org


def table_sha256(table: list[list[object]]) -> str:
    """A fingerprint of a table read without its file (the demo loader, tests)."""
    return hashlib.sha256(repr(table).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The refused rows as a workbook the admin can correct and import again.

# The corrected sheet is imported again: the titles of the table's own columns are the words
# the reader looks for, so they stay untranslated; the two added columns are for the admin.
REFUSED_HEADER = (
    gettext_lazy("行号"),
    "序号",
    "名称",
    "年报工会会员人数(人)",
    "参评目标工会会员数(人)",
    gettext_lazy("拒绝原因"),
)


def refused_rows_xlsx(record: TaskTableImport) -> bytes:
    """The refused rows of an import with their reasons, as .xlsx bytes.

    Every text cell is written with write_string through safe_text: a name such as
    "=HYPERLINK(…)" stays text (behind a quote) and never becomes a formula in the admin's Excel.
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(_("拒绝的行"))
    bold = workbook.add_format({"bold": True})
    for col, title in enumerate(REFUSED_HEADER):
        sheet.write_string(0, col, safe_text(str(title)), bold)
    for index, refused in enumerate(record.refused, start=1):
        sheet.write_number(index, 0, refused.get("line", 0))
        for col, key in enumerate(("seq", "name", "reported", "target"), start=1):
            sheet.write_string(index, col, safe_text(str(refused.get(key, ""))))
        sheet.write_string(index, 5, safe_text(reasons_text(refused.get("reasons", []))))
    sheet.set_column(0, 1, 8)
    sheet.set_column(2, 2, 32)
    sheet.set_column(3, 4, 14)
    sheet.set_column(5, 5, 60)
    workbook.close()
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Uploads waiting between the preview and the confirmation.

upload_stash = spreadsheets.UploadStash("task_imports")
