"""Publish a campaign's assessment (考核评分) from the command line: the result is frozen."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from reports.assessment import AssessmentRefused, publish_assessment


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _(
            "发布评议活动的考核评分：按已保存的评分方案（没有则按默认方案）计算各单位得分和排名，"
            "冻结保存；发布后不能再修改。--dry-run 只计算并打印，不保存。"
        )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, required=True, help=_("评议活动编号"))
        parser.add_argument("--dry-run", action="store_true", help=_("只计算并打印，不发布"))

    def handle(self, *args, **options):
        campaign = Campaign.objects.select_related("org").filter(pk=options["campaign"]).first()
        if campaign is None:
            raise CommandError(_("找不到编号为 %(id)s 的评议活动") % {"id": options["campaign"]})
        try:
            publication = publish_assessment(campaign=campaign, dry_run=options["dry_run"])
        except AssessmentRefused as exc:
            raise CommandError(str(exc)) from exc
        result = publication.result
        self.stdout.write(f"{result['title']}（{_('截至')}{result['until_text']}）")
        for row in result["rows"]:
            self.stdout.write(
                "  {rank:>3}  {total:>7}  {name}（{kind}）".format(
                    rank=row["rank"] or "—",
                    total=row["total"] or "—",
                    name=row["name"],
                    kind=row["kind_label"],
                )
            )
        if options["dry_run"]:
            self.stdout.write(_("试算（--dry-run）：未发布，没有保存任何数据。"))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("已发布：%(units)s 个单位的考核结果已冻结（%(when)s）。")
                    % {"units": len(result["rows"]), "when": result["published_at_text"]}
                )
            )
