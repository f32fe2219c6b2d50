"""Import a task table (任务分解表) from the command line: the console's import, scripted."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org
from campaigns.task_table import (
    RowOutcome,
    TaskTableError,
    TaskTablePlan,
    TaskTableRefused,
    apply_task_table,
    plan_task_table,
    read_table,
)
from orgs.models import Org
from orgs.scoping import can_manage


class Command(BaseCommand):
    help = (
        "导入任务分解表（.xlsx/.xls/.csv）：在上级组织下按名称新增或更新单位，"
        "写入年报工会会员人数和参评目标。有行被拒绝时不写入任何数据，除非加 --keep-valid。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="任务分解表文件")
        parser.add_argument("--campaign", required=True, help="评议活动的编号或完整名称")
        parser.add_argument("--parent", required=True, help="上级组织的组织代码，如 321081")
        parser.add_argument("--dry-run", action="store_true", help="只预览每一行的结果，不写入")
        parser.add_argument(
            "--keep-valid", action="store_true", help="有行被拒绝时仍导入其余有效的行"
        )
        parser.add_argument("--user", help="记为导入人的用户名（须能管理该上级组织）")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        parent = Org.objects.filter(code=options["parent"]).first()
        if parent is None:
            raise CommandError(f"找不到组织代码为“{options['parent']}”的工会组织。")
        campaign = _campaign(options["campaign"], parent)
        user = _user(options["user"], parent) if options["user"] else None
        keep_valid = options["keep_valid"]

        try:
            table = read_table(path.read_bytes(), path.name)
        except TaskTableError as exc:
            raise CommandError(str(exc)) from exc
        plan = plan_task_table(campaign=campaign, parent=parent, table=table, filename=path.name)
        self._print_plan(plan)
        if not plan.can_apply(keep_valid=keep_valid):
            raise CommandError(plan.refusal_message(keep_valid_hint="加 --keep-valid 只导入有效行"))
        if options["dry_run"]:
            self.stdout.write("试运行（--dry-run）：未写入任何数据。")
            return
        try:
            record = apply_task_table(plan=plan, user=user, keep_valid=keep_valid)
        except TaskTableRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入（记录编号 {record.pk}）：新增 {record.rows_created}，"
                f"更新 {record.rows_updated}，无变化 {record.rows_unchanged}，"
                f"拒绝 {record.rows_refused}。"
            )
        )

    def _print_plan(self, plan: TaskTablePlan) -> None:
        self.stdout.write(
            f"任务分解表“{plan.filename}” → {plan.parent.name}（{plan.campaign.name}）"
        )
        for row in plan.rows:
            refused = row.outcome == RowOutcome.REFUSED
            self.stdout.write(self.style.ERROR(row.message) if refused else row.message)
        if plan.rows:
            self.stdout.write(plan.summary())
            self.stdout.write(
                f"年报工会会员人数合计 {plan.sum_reported:,} 人"
                + (f"，参评目标合计 {plan.sum_target:,} 人" if plan.has_target else "")
            )
        for problem in plan.problems:
            self.stdout.write(self.style.ERROR(f"✗ {problem}"))
        for warning in plan.warnings:
            self.stdout.write(self.style.WARNING(f"⚠ {warning}"))
        for note in plan.notes:
            self.stdout.write(f"· {note}")


def _campaign(value: str, parent: Org) -> Campaign:
    found = list(Campaign.objects.filter(pk=int(value))) if value.isdigit() else []
    found = found or list(Campaign.objects.filter(name=value))
    if not found:
        raise CommandError(f"找不到评议活动“{value}”（可填编号或完整名称）。")
    if len(found) > 1:
        raise CommandError(f"有 {len(found)} 个名为“{value}”的评议活动，请改用编号。")
    campaign = found[0]
    if not campaigns_for_org(parent).filter(pk=campaign.pk).exists():
        raise CommandError(f"“{parent.name}”不参加评议活动“{campaign.name}”。")
    return campaign


def _user(username: str, parent: Org):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"找不到用户“{username}”。")
    if not can_manage(user, parent):
        raise CommandError(f"用户“{username}”不能管理“{parent.name}”，不能以其名义导入。")
    return user
