"""manage.py scan_integrity [--campaign ID]: run the integrity scan (异常评议核查) now."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from evaluations.integrity import ScanBusy, scan_now
from evaluations.models import ReviewRunStatus


class Command(BaseCommand):
    help = (
        "核查异常评议（集中提交、同一设备多账号、注册即评、秒填一致、建议雷同），"
        "结果在“异常核查”页查看。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="评议活动编号（默认：全部进行中的活动）")

    def handle(self, *args, campaign=None, **options):
        if campaign is not None:
            campaigns = list(Campaign.objects.filter(pk=campaign))
            if not campaigns:
                raise CommandError(f"没有编号为 {campaign} 的评议活动")
        else:
            campaigns = [c for c in Campaign.objects.order_by("pk") if c.status() == "open"]
            if not campaigns:
                self.stdout.write("没有进行中的评议活动；用 --campaign 指定要核查的活动")
                return
        failed = 0
        for item in campaigns:
            try:
                run = scan_now(campaign=item)
            except ScanBusy as busy:
                self.stdout.write(f"{item.name}（编号 {item.pk}）：{busy}")
                continue
            if run.status != ReviewRunStatus.DONE:
                failed += 1
                self.stdout.write(
                    self.style.ERROR(f"{item.name}（编号 {item.pk}）：核查失败：{run.error}")
                )
                continue
            stats = run.stats
            self.stdout.write(
                self.style.SUCCESS(
                    f"{item.name}（编号 {item.pk}）：检查 {stats['evaluations']} 条评议，"
                    f"{stats['flagged_unions']} 个工会有异常迹象，"
                    f"涉及 {stats['flagged_evaluations']} 条评议"
                )
            )
        if failed:
            raise CommandError(f"{failed} 个活动核查失败")
