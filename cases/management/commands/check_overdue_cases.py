"""Find overdue cases, escalate them to the parent org and notify its admins (cron or by hand)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.services import check_overdue_cases


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str
        return _("检查差评处置是否逾期：逾期的升级至上级工会并提醒其管理员（可重复运行）")

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help=_("按此时间检查（ISO 格式，如 2022-10-10T09:00，北京时间），默认现在"),
        )

    def handle(self, *args, **options):
        now = None
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(
                    _("--now 的时间格式不对：%(value)s") % {"value": options["now"]}
                ) from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        report = check_overdue_cases(now=now)
        self.stdout.write(
            _("核实逾期 %(verify)d 件，整改答复逾期 %(rectify)d 件，新升级 %(escalated)d 件")
            % {"verify": report.verify, "rectify": report.rectify, "escalated": report.escalated}
        )
