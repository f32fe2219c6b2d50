"""Print the demo's logins, admins and members (make run shows them before serving)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from accounts.models import RoleKind
from campaigns.models import Campaign
from demo.roster import DEMO_MEMBERS
from demo.services import CAMPAIGN_NAME, DEMO_PASSWORD, ROOT_CODE, demo_logins
from evaluations.rules import window_text


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
        # The demo's members are fictitious (demo/roster.py): their ID may be printed in clear.
        for member in DEMO_MEMBERS:
            if member.registered:
                out.write(
                    _(
                        "会员登录：%(url)s  手机号 %(phone)s（%(name)s · %(union)s，已实名注册）；"
                        "短信验证码显示在运行 make run 的终端里"
                    )
                    % {
                        "url": f"{url}m/login/",
                        "phone": member.phone,
                        "name": member.name,
                        "union": member.union,
                    }
                )
            else:
                out.write(
                    _(
                        "会员注册：%(url)s  姓名 %(name)s  身份证号 %(id_number)s  手机号 %(phone)s"
                        "（%(union)s 名册中有、尚未注册，可试实名注册）"
                    )
                    % {
                        "url": f"{url}m/register/",
                        "name": member.name,
                        "id_number": member.id_number,
                        "phone": member.phone,
                        "union": member.union,
                    }
                )
        out.write(_("演示会员的姓名、身份证号和手机号均为虚构。"))
        self._window(out)
        out.write("")

    def _window(self, out):
        """The demo campaign's window: closed since 2022, so the form needs it extended first."""
        campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
        if campaign is None:
            return
        if campaign.status() == "closed":
            admin = next(x for x in demo_logins() if x.role == RoleKind.FEDERATION_ADMIN.label)
            out.write(
                _(
                    "演示评议活动“%(name)s”的时间为%(window)s，已经结束；要试填评议表，"
                    "请以 %(admin)s（%(org)s）登录，在 评议活动 → %(name)s → 修改活动设置 "
                    "中把结束日期改到今天以后。"
                )
                % {
                    "name": campaign.name,
                    "window": window_text(campaign),
                    "admin": admin.username,
                    "org": admin.org,
                }
            )
        else:
            out.write(
                _("演示评议活动“%(name)s”的时间为%(window)s，会员现在可以评议。")
                % {"name": campaign.name, "window": window_text(campaign)}
            )
