"""What the imports' plans (the task table's, the roster's) share: how they word their findings.

Both imports plan every row before writing and refuse a file the same way, so an admin who has
used one reads the other's preview, command output and refusals without learning anew.
"""

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

Row = TypeVar("Row")


def list_text(items: Iterable[str]) -> str:
    """Items of a message joined as a list: 第 3 行、第 9 行."""
    return pgettext("list separator", "、").join(items)


def reasons_text(reasons: Iterable[str]) -> str:
    """Reasons, changes or problems of a message joined: 名称为空；年报工会会员人数为空."""
    return pgettext("list separator", "；").join(reasons)


def row_message(*, label: str, outcome: str, detail: str) -> str:
    """A planned row in one line, as the commands print it: 第 7 行（…）：更新 序号 2 → 4."""
    detail = f" {detail}" if detail else ""
    return _("%(row)s：%(outcome)s%(detail)s") % {
        "row": label,
        "outcome": outcome,
        "detail": detail,
    }


def repeated(rows: Iterable[Row], key: Callable[[Row], str]) -> list[list[Row]]:
    """The groups of rows that share a key (a name, an ID number's hash), blank keys left out.

    Such rows are all refused by the importer: which of them is right is the admin's call.
    """
    by_key: dict[str, list[Row]] = {}
    for row in rows:
        value = key(row)
        if value:
            by_key.setdefault(value, []).append(row)
    return [group for group in by_key.values() if len(group) > 1]


def can_apply(*, problems: list[str], valid: int, refused: int, keep_valid: bool) -> bool:
    """Whether a plan may be written: no problem with the file, some valid rows, and either no
    refused row or the admin's leave to import the valid ones only."""
    if problems or not valid:
        return False
    return keep_valid or not refused


def refusal_message(
    *,
    problems: list[str],
    total: int,
    valid: int,
    refused: int,
    keep_valid_hint: str | None = None,
) -> str:
    """Why a plan that can_apply refuses is not written; keep_valid_hint says how to keep the
    valid rows where the plan is refused for some rows only (the command names its option)."""
    if problems:
        return _("%(problems)s。未写入任何数据。") % {"problems": reasons_text(problems)}
    if not valid:
        return _("全部 %(count)s 行都被拒绝，未写入任何数据。") % {"count": total}
    if keep_valid_hint is None:
        keep_valid_hint = _("勾选“只导入有效行”")
    return _("有 %(count)s 行被拒绝，未写入任何数据。请改正后重新导入，或%(hint)s。") % {
        "count": refused,
        "hint": keep_valid_hint,
    }
