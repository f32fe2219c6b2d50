"""Import a roster (会员名册) from the command line: the console's import, scripted."""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from members.roster_import import (
    RosterImportRefused,
    RosterPlan,
    RowOutcome,
    file_sha256,
    plan_roster,
    read_roster,
    run_roster_import,
    start_roster_import,
)
from orgs.models import Org
from orgs.scoping import can_manage
from pingyi.spreadsheets import SpreadsheetError

# Rows the command lists one by one; a larger file is summed up (its refusals always listed).
LISTED_ROWS = 200


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _(
            "导入会员名册（.xlsx/.xls/.csv）到某组织及其下级基层工会：按身份证号码新增或覆盖更新会员。"
            "有行被拒绝时不写入任何数据，除非加 --keep-valid。"
        )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("会员名册文件"))
        parser.add_argument("--parent", required=True, help=_("导入范围的组织代码，如 321081"))
        parser.add_argument("--dry-run", action="store_true", help=_("只预览每一行的结果，不写入"))
        parser.add_argument(
            "--keep-valid", action="store_true", help=_("有行被拒绝时仍导入其余有效的行")
        )
        parser.add_argument("--user", help=_("记为导入人的用户名（须能管理该组织）"))

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        parent = Org.objects.filter(code=options["parent"]).first()
        if parent is None:
            raise CommandError(
                _("找不到组织代码为“%(code)s”的工会组织。") % {"code": options["parent"]}
            )
        user = _user(options["user"], parent) if options["user"] else None
        keep_valid = options["keep_valid"]
        data = path.read_bytes()
        try:
            table = read_roster(data, path.name)
        except SpreadsheetError as exc:
            raise CommandError(str(exc)) from exc
        plan = plan_roster(parent=parent, table=table, filename=path.name, user=user)
        self._print_plan(plan)
        if not plan.can_apply(keep_valid=keep_valid):
            raise CommandError(
                plan.refusal_message(keep_valid_hint=_("加 --keep-valid 只导入有效行"))
            )
        if options["dry_run"]:
            self.stdout.write(_("试运行（--dry-run）：未写入任何数据。"))
            return
        record = start_roster_import(
            parent=parent,
            filename=path.name,
            sha256=file_sha256(data),
            keep_valid=keep_valid,
            user=user,
            rows_total=len(plan.rows),
        )
        try:
            run_roster_import(record=record, data=data, progress=self._progress())
        except (SpreadsheetError, RosterImportRefused) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已导入（记录编号 %(id)s）：新增 %(created)s，覆盖更新 %(updated)s，"
                    "无变化 %(unchanged)s，拒绝 %(refused)s。"
                )
                % {
                    "id": record.pk,
                    "created": record.created_count,
                    "updated": record.updated_count,
                    "unchanged": record.unchanged_count,
                    "refused": record.refused_count,
                }
            )
        )

    def _progress(self):
        """Print a progress line at most every two seconds, and the last one."""
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if done and (done == total or now - last[0] >= 2):
                last[0] = now
                self.stdout.write(
                    _("已处理 %(done)s / %(total)s 行（%(percent)s%%）")
                    % {
                        "done": f"{done:,}",
                        "total": f"{total:,}",
                        "percent": done * 100 // total if total else 100,
                    }
                )

        return report

    def _print_plan(self, plan: RosterPlan) -> None:
        self.stdout.write(
            _("会员名册“%(file)s” → %(parent)s")
            % {"file": plan.filename, "parent": plan.parent.name}
        )
        listed = plan.rows if len(plan.rows) <= LISTED_ROWS else plan.refused
        for row in listed:
            refused = row.outcome == RowOutcome.REFUSED
            self.stdout.write(self.style.ERROR(row.message) if refused else row.message)
        if plan.rows:
            self.stdout.write(plan.summary())
        if plan.changed_fields:
            self.stdout.write(
                _("将被覆盖的信息：%(changes)s") % {"changes": plan.changed_fields_text}
            )
        for problem in plan.problems:
            self.stdout.write(self.style.ERROR(f"✗ {problem}"))
        for note in plan.notes:
            self.stdout.write(f"· {note}")


def _user(username: str, parent: Org):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(_("找不到用户“%(username)s”。") % {"username": username})
    if not can_manage(user, parent):
        raise CommandError(
            _("用户“%(username)s”不能管理“%(parent)s”，不能以其名义导入。")
            % {"username": username, "parent": parent.name}
        )
    return user
