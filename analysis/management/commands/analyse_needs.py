"""Run the members'-needs analysis of a campaign now, in this process (no worker needed)."""

from django.core.management.base import BaseCommand, CommandError

from analysis.models import RunStatus
from analysis.services import AnalysisBusy, run_needs_now
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "对一次评议活动的全部工作建议分词并按需求分类规则归类（会员需求分析），在本进程中执行"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, required=True, help="评议活动的编号")

    def handle(self, *args, **options):
        try:
            campaign = Campaign.objects.select_related("org").get(pk=options["campaign"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"找不到编号为 {options['campaign']} 的评议活动") from exc
        try:
            run = run_needs_now(campaign=campaign)
        except AnalysisBusy as exc:
            raise CommandError(str(exc)) from exc
        if run.status != RunStatus.DONE:
            raise CommandError(f"分析失败：{run.error}")
        self.stdout.write(
            f"{campaign.name}：{run.result['suggestions']:,} 条建议，"
            f"用时 {run.result['seconds']} 秒"
        )
