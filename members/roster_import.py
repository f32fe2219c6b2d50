"""The roster import (会员名册导入): read a roster spreadsheet, plan every row, apply the plan.

A roster lists members with 姓名, 身份证号码, 手机号码, 所在工会 and, optionally, 性别 and
入会时间, under a header found by its words wherever it stands. Planning checks every row against
the database without writing; applying writes the plan in one transaction, in batches, so that
100,000 rows take seconds. A member is found by the keyed hash of their ID number: importing
again overwrites what the roster holds for that ID, which is how the seed notice's admins correct
wrong data (附件2). No message repeats an ID number or phone in clear.
"""

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orgs.models import Org, OrgKind
from orgs.selectors import within
from orgs.services import normalize_org_name
from pingyi import import_plans, spreadsheets
from pingyi.import_plans import list_text, reasons_text
from pingyi.spreadsheets import SpreadsheetError, Table, cell_text, is_blank
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from . import crypto
from .audit import masked_changes
from .counters import count_roster_changes, counts_as_registered, local_day
from .identity import (
    IdentityError,
    Sex,
    mask_id_number,
    mask_mobile,
    normalize_id_text,
    parse_id_number,
    parse_mobile,
    parse_name,
)
from .models import (
    AuditAction,
    AuditEvent,
    ImportStatus,
    Member,
    MemberStatus,
    RosterImport,
    SexChoice,
)

NAME, ID_NUMBER, PHONE, UNION, SEX, JOINED = (
    "name",
    "id_number",
    "phone",
    "union",
    "sex",
    "joined_on",
)
COLUMNS = (NAME, ID_NUMBER, PHONE, UNION, SEX, JOINED)
REQUIRED_COLUMNS = (NAME, ID_NUMBER, PHONE, UNION)
# The words of a roster's header are data, in Chinese whatever the interface language: the
# refused-rows workbook writes them so that the corrected sheet can be imported again.
HEADER_WORDS = {
    NAME: "姓名",
    ID_NUMBER: "身份证号码",
    PHONE: "手机号码",
    UNION: "所在工会",
    SEX: "性别",
    JOINED: "入会时间",
}
COLUMN_TITLES = {
    NAME: gettext_lazy("姓名"),
    ID_NUMBER: gettext_lazy("身份证号码"),
    PHONE: gettext_lazy("手机号码"),
    UNION: gettext_lazy("所在工会"),
    SEX: gettext_lazy("性别"),
    JOINED: gettext_lazy("入会时间"),
}
# The fields an import may change on a stored member, as the preview and the audit name them.
FIELD_TITLES = {
    "name": gettext_lazy("姓名"),
    "phone": gettext_lazy("手机号码"),
    "org": gettext_lazy("所在工会"),
    "joined_on": gettext_lazy("入会时间"),
    "status": gettext_lazy("状态"),
}
# A province's largest union federation has a few hundred thousand members; a county's roster
# of 100,000 rows imports in seconds. Larger files are split by the admin.
MAX_ROSTER_ROWS = 300_000
HEADER_SEARCH_ROWS = 200
BATCH_SIZE = 2000
# Uploads wait here between the preview and the confirmation (read again by the worker).
upload_stash = spreadsheets.UploadStash("roster_imports")
PROGRESS_TIMEOUT = 24 * 3600
_SPACES = re.compile(r"\s+")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?|月)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
_EXCEL_EPOCH = date(1899, 12, 30)
_SEX_WORDS = {
    "男": Sex.MALE,
    "男性": Sex.MALE,
    "M": Sex.MALE,
    "女": Sex.FEMALE,
    "女性": Sex.FEMALE,
    "F": Sex.FEMALE,
}


class RosterImportRefused(Exception):
    """The plan has a problem, or refused rows and no leave to keep the valid ones."""

    def __init__(self, plan: "RosterPlan", message: str = ""):
        self.plan = plan
        super().__init__(message or plan.refusal_message())


class RowOutcome(models.TextChoices):
    CREATE = "create", gettext_lazy("新增")
    UPDATE = "update", gettext_lazy("覆盖更新")
    UNCHANGED = "unchanged", gettext_lazy("无变化")
    REFUSED = "refused", gettext_lazy("拒绝")


# ---------------------------------------------------------------------------------------------
# Reading: the header by its words.


def _header_key(cell: object) -> str:
    if not isinstance(cell, str):
        return ""
    key = _SPACES.sub("", unicodedata.normalize("NFKC", cell))
    return _BRACKETED.sub("", key).strip("*:：")


def column_of(cell: object) -> str | None:
    """Which roster column a header cell names: "身份证号码（必填）" is ID_NUMBER."""
    key = _header_key(cell)
    if not key or len(key) > 12:
        return None  # a title row ("真州镇工会会员名册") is longer than any header word
    if key in ("姓名", "会员姓名", "名字"):
        return NAME
    if "身份证" in key or "身份号码" in key or key == "证件号码":
        return ID_NUMBER
    if "手机" in key or key in ("联系电话", "电话", "联系方式", "电话号码"):
        return PHONE
    if key == "性别":
        return SEX
    if "入会" in key:
        return JOINED
    if "工会" in key or key in ("所在单位", "单位", "单位名称"):
        return UNION
    return None


def header_columns(row: list[object]) -> dict[str, int]:
    return spreadsheets.columns_named(row, column_of)


def find_header(table: Table) -> int | None:
    """Index of the header: the first row (of the first 200) naming 姓名 and 身份证号码."""
    for index, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        columns = header_columns(row)
        if NAME in columns and ID_NUMBER in columns:
            return index
    return None


def read_roster(data: bytes, filename: str) -> Table:
    """The rows of a roster file; SpreadsheetError when it cannot be read as a table."""
    return spreadsheets.read_table(
        data,
        filename,
        document=_("会员名册"),
        find_header=find_header,
        max_rows=MAX_ROSTER_ROWS,
        too_many_rows_hint=_("请把名册按工会分成几个文件分别导入。"),
    )


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Cells: sex and join date (identity fields are parsed by members.identity).


def parse_sex(value: object) -> str:
    text = _SPACES.sub("", unicodedata.normalize("NFKC", cell_text(value))).upper()
    sex = _SEX_WORDS.get(text)
    if sex is None:
        raise ValueError(_("性别“%(value)s”无法识别（可填 男、女）") % {"value": cell_text(value)})
    return sex


def parse_joined_on(value: object, *, birth_date: date | None, today: date) -> date:
    """入会时间 as admins write it: 2019-03-01, 2019/3/1, 2019年3月1日, 201903, a date cell."""
    shown = cell_text(value)
    try:
        joined = _joined_date(value)
    except ValueError:
        joined = None
    if joined is None:
        raise ValueError(
            _("入会时间“%(value)s”无法识别（可写作 2019-03-01、2019/3/1、2019年3月1日 或 201903）")
            % {"value": shown}
        )
    if joined > today:
        raise ValueError(_("入会时间 %(date)s 晚于今天") % {"date": joined.isoformat()})
    if birth_date is not None and joined < birth_date:
        raise ValueError(
            _("入会时间 %(date)s 早于身份证号码中的出生日期") % {"date": joined.isoformat()}
        )
    return joined


def _joined_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer():
            return None
        number = int(value)
        if 1 <= number <= 99_999:  # an Excel date serial written as a plain number
            return _EXCEL_EPOCH + timedelta(days=number)
        value = str(number)
    text = unicodedata.normalize("NFKC", cell_text(value))
    text = _SPACES.sub("", text.split(" ")[0])  # "2019-03-01 00:00:00" from a CSV export
    match = _DATE_TEXT.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        return None
    year, month, day = match.groups()
    return date(int(year), int(month), int(day or 1))


# ---------------------------------------------------------------------------------------------
# Planning: what each row would do, against the database as it is now. Nothing is written.


@dataclass(slots=True)
class PlannedRow:
    """One member row of the roster and what importing it would do."""

    line: int  # the spreadsheet row number the admin sees
    cells: tuple[str, ...]  # the row's cells in COLUMNS order, as typed: personal data in clear
    name: str = ""
    id_number: str = ""
    id_hash: str = ""
    birth_date: date | None = None
    sex: str = ""
    phone: str = ""
    org_id: int | None = None
    joined_on: date | None = None
    converted_from_15: bool = False
    member_id: int | None = None
    outcome: str = RowOutcome.CREATE
    # {field: (before, after)} as shown to the admin: phones masked, unions by name.
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def cell(self, column: str) -> str:
        return self.cells[COLUMNS.index(column)]

    @property
    def id_masked(self) -> str:
        if self.id_number:
            return mask_id_number(self.id_number)
        return mask_id_number(normalize_id_text(self.cell(ID_NUMBER)))

    @property
    def phone_masked(self) -> str:
        if self.phone:
            return mask_mobile(self.phone)
        return mask_mobile(_SPACES.sub("", self.cell(PHONE)))

    @property
    def shown_name(self) -> str:
        return self.name or self.cell(NAME)

    @property
    def union_text(self) -> str:
        return self.cell(UNION)

    @property
    def label(self) -> str:
        """How a message names the row: 第 12 行（张三）."""
        return _("第 %(line)s 行（%(name)s）") % {
            "line": self.line,
            "name": self.shown_name or _("姓名为空"),
        }

    @property
    def outcome_label(self) -> str:
        return str(RowOutcome(self.outcome).label)

    @property
    def detail(self) -> str:
        """What the preview and the command say after the outcome: reasons, or the changes."""
        if self.outcome == RowOutcome.REFUSED:
            return reasons_text(self.reasons)
        parts = [
            _("%(field)s %(before)s → %(after)s")
            % {
                "field": FIELD_TITLES[name],
                "before": before or _("（空）"),
                "after": after or _("（空）"),
            }
            for name, (before, after) in self.changes.items()
        ]
        return reasons_text([*parts, *self.flags])

    @property
    def message(self) -> str:
        return import_plans.row_message(
            label=f"{self.label} {self.id_masked}", outcome=self.outcome_label, detail=self.detail
        )

    def refuse(self, reason: str) -> None:
        self.reasons.append(reason)
        self.outcome = RowOutcome.REFUSED

    def as_refused_record(self) -> dict:
        return {"line": self.line, "cells": list(self.cells), "reasons": list(self.reasons)}


@dataclass
class RosterPlan:
    """What importing a roster into a parent's subtree would do, row by row."""

    parent: Org
    filename: str
    header_line: int | None = None
    columns: dict[str, int] = field(default_factory=dict)
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the whole file is refused
    notes: list[str] = field(default_factory=list)

    def with_outcome(self, outcome: str) -> list[PlannedRow]:
        return [row for row in self.rows if row.outcome == outcome]

    @cached_property
    def counts(self) -> dict[str, int]:
        counted = Counter(row.outcome for row in self.rows)
        return {outcome: counted.get(outcome, 0) for outcome in RowOutcome.values}

    @property
    def refused(self) -> list[PlannedRow]:
        return self.with_outcome(RowOutcome.REFUSED)

    @property
    def valid_count(self) -> int:
        return len(self.rows) - self.counts[RowOutcome.REFUSED]

    @cached_property
    def changed_fields(self) -> dict[str, int]:
        """{field: members whose field the import changes}."""
        counted = Counter(name for row in self.rows for name in row.changes)
        return {name: counted[name] for name in FIELD_TITLES if counted[name]}

    @property
    def changed_fields_text(self) -> str:
        return changed_fields_text(self.changed_fields)

    def can_apply(self, *, keep_valid: bool = False) -> bool:
        return import_plans.can_apply(
            problems=self.problems,
            valid=self.valid_count,
            refused=self.counts[RowOutcome.REFUSED],
            keep_valid=keep_valid,
        )

    def summary(self) -> str:
        return _(
            "共 %(total)s 行：新增 %(created)s 人，覆盖更新 %(updated)s 人，"
            "无变化 %(unchanged)s 人，拒绝 %(refused)s 行"
        ) % {
            "total": f"{len(self.rows):,}",
            "created": f"{self.counts[RowOutcome.CREATE]:,}",
            "updated": f"{self.counts[RowOutcome.UPDATE]:,}",
            "unchanged": f"{self.counts[RowOutcome.UNCHANGED]:,}",
            "refused": f"{self.counts[RowOutcome.REFUSED]:,}",
        }

    def refusal_message(self, *, keep_valid_hint: str | None = None) -> str:
        return import_plans.refusal_message(
            problems=self.problems,
            total=len(self.rows),
            valid=self.valid_count,
            refused=self.counts[RowOutcome.REFUSED],
            keep_valid_hint=keep_valid_hint,
        )


def changed_fields_text(changed: dict[str, int]) -> str:
    """{"phone": 3, "org": 1} → 手机号码 3 人、所在工会 1 人."""
    return list_text(
        _("%(field)s %(count)s 人") % {"field": FIELD_TITLES[name], "count": f"{count:,}"}
        for name, count in changed.items()
        if name in FIELD_TITLES
    )


def plan_roster(
    *, parent: Org, table: Table, filename: str = "", user=None, today: date | None = None
) -> RosterPlan:
    """Work out, without writing, what importing the roster into parent's subtree would do.

    user, when given, decides whether a refusal may name a union outside the import's scope
    (one the user manages elsewhere) or must not (another unit's roster is not theirs to read).
    """
    today = today or timezone.localdate()
    plan = RosterPlan(parent=parent, filename=filename)
    header_index = find_header(table)
    if header_index is None:
        plan.problems.append(
            _("找不到表头：表格中应有一行写着“姓名”“身份证号码”“手机号码”“所在工会”")
        )
        return plan
    plan.header_line = header_index + 1
    plan.columns = header_columns(table[header_index])
    optional_union = parent.kind == OrgKind.GRASSROOTS
    missing = [
        _("“%(title)s”") % {"title": COLUMN_TITLES[column]}
        for column in REQUIRED_COLUMNS
        if column not in plan.columns and not (column == UNION and optional_union)
    ]
    if missing:
        plan.problems.append(
            _("第 %(line)s 行的表头中找不到%(columns)s列")
            % {"line": plan.header_line, "columns": list_text(missing)}
        )
        return plan
    if UNION not in plan.columns:
        plan.notes.append(
            _("表中没有“所在工会”列：全部会员导入到“%(union)s”") % {"union": parent.name}
        )
    _read_rows(plan, table[header_index + 1 :], first_line=header_index + 2, today=today)
    if not plan.rows:
        plan.problems.append(_("第 %(line)s 行的表头下面没有任何会员") % {"line": plan.header_line})
        return plan
    _refuse_duplicate_ids(plan)
    _match_unions(plan)
    _match_members(plan, user=user)
    converted = sum(1 for row in plan.rows if row.converted_from_15)
    if converted:
        plan.notes.append(
            _("%(count)s 个 15 位旧身份证号码已按国家标准转换为 18 位") % {"count": converted}
        )
    return plan


def _read_rows(plan: RosterPlan, rows: Table, *, first_line: int, today: date) -> None:
    indexes = [plan.columns.get(column) for column in COLUMNS]
    repeated_headers: list[int] = []
    for offset, row in enumerate(rows):
        if is_blank(row):
            continue
        line = first_line + offset
        values = [row[i] if i is not None and i < len(row) else "" for i in indexes]
        if column_of(values[0]) == NAME and column_of(values[1]) == ID_NUMBER:
            repeated_headers.append(line)  # the header again, as printed on every page
            continue
        plan.rows.append(_read_row(values, line, today=today, columns=plan.columns))
    if repeated_headers:
        plan.notes.append(
            _("跳过了 %(count)s 行重复的表头（%(lines)s）")
            % {
                "count": len(repeated_headers),
                "lines": list_text(
                    _("第 %(line)s 行") % {"line": line} for line in repeated_headers[:20]
                ),
            }
        )


def _read_row(values: list[object], line: int, *, today: date, columns) -> PlannedRow:
    name_cell, id_cell, phone_cell, _union_cell, sex_cell, joined_cell = values
    planned = PlannedRow(line=line, cells=tuple(cell_text(value) for value in values))
    reasons = planned.reasons
    try:
        planned.name = parse_name(name_cell)
    except IdentityError as exc:
        reasons.append(str(exc))
    try:
        # A 15-digit number stored as a number loses nothing: read it as the digits it shows.
        if isinstance(id_cell, float) and id_cell.is_integer() and id_cell < 1e15:
            id_cell = str(int(id_cell))
        parsed = parse_id_number(id_cell, today=today)
    except IdentityError as exc:
        reasons.append(_("身份证号码 %(id)s：%(error)s") % {"id": planned.id_masked, "error": exc})
    else:
        planned.id_number = parsed.number
        planned.id_hash = crypto.lookup_hash("id", parsed.number)
        planned.birth_date, planned.sex = parsed.birth_date, parsed.sex
        planned.converted_from_15 = parsed.converted_from_15
    try:
        planned.phone = parse_mobile(phone_cell)
    except IdentityError as exc:
        reasons.append(
            _("手机号码 %(phone)s：%(error)s") % {"phone": planned.phone_masked, "error": exc}
        )
    if SEX in columns and cell_text(sex_cell):
        try:
            sex = parse_sex(sex_cell)
        except ValueError as exc:
            reasons.append(str(exc))
        else:
            if planned.sex and sex != planned.sex:
                reasons.append(
                    _("性别填的是“%(given)s”，但身份证号码显示为“%(derived)s”")
                    % {
                        "given": SexChoice(sex).label,
                        "derived": SexChoice(planned.sex).label,
                    }
                )
    if JOINED in columns and cell_text(joined_cell):
        try:
            planned.joined_on = parse_joined_on(
                joined_cell, birth_date=planned.birth_date, today=today
            )
        except ValueError as exc:
            reasons.append(str(exc))
    if reasons:
        planned.outcome = RowOutcome.REFUSED
    return planned


def _refuse_duplicate_ids(plan: RosterPlan) -> None:
    """Rows with the same ID number are all refused."""
    for rows in import_plans.repeated(plan.rows, key=lambda row: row.id_hash):
        message = _("身份证号码 %(id)s 在表中重复出现（%(lines)s），请只保留一行") % {
            "id": rows[0].id_masked,
            "lines": list_text(_("第 %(line)s 行") % {"line": r.line} for r in rows),
        }
        for row in rows:
            row.refuse(message)


@dataclass
class _UnionIndex:
    """The orgs of the import's subtree, found by code, by name and by name without 工会."""

    by_code: dict[str, tuple] = field(default_factory=dict)
    by_name: dict[str, list[tuple]] = field(default_factory=dict)
    by_short_name: dict[str, list[tuple]] = field(default_factory=dict)

    def candidates(self, text: str) -> list[tuple]:
        key = normalize_org_name(text)
        if key in self.by_code:
            return [self.by_code[key]]
        return self.by_name.get(key) or self.by_short_name.get(key.removesuffix("工会"), [])


def _union_index(parent: Org) -> _UnionIndex:
    index = _UnionIndex()
    for org in Org.objects.filter(within(parent)).values_list("pk", "code", "name", "kind"):
        _pk, code, name, _kind = org
        index.by_code[code] = org
        key = normalize_org_name(name)
        index.by_name.setdefault(key, []).append(org)
        index.by_short_name.setdefault(key.removesuffix("工会"), []).append(org)
    return index


def _match_unions(plan: RosterPlan) -> None:
    """Each row's 所在工会 (code or name) → a grassroots union of the parent's subtree."""
    parent = plan.parent
    if UNION not in plan.columns:
        for row in plan.rows:
            row.org_id = parent.pk
        return
    index = _union_index(parent)
    decided: dict[str, tuple[int | None, str]] = {}
    unknown: set[str] = set()
    for row in plan.rows:
        text = row.union_text
        if text not in decided:
            decided[text] = _decide_union(text, index, parent)
            if decided[text][0] is None and text:
                unknown.add(text)
    outside = _found_outside(unknown, parent) if unknown else set()
    for row in plan.rows:
        org_id, reason = decided[row.union_text]
        if org_id is None:
            if row.union_text in outside:
                reason = _("所在工会“%(union)s”不在本次导入范围“%(parent)s”内") % {
                    "union": row.union_text,
                    "parent": parent.name,
                }
            row.refuse(reason)
        else:
            row.org_id = org_id


def _decide_union(text: str, index: _UnionIndex, parent: Org) -> tuple[int | None, str]:
    if not text:
        return None, _("所在工会为空")
    found = index.candidates(text)
    if not found:
        return None, _("在“%(parent)s”下找不到所在工会“%(union)s”，请核对名称或改填工会代码") % {
            "parent": parent.name,
            "union": text,
        }
    if len(found) > 1:
        codes = list_text(
            _("%(name)s（代码 %(code)s）") % {"name": name, "code": code}
            for _pk, code, name, _kind in found[:5]
        )
        return None, _("有 %(count)s 个工会名为“%(union)s”，请改填工会代码：%(codes)s") % {
            "count": len(found),
            "union": text,
            "codes": codes,
        }
    pk, _code, name, kind = found[0]
    if kind != OrgKind.GRASSROOTS:
        return None, _("“%(union)s”是%(kind)s，不是基层工会；会员只能导入到基层工会") % {
            "union": name,
            "kind": OrgKind(kind).label,
        }
    return pk, ""


def _found_outside(texts: set[str], parent: Org) -> set[str]:
    """Which union texts name an org that exists, but outside the parent's subtree."""
    keys = {normalize_org_name(text): text for text in texts}
    names = {*keys, *(f"{key}工会" for key in keys)}
    found = Org.objects.exclude(within(parent)).filter(
        models.Q(code__in=keys) | models.Q(name__in=names)
    )
    hits = set()
    for code, name in found.values_list("code", "name"):
        for key in (code, normalize_org_name(name), normalize_org_name(name).removesuffix("工会")):
            if key in keys:
                hits.add(keys[key])
    return hits


_MEMBER_FIELDS = (
    "pk",
    "id_hash",
    "name",
    "phone_hash",
    "phone_masked",
    "org_id",
    "org__path",
    "org__name",
    "joined_on",
    "status",
    "user_id",
)


def _chunks(items: Sequence, size: int = BATCH_SIZE) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _match_members(plan: RosterPlan, *, user) -> None:
    """Find each row's stored member by the hash of its ID and work out what would change."""
    rows = [row for row in plan.rows if row.outcome != RowOutcome.REFUSED]
    org_names = dict(
        Org.objects.filter(pk__in={row.org_id for row in rows}).values_list("pk", "name")
    )
    visible = _managed_paths(user)
    for chunk in _chunks(rows):
        stored = {
            values[1]: dict(zip(_MEMBER_FIELDS, values, strict=True))
            for values in Member.objects.filter(id_hash__in=[r.id_hash for r in chunk]).values_list(
                *_MEMBER_FIELDS
            )
        }
        for row in chunk:
            member = stored.get(row.id_hash)
            if member is None:
                row.outcome = RowOutcome.CREATE
                continue
            if not member["org__path"].startswith(plan.parent.path):
                row.refuse(_outside_message(row, member, plan.parent, visible))
                continue
            row.member_id = member["pk"]
            _compare(row, member, org_names)
            row.outcome = RowOutcome.UPDATE if row.changes else RowOutcome.UNCHANGED


def _managed_paths(user) -> list[str] | None:
    """The paths of the subtrees the user manages (None: no user, an operator's command)."""
    if user is None:
        return None
    from accounts.models import MANAGING_ROLES
    from orgs.scoping import scope_roots

    return [org.path for org in scope_roots(user, MANAGING_ROLES)]


def _outside_message(row: PlannedRow, member: dict, parent: Org, visible) -> str:
    path = member["org__path"]
    if visible is None or any(path.startswith(root) for root in visible):
        return _(
            "身份证号码 %(id)s 的会员在“%(union)s”的名册中，不在本次导入范围“%(parent)s”内；"
            "请选择更大的导入范围，或由本人申请转会"
        ) % {"id": row.id_masked, "union": member["org__name"], "parent": parent.name}
    # Another unit's roster: say that the person is held elsewhere, never where.
    return _(
        "身份证号码 %(id)s 的会员已在其他单位工会的名册中（不在您的管理范围内），不能导入或移动；"
        "如确属本单位会员，请由本人申请转会或联系上级工会"
    ) % {"id": row.id_masked}


def _compare(row: PlannedRow, member: dict, org_names: dict[int, str]) -> None:
    changes = row.changes
    registered = member["user_id"] is not None
    if member["name"] != row.name:
        changes["name"] = (member["name"], row.name)
        if registered:
            row.flags.append(_("该会员已实名注册，姓名将被修改，请确认无误"))
    if member["phone_hash"] != crypto.lookup_hash("phone", row.phone):
        if registered:
            # The phone of a registered member is their login: theirs to change, not the roster's.
            row.flags.append(_("该会员已实名注册，手机号码以本人注册的为准，未覆盖"))
        else:
            changes["phone"] = (member["phone_masked"], mask_mobile(row.phone))
    if member["org_id"] != row.org_id:
        changes["org"] = (member["org__name"], org_names.get(row.org_id, ""))
    if row.joined_on is not None and member["joined_on"] != row.joined_on:
        before = member["joined_on"].isoformat() if member["joined_on"] else ""
        changes["joined_on"] = (before, row.joined_on.isoformat())
    if member["status"] != MemberStatus.ACTIVE:
        changes["status"] = (
            str(MemberStatus(member["status"]).label),
            str(MemberStatus.ACTIVE.label),
        )


# ---------------------------------------------------------------------------------------------
# Applying: the plan's valid rows in one transaction, in batches, with progress and audit.

Progress = Callable[[int, int], None]


def progress_key(import_id: int) -> str:
    return f"pingyi:roster_import:{import_id}:progress"


def cache_progress(import_id: int) -> Progress:
    """Progress written to the cache, which another connection reads while the transaction runs.

    The import's own row cannot carry it: its updates are invisible (PostgreSQL) or locked out
    (SQLite) until the transaction commits.
    """

    def report(done: int, total: int) -> None:
        cache.set(progress_key(import_id), (done, total), PROGRESS_TIMEOUT)

    return report


def import_progress(record: RosterImport) -> tuple[int, int]:
    """(rows done, rows in all) of an import, running or finished."""
    if record.status == ImportStatus.RUNNING:
        cached = cache.get(progress_key(record.pk))
        if cached:
            return cached
    return record.rows_done, record.rows_total


def start_roster_import(
    *, parent: Org, filename: str, sha256: str, keep_valid: bool, user=None, rows_total: int = 0
) -> RosterImport:
    """The record of an import about to run (its progress is shown from the start)."""
    return RosterImport.objects.create(
        parent=parent,
        imported_by=user if getattr(user, "is_authenticated", False) else None,
        filename=filename[:255],
        sha256=sha256,
        keep_valid=keep_valid,
        rows_total=rows_total,
    )


def run_roster_import(
    *, record: RosterImport, data: bytes, progress: Progress | None = None
) -> RosterImport:
    """Read the file again, plan it again under a lock on the parent and apply it; all or nothing.

    The file must be the one previewed (same SHA-256). On a refusal or an error nothing of the
    roster is written and the record says why (with the refused rows); the exception is raised
    again for the caller.
    """
    progress = progress or cache_progress(record.pk)
    plan = None
    try:
        if file_sha256(data) != record.sha256:
            raise SpreadsheetError(_("文件与预览时的不一致（可能已被替换），请重新上传并预览。"))
        table = read_roster(data, record.filename)
        with transaction.atomic():
            parent = Org.objects.select_for_update().get(pk=record.parent_id)
            plan = plan_roster(
                parent=parent, table=table, filename=record.filename, user=record.imported_by
            )
            progress(0, len(plan.rows))
            if not plan.can_apply(keep_valid=record.keep_valid):
                raise RosterImportRefused(plan)
            apply_roster_plan(plan=plan, record=record, progress=progress)
    except (SpreadsheetError, RosterImportRefused) as exc:
        _record_failure(record, str(exc), plan)
        raise
    except Exception:
        _record_failure(
            record, _("导入时发生内部错误，未写入任何数据；请稍后重试或联系系统管理员。"), plan
        )
        raise
    finally:
        cache.delete(progress_key(record.pk))
    return record


def _record_failure(record: RosterImport, message: str, plan: RosterPlan | None) -> None:
    record.status = ImportStatus.FAILED
    record.error = message
    record.finished_at = timezone.now()
    record.rows_done = 0
    if plan is not None:
        _fill_counts(record, plan)
    record.save()


def _fill_counts(record: RosterImport, plan: RosterPlan) -> None:
    counts = plan.counts
    record.rows_total = len(plan.rows)
    record.created_count = counts[RowOutcome.CREATE]
    record.updated_count = counts[RowOutcome.UPDATE]
    record.unchanged_count = counts[RowOutcome.UNCHANGED]
    record.refused_count = counts[RowOutcome.REFUSED]
    record.changed_fields = plan.changed_fields
    refused = [row.as_refused_record() for row in plan.refused]
    record.refused_cipher = (
        crypto.encrypt(json.dumps(refused, ensure_ascii=False)) if refused else ""
    )


def apply_roster_plan(
    *, plan: RosterPlan, record: RosterImport, progress: Progress | None = None
) -> RosterImport:
    """Write the plan's valid rows and complete the record. Call inside a transaction.

    Members are created with bulk_create and updated with bulk_update in batches; each new or
    changed member gets its audit event (ROSTER_CREATED, ROSTER_UPDATED with masked changes).
    """
    progress = progress or (lambda done, total: None)
    actor = record.imported_by
    note = _("名册导入 #%(id)s：%(file)s") % {"id": record.pk, "file": record.filename}
    note = note[:200]
    total = len(plan.rows)
    done = plan.counts[RowOutcome.UNCHANGED] + plan.counts[RowOutcome.REFUSED]
    progress(done, total)
    for batch in _chunks(plan.with_outcome(RowOutcome.CREATE)):
        _create_members(batch, actor=actor, note=note)
        done += len(batch)
        progress(done, total)
    for batch in _chunks(plan.with_outcome(RowOutcome.UPDATE)):
        _update_members(batch, actor=actor, note=note)
        done += len(batch)
        progress(done, total)
    _fill_counts(record, plan)
    record.rows_done = total
    record.status = ImportStatus.DONE
    record.error = ""
    record.finished_at = timezone.now()
    record.save()
    return record


def _create_members(rows: Sequence[PlannedRow], *, actor, note: str) -> None:
    """Insert new members and their ROSTER_CREATED events (executemany; COPY on PostgreSQL).

    At 100,000 rows the ORM's per-value preparation (bulk_create) costs several times what the
    database does, so the rows are written as plain tuples. The stored forms are those of
    Member.set_id_number and set_phone: encrypted, keyed hash, masked.
    """
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    members = [
        (
            row.org_id,
            row.name,
            crypto.encrypt(row.id_number),
            row.id_hash,
            mask_id_number(row.id_number),
            crypto.encrypt(row.phone),
            crypto.lookup_hash("phone", row.phone),
            mask_mobile(row.phone) if row.phone else "",
            row.sex,
            ops.adapt_datefield_value(row.birth_date),
            ops.adapt_datefield_value(row.joined_on),
            MemberStatus.ACTIVE.value,
            now,
            now,
        )
        for row in rows
    ]
    _insert_many(Member, _MEMBER_INSERT_COLUMNS, members)
    new_ids = dict(
        Member.objects.filter(id_hash__in=[row.id_hash for row in rows]).values_list(
            "id_hash", "pk"
        )
    )
    actor_id = actor.pk if actor is not None else None
    events = [
        (
            now,
            actor_id,
            AuditAction.ROSTER_CREATED.value,
            new_ids[row.id_hash],
            row.org_id,
            json.dumps(
                masked_changes({"name": ("", row.name), "id_number": ("", row.id_number)}),
                ensure_ascii=False,
            ),
            note,
            "",
        )
        for row in rows
    ]
    _insert_many(AuditEvent, _EVENT_INSERT_COLUMNS, events)


_MEMBER_INSERT_COLUMNS = (
    "org_id",
    "name",
    "id_cipher",
    "id_hash",
    "id_masked",
    "phone_cipher",
    "phone_hash",
    "phone_masked",
    "sex",
    "birth_date",
    "joined_on",
    "status",
    "created_at",
    "updated_at",
)
_EVENT_INSERT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "member_id",
    "org_id",
    "changes",
    "note",
    "address",
)


def _insert_many(model, columns: Sequence[str], values: list[tuple]) -> None:
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # COPY streams the rows in one round trip: several times faster than executemany.
        sql = "COPY {table} ({columns}) FROM STDIN".format(
            table=quote(model._meta.db_table),
            columns=", ".join(quote(column) for column in columns),
        )
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        return
    sql = "INSERT INTO {table} ({columns}) VALUES ({params})".format(
        table=quote(model._meta.db_table),
        columns=", ".join(quote(column) for column in columns),
        params=", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


_UPDATED_FIELDS = {
    "name": ("name",),
    "phone": ("phone_cipher", "phone_hash", "phone_masked"),
    "org": ("org",),
    "joined_on": ("joined_on",),
    "status": ("status",),
}


def _update_members(rows: Sequence[PlannedRow], *, actor, note: str) -> None:
    stored = Member.objects.in_bulk([row.member_id for row in rows])
    registered_before = {m.pk: m.org_id for m in stored.values() if counts_as_registered(m)}
    now = timezone.now()
    fields = {"updated_at"}
    events = []
    for row in rows:
        member = stored[row.member_id]
        for name in row.changes:
            fields.update(_UPDATED_FIELDS[name])
        if "name" in row.changes:
            member.name = row.name
        if "phone" in row.changes:
            member.set_phone(row.phone)
        if "org" in row.changes:
            member.org_id = row.org_id
        if "joined_on" in row.changes:
            member.joined_on = row.joined_on
        if "status" in row.changes:
            member.status = MemberStatus.ACTIVE
        member.updated_at = now
        events.append(
            AuditEvent(
                action=AuditAction.ROSTER_UPDATED,
                actor=actor,
                member=member,
                org_id=row.org_id,
                changes={name: list(values) for name, values in row.changes.items()},
                note=note,
            )
        )
    Member.objects.bulk_update(stored.values(), sorted(fields))
    count_roster_changes(before=registered_before, members=stored.values(), day=local_day(now))
    AuditEvent.objects.bulk_create(events)


# ---------------------------------------------------------------------------------------------
# The refused rows: kept encrypted with the record, shown masked, downloaded in clear.


def refused_rows(record: RosterImport) -> list[dict]:
    """The refused rows of an import: {"line", "cells" (in clear), "reasons"}."""
    if not record.refused_cipher:
        return []
    return json.loads(crypto.decrypt(record.refused_cipher))


def masked_refused_rows(record: RosterImport, *, limit: int | None = None) -> list[dict]:
    """The refused rows as a page shows them: ID numbers and phones masked."""
    shown = []
    for refused in refused_rows(record)[:limit]:
        cells = dict(zip(COLUMNS, refused["cells"], strict=False))
        cells[ID_NUMBER] = mask_id_number(normalize_id_text(cells.get(ID_NUMBER, "")))
        cells[PHONE] = mask_mobile(_SPACES.sub("", cells.get(PHONE, "")))
        shown.append({"line": refused["line"], **cells, "reasons": refused["reasons"]})
    return shown


def refused_rows_xlsx(record: RosterImport) -> bytes:
    """The refused rows with their original cells and reasons, to correct and import again."""
    rows = [
        [str(refused["line"]), *refused["cells"], reasons_text(refused["reasons"])]
        for refused in refused_rows(record)
    ]
    sheet = OfficeSheet(
        title=_("会员名册导入被拒绝的行"),
        subtitle=_("%(file)s · 导入记录 #%(id)s · %(time)s")
        % {
            "file": record.filename,
            "id": record.pk,
            "time": timezone.localtime(record.created_at).strftime("%Y-%m-%d %H:%M"),
        },
        columns=[
            Column(str(_("行号")), 8),
            *(
                Column(HEADER_WORDS[column], 22 if column == ID_NUMBER else 14)
                for column in COLUMNS
            ),
            Column(str(_("拒绝原因")), 60),
        ],
        rows=rows,
        notes=[_("改正后可删去“行号”“拒绝原因”两列（也可保留），重新导入本表。")],
        sheet_name=str(_("拒绝的行")),
    )
    return office_xlsx(sheet)
