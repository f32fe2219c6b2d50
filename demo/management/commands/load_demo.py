"""Load the Yizheng 2022 demo (仪征市总工会, the 85 units of 附件1, the 2022 campaign, rosters)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo.services import (
    add_demo_roster,
    add_evaluations_to_demo,
    demo_evaluations_missing,
    demo_exists,
    demo_roster_missing,
    load_demo,
)
from evaluations.models import Evaluation
from members.models import Member
from orgs.selectors import within


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("载入仪征市2022年会员网上评议演示数据（已存在则跳过）")

    def handle(self, *args, **options):
        # A var/ database from an older release gains what the demo has since acquired.
        completed = False
        if demo_roster_missing():
            created = add_demo_roster()
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据补充会员名册：%(count)d 人") % {"count": created})
            )
            completed = True
        if demo_evaluations_missing():
            added = add_evaluations_to_demo()
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据补充评议：%(count)d 条") % {"count": added})
            )
            completed = True
        if completed:
            return
        if demo_exists():
            self.stdout.write(_("演示数据已存在，跳过载入。"))
            return
        campaign = load_demo()
        roster = Member.objects.filter(within(campaign.org, "org__path"))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已载入演示数据：%(org)s · %(campaign)s"
                    "（会员 %(members)d 人，已实名注册 %(registered)d 人，已评议 %(evaluated)d 人）"
                )
                % {
                    "org": campaign.org.name,
                    "campaign": campaign.name,
                    "members": roster.count(),
                    "registered": roster.filter(user__isnull=False).count(),
                    "evaluated": Evaluation.objects.filter(campaign=campaign).count(),
                }
            )
        )
