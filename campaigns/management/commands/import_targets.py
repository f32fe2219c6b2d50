"""Import a task table (任务分解表) from the command line: the console's import, scripted."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org
from campaigns.task_table import (
    RowOutcome,
    TaskTablePlan,
    TaskTableRefused,
    apply_task_table,
    plan_task_table,
    read_table,
)
from orgs.models import Org
from pingyi.imports import ImportCommand


class Command(ImportCommand):
    help_text = gettext_lazy(
        "导入任务分解表（.xlsx/.xls/.csv）：在上级组织下按名称新增或更新单位，"
        "写入年报工会会员人数和参评目标。有行被拒绝时不写入任何数据，除非加 --keep-valid。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("任务分解表文件"))
        parser.add_argument("--campaign", required=True, help=_("评议活动的编号或完整名称"))
        parser.add_argument("--parent", required=True, help=_("上级组织的组织代码，如 321081"))
        self.add_write_arguments(parser, user_help=_("记为导入人的用户名（须能管理该上级组织）"))

    def handle(self, *args, **options):
        path = self.existing_file(options["file"])
        parent = self.org_with_code(options["parent"])
        campaign = _campaign(options["campaign"], parent)
        user = self.importing_user(options["user"], parent)
        keep_valid = options["keep_valid"]

        table = self.read_file(read_table, path.read_bytes(), path.name)
        plan = plan_task_table(campaign=campaign, parent=parent, table=table, filename=path.name)
        self._print_plan(plan)
        if not self.may_write(plan, keep_valid=keep_valid, dry_run=options["dry_run"]):
            return
        try:
            record = apply_task_table(plan=plan, user=user, keep_valid=keep_valid)
        except TaskTableRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已导入（记录编号 %(id)s）：新增 %(created)s，"
                    "更新 %(updated)s，无变化 %(unchanged)s，"
                    "拒绝 %(refused)s。"
                )
                % {
                    "id": record.pk,
                    "created": record.rows_created,
                    "updated": record.rows_updated,
                    "unchanged": record.rows_unchanged,
                    "refused": record.rows_refused,
                }
            )
        )

    def _print_plan(self, plan: TaskTablePlan) -> None:
        self.stdout.write(
            _("任务分解表“%(file)s” → %(parent)s（%(campaign)s）")
            % {"file": plan.filename, "parent": plan.parent.name, "campaign": plan.campaign.name}
        )
        self.write_rows(plan.rows, refused=RowOutcome.REFUSED)
        if plan.rows:
            self.stdout.write(plan.summary())
            self.stdout.write(
                _("年报工会会员人数合计 %(reported)s 人") % {"reported": f"{plan.sum_reported:,}"}
                + (
                    _("，参评目标合计 %(target)s 人") % {"target": f"{plan.sum_target:,}"}
                    if plan.has_target
                    else ""
                )
            )
        self.write_findings(problems=plan.problems, warnings=plan.warnings, notes=plan.notes)


def _campaign(value: str, parent: Org) -> Campaign:
    found = list(Campaign.objects.filter(pk=int(value))) if value.isdigit() else []
    found = found or list(Campaign.objects.filter(name=value))
    if not found:
        raise CommandError(
            _("找不到评议活动“%(campaign)s”（可填编号或完整名称）。") % {"campaign": value}
        )
    if len(found) > 1:
        raise CommandError(
            _("有 %(count)s 个名为“%(campaign)s”的评议活动，请改用编号。")
            % {"count": len(found), "campaign": value}
        )
    campaign = found[0]
    if not campaigns_for_org(parent).filter(pk=campaign.pk).exists():
        raise CommandError(
            _("“%(parent)s”不参加评议活动“%(campaign)s”。")
            % {"parent": parent.name, "campaign": campaign.name}
        )
    return campaign
