"""Print the demo's admin logins (make run shows them before serving)."""

from django.core.management.base import BaseCommand

from demo.services import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "列出演示账号"

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="演示站点地址")

    def handle(self, *args, url, **options):
        out = self.stdout
        out.write("")
        out.write(f"演示站点：{url}    管理后台登录：{url}accounts/login/")
        out.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for login in demo_logins():
            note = f"（{login.note}）" if login.note else ""
            out.write(f"  {login.username:<12} {login.role} · {login.org}{note}")
        out.write("")
