"""Give an admin a role at an org (the account is created when new)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import RoleKind
from accounts.services import grant_role, revoke_role
from orgs.models import Org


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("为管理员在某个工会组织授予（或撤销）角色；账号不存在时新建")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", required=True, help=_("组织代码，例如 321081"))
        parser.add_argument("--role", required=True, choices=RoleKind.values)
        parser.add_argument("--name", default="", help=_("显示姓名"))
        parser.add_argument(
            "--password", help=_("不给出则在终端输入；新账号也可留空（之后由管理员重置）")
        )
        parser.add_argument("--revoke", action="store_true", help=_("撤销该角色"))

    def handle(self, *args, username, org, role, name, password, revoke, **options):
        try:
            target = Org.objects.get(code=org)
        except Org.DoesNotExist as exc:
            raise CommandError(_("找不到组织代码为“%(code)s”的工会组织") % {"code": org}) from exc
        values = {"username": username, "org": target.name, "role": RoleKind(role).label}
        if revoke:
            if not revoke_role(username=username, org=target, kind=role):
                raise CommandError(_("%(username)s 在“%(org)s”没有该角色") % values)
            self.stdout.write(_("已撤销 %(username)s 在“%(org)s”的%(role)s角色") % values)
            return
        if password is None and sys.stdin.isatty():
            password = getpass.getpass(_("密码（留空则不设置）：")) or None
        grant_role(username=username, org=target, kind=role, password=password, display_name=name)
        self.stdout.write(self.style.SUCCESS(_("%(username)s 现为“%(org)s”的%(role)s") % values))
