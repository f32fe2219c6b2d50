"""Load the Yizheng 2022 demo (仪征市总工会, the 85 units of 附件1, the 2022 campaign, rosters)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from demo.services import (
    CAMPAIGN_NAME,
    ROOT_CODE,
    add_demo_roster,
    add_evaluations_to_demo,
    add_traces_to_demo,
    demo_evaluations_missing,
    demo_exists,
    demo_roster_missing,
    demo_traces_missing,
    load_demo,
)
from evaluations.models import Evaluation
from members.counters import rebuild_registration_counts, registration_counts_missing
from members.models import Member
from orgs.selectors import within
from reports.bulletins import build_weekly_series


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
        if demo_traces_missing():
            written = add_traces_to_demo()
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据补充提交痕迹：%(count)d 条") % {"count": written})
            )
            completed = True
        if registration_counts_missing():
            rows = rebuild_registration_counts()
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据补充注册计数：%(count)d 行") % {"count": rows})
            )
            completed = True
        if demo_exists() and (built := _add_demo_bulletins()):
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据生成每周通报：%(count)d 期") % {"count": built})
            )
            completed = True
        if demo_exists() and (opened := _add_demo_cases()):
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据补充差评处置：%(count)d 件") % {"count": opened})
            )
            completed = True
        if demo_exists() and (analysed := _analyse_demo_needs()):
            self.stdout.write(
                self.style.SUCCESS(_("已为演示数据分析建议：%(count)d 条") % {"count": analysed})
            )
            completed = True
        if demo_exists() and (flagged := _scan_demo_integrity()):
            self.stdout.write(
                self.style.SUCCESS(
                    _("已核查演示数据的异常评议：%(count)d 个工会有异常迹象") % {"count": flagged}
                )
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
        opened = _add_demo_cases()
        self.stdout.write(self.style.SUCCESS(_("已生成差评处置：%(count)d 件") % {"count": opened}))
        built = _add_demo_bulletins()
        self.stdout.write(self.style.SUCCESS(_("已生成每周通报：%(count)d 期") % {"count": built}))
        analysed = _analyse_demo_needs()
        self.stdout.write(
            self.style.SUCCESS(_("已分析会员建议：%(count)d 条") % {"count": analysed})
        )
        flagged = _scan_demo_integrity()
        self.stdout.write(
            self.style.SUCCESS(_("已核查异常评议：%(count)d 个工会有异常迹象") % {"count": flagged})
        )


def _add_demo_bulletins() -> int:
    """The demo's weekly bulletins (each Monday of the 2022 window), unless it has some."""
    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    if campaign is None or campaign.bulletins.exists():
        return 0
    return len(build_weekly_series(campaign=campaign))


def _add_demo_cases() -> int:
    """The demo campaign's 差评处置, when it has none yet (demo/cases.py)."""
    from demo.cases import add_demo_cases

    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    return add_demo_cases(campaign=campaign) if campaign is not None else 0


def _analyse_demo_needs() -> int:
    """The needs analysis of the demo's suggestions, so that 会员需求 opens on its results
    rather than on a progress bar; 0 when one has already run."""
    from analysis.services import latest_run, run_needs_now

    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    if campaign is None or latest_run(campaign) is not None:
        return 0
    return run_needs_now(campaign=campaign).result.get("suggestions", 0)


def _scan_demo_integrity() -> int:
    """The integrity scan of the demo campaign, so that 异常核查 opens on its findings; 0 when
    one has already run. Returns the unions flagged."""
    from evaluations.integrity import latest_run, scan_now

    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    if campaign is None or latest_run(campaign) is not None:
        return 0
    return scan_now(campaign=campaign).stats.get("flagged_unions", 0)
