"""manage.py purge_traces [--campaign ID --now]: delete network addresses and device hints whose
campaign's retention has ended (the daily beat job does the same)."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from evaluations.retention import purge_campaign_traces, purge_expired_traces


class Command(BaseCommand):
    help = (
        "删除保留期已满的提交痕迹（网络地址、设备标识）；加 --campaign 与 --now 立即删除某活动的。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="评议活动编号")
        parser.add_argument(
            "--now", action="store_true", help="不等保留期满，立即删除该活动的提交痕迹"
        )

    def handle(self, *args, campaign=None, now=False, **options):
        if now:
            if campaign is None:
                raise CommandError("--now 须与 --campaign 一起使用")
            item = Campaign.objects.filter(pk=campaign).first()
            if item is None:
                raise CommandError(f"没有编号为 {campaign} 的评议活动")
            rows = purge_campaign_traces(item)
            self.stdout.write(self.style.SUCCESS(f"{item.name}：已删除 {rows} 条提交痕迹"))
            return
        done = purge_expired_traces()
        if not done:
            self.stdout.write("没有到期的提交痕迹")
            return
        names = dict(Campaign.objects.filter(pk__in=done).values_list("pk", "name"))
        for campaign_id, rows in done.items():
            self.stdout.write(
                self.style.SUCCESS(f"{names[campaign_id]}：已删除 {rows} 条提交痕迹（保留期已满）")
            )
