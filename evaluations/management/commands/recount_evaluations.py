"""manage.py recount_evaluations [--campaign ID] [--fix]: compare the counters with a recount.

Both counters of a campaign: evaluations submitted per org and day (DailyCount) and evaluations
excluded after integrity review per org and day of submission (ExclusionCount).
"""

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from evaluations import counters, exclusions
from orgs.models import Org


class Command(BaseCommand):
    help = (
        "从评议记录重新计数，报告与每日计数器（评议数、剔除数）不一致之处；"
        "加 --fix 以重新计数为准。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="评议活动编号（默认全部）")
        parser.add_argument("--fix", action="store_true", help="以重新计数的结果替换计数器")

    def handle(self, *args, campaign=None, fix=False, **options):
        campaigns = Campaign.objects.select_related("org").order_by("pk")
        if campaign is not None:
            campaigns = campaigns.filter(pk=campaign)
            if not campaigns:
                raise CommandError(f"没有编号为 {campaign} 的评议活动")
        differences = 0
        for item in campaigns:
            checks = [
                ("评议数", counters.recount, counters.rebuild_counts),
                ("剔除数", exclusions.recount_exclusions, exclusions.rebuild_exclusion_counts),
            ]
            for label, recount, rebuild in checks:
                drifts = recount(item)
                differences += len(drifts)
                if not drifts:
                    self.stdout.write(f"{item.name}（编号 {item.pk}）{label}：计数一致")
                    continue
                self._report(item, label, drifts)
                if fix:
                    rows = rebuild(item)
                    self.stdout.write(self.style.SUCCESS(f"  已按实际重新计数（{rows} 行）"))
        if differences and not fix:
            raise CommandError(f"共 {differences} 处不一致；加 --fix 以实际计数为准")

    def _report(self, item, label, drifts) -> None:
        names = dict(
            Org.objects.filter(pk__in={d.org_id for d in drifts}).values_list("pk", "name")
        )
        self.stdout.write(f"{item.name}（编号 {item.pk}）{label}：{len(drifts)} 处不一致")
        for d in drifts[:50]:
            self.stdout.write(
                f"  {names.get(d.org_id, d.org_id)} {d.day:%Y-%m-%d}："
                f"计数器 {d.stored}，实际 {d.counted}"
            )
        if len(drifts) > 50:
            self.stdout.write(f"  ……另有 {len(drifts) - 50} 处")
