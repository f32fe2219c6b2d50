"""Print the demo's admin logins (make run shows them before serving)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo.services import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("列出演示账号")

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help=_("演示站点地址"))

    def handle(self, *args, url, **options):
        out = self.stdout
        out.write("")
        out.write(
            _("演示站点：%(url)s    管理后台登录：%(login_url)s")
            % {"url": url, "login_url": f"{url}accounts/login/"}
        )
        out.write(_("演示账号（密码均为 %(password)s）：") % {"password": DEMO_PASSWORD})
        for login in demo_logins():
            note = _("（%(note)s）") % {"note": login.note} if login.note else ""
            out.write(f"  {login.username:<12} {login.role} · {login.org}{note}")
        out.write("")
