"""Recompute the stored rollups of members and targets, and report any that had drifted."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.rollups import rebuild_rollups, recount


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("重新汇总各组织的年报会员人数与参评目标，并报告与已存汇总不一致之处")

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help=_("活动 ID 或名称；不给则全部活动"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不改写"))

    def handle(self, *args, campaign, dry_run, **options):
        campaigns = Campaign.objects.select_related("org")
        if campaign:
            campaigns = (
                campaigns.filter(pk=int(campaign))
                if campaign.isdigit()
                else campaigns.filter(name=campaign)
            )
            if not campaigns.exists():
                raise CommandError(_("找不到评议活动“%(campaign)s”") % {"campaign": campaign})
        for item in campaigns:
            figures, drifted = recount(campaign=item)
            line = _("%(campaign)s：%(count)s 个组织有汇总，%(drifted)s 个与已存汇总不一致") % {
                "campaign": item.name,
                "count": sum(not f.is_empty for f in figures.values()),
                "drifted": len(drifted),
            }
            if drifted and not dry_run:
                rebuild_rollups(campaign=item, figures=figures)
                line += _("，已重新汇总")
            self.stdout.write(line)
