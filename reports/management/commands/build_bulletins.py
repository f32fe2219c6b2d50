"""Build the weekly bulletins from the command line (cron, a manual run, a back-fill)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from orgs.models import Org
from pingyi.formatting import cn_date
from reports.bulletins import build_bulletins_at, cutoff_for_day, until_of, weekly_cutoff


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _(
            "生成每周通报：默认为最近一次每周截止时间（周一0时，即周日24时）、"
            "时间窗口与该周重叠的每个评议活动的组织单位各一期；已发布的不会重复生成。"
        )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help=_("只生成该评议活动（编号）的通报"))
        parser.add_argument(
            "--org", help=_("通报单位的组织代码（排名其直属下级）；默认评议活动的组织单位")
        )
        when = parser.add_mutually_exclusive_group()
        when.add_argument(
            "--cutoff",
            type=date.fromisoformat,
            help=_("统计截止日期 YYYY-MM-DD：统计到其前一日24时，如 2022-11-07 统计到11月6日"),
        )
        when.add_argument(
            "--now", action="store_true", help=_("统计到昨日24时（不按每周截止时间）")
        )

    def handle(self, *args, **options):
        if options["cutoff"]:
            cutoff = cutoff_for_day(options["cutoff"])
        elif options["now"]:
            cutoff = cutoff_for_day(timezone.localdate())
        else:
            cutoff = weekly_cutoff()
        org = None
        if options["org"]:
            org = Org.objects.filter(code=options["org"]).first()
            if org is None:
                raise CommandError(_("找不到组织代码为 %(code)s 的组织") % {"code": options["org"]})
        campaigns = None
        if options["campaign"]:
            campaign = Campaign.objects.select_related("org").filter(pk=options["campaign"]).first()
            if campaign is None:
                raise CommandError(
                    _("找不到编号为 %(id)s 的评议活动") % {"id": options["campaign"]}
                )
            campaigns = [campaign]
        until = cn_date(until_of(cutoff))
        outcomes = build_bulletins_at(cutoff=cutoff, campaigns=campaigns, org=org)
        if not outcomes:
            self.stdout.write(
                _("统计截至%(until)s24时：没有时间窗口与该周重叠的评议活动，未生成通报。")
                % {"until": until}
            )
        failed = 0
        for outcome in outcomes:
            where = f"{outcome.org.name} · {outcome.campaign.name}"
            if outcome.error:
                failed += 1
                self.stderr.write(
                    _("未生成：%(where)s（统计截至%(until)s24时）：%(error)s")
                    % {"where": where, "until": until, "error": outcome.error}
                )
                continue
            bulletin = outcome.bulletin
            values = {
                "where": where,
                "number": bulletin.number,
                "until": until,
                "headline": bulletin.data["headline"],
                "id": bulletin.pk,
            }
            if outcome.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("已生成：%(where)s 第%(number)s期（#%(id)s，统计截至%(until)s24时）")
                        % values
                    )
                )
                self.stdout.write(f"  {values['headline']}")
            else:
                self.stdout.write(
                    _(
                        "已存在：%(where)s 第%(number)s期"
                        "（#%(id)s，统计截至%(until)s24时），未重复生成"
                    )
                    % values
                )
        if failed:
            raise CommandError(_("%(count)s 期通报生成失败") % {"count": failed})
