"""Load the Yizheng 2022 demo (仪征市总工会, the 85 units of 附件1, the 2022 campaign)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo.services import demo_exists, load_demo


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("载入仪征市2022年会员网上评议演示数据（已存在则跳过）")

    def handle(self, *args, **options):
        if demo_exists():
            self.stdout.write(_("演示数据已存在，跳过载入。"))
            return
        campaign = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                _("已载入演示数据：%(org)s · %(campaign)s")
                % {"org": campaign.org.name, "campaign": campaign.name}
            )
        )
