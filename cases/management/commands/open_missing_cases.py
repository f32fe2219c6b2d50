"""Open the cases of negative evaluations stored without one (bulk loads, older data)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from cases.services import open_missing_cases


class Command(BaseCommand):
    @property
    def help(self):
        return _("为尚无差评处置的差评补建处置（按提交时间计算时限）")

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help=_("只处理该评议活动（编号）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只统计，不写入"))

    def handle(self, *args, **options):
        campaign = None
        if options.get("campaign"):
            campaign = Campaign.objects.filter(pk=options["campaign"]).first()
            if campaign is None:
                raise CommandError(
                    _("找不到编号为 %(id)s 的评议活动") % {"id": options["campaign"]}
                )
        if options["dry_run"]:
            from evaluations.models import Evaluation

            missing = Evaluation.objects.filter(is_negative=True, case__isnull=True)
            if campaign is not None:
                missing = missing.filter(campaign=campaign)
            self.stdout.write(_("待补建差评处置 %(count)d 件") % {"count": missing.count()})
            return
        opened = open_missing_cases(campaign=campaign)
        self.stdout.write(_("已补建差评处置 %(count)d 件") % {"count": opened})
