"""Import a roster (会员名册) from the command line: the console's import, scripted."""

import time
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from pingyi.imports import ImportCommand
from pingyi.spreadsheets import SpreadsheetError

# Rows the command lists one by one; a larger file is summed up (its refusals always listed).
LISTED_ROWS = 200


class Command(ImportCommand):
    help_text = gettext_lazy(
        "导入会员名册（.xlsx/.xls/.csv）到某组织及其下级基层工会：按身份证号码新增或覆盖更新会员。"
        "有行被拒绝时不写入任何数据，除非加 --keep-valid。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("会员名册文件"))
        parser.add_argument("--parent", required=True, help=_("导入范围的组织代码，如 321081"))
        self.add_write_arguments(parser, user_help=_("记为导入人的用户名（须能管理该组织）"))

    def handle(self, *args, **options):
        path = self.existing_file(options["file"])
        parent = self.org_with_code(options["parent"])
        user = self.importing_user(options["user"], parent)
        keep_valid = options["keep_valid"]
        data = path.read_bytes()
        table = self.read_file(read_roster, data, path.name)
        plan = plan_roster(parent=parent, table=table, filename=path.name, user=user)
        self._print_plan(plan)
        if not self.may_write(plan, keep_valid=keep_valid, dry_run=options["dry_run"]):
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
        self.write_rows(listed, refused=RowOutcome.REFUSED)
        if plan.rows:
            self.stdout.write(plan.summary())
        if plan.changed_fields:
            self.stdout.write(
                _("将被覆盖的信息：%(changes)s") % {"changes": plan.changed_fields_text}
            )
        self.write_findings(problems=plan.problems, notes=plan.notes)
