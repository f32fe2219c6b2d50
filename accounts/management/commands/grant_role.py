"""Give an admin a role at an org (the account is created when new)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import RoleKind
from accounts.services import grant_role, revoke_role
from orgs.models import Org


class Command(BaseCommand):
    help = "为管理员在某个工会组织授予（或撤销）角色；账号不存在时新建"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", required=True, help="组织代码，例如 321081")
        parser.add_argument("--role", required=True, choices=RoleKind.values)
        parser.add_argument("--name", default="", help="显示姓名")
        parser.add_argument(
            "--password", help="不给出则在终端输入；新账号也可留空（之后由管理员重置）"
        )
        parser.add_argument("--revoke", action="store_true", help="撤销该角色")

    def handle(self, *args, username, org, role, name, password, revoke, **options):
        try:
            target = Org.objects.get(code=org)
        except Org.DoesNotExist as exc:
            raise CommandError(f"找不到组织代码为“{org}”的工会组织") from exc
        if revoke:
            if not revoke_role(username=username, org=target, kind=role):
                raise CommandError(f"{username} 在“{target.name}”没有该角色")
            self.stdout.write(f"已撤销 {username} 在“{target.name}”的{RoleKind(role).label}角色")
            return
        if password is None and sys.stdin.isatty():
            password = getpass.getpass("密码（留空则不设置）：") or None
        grant_role(username=username, org=target, kind=role, password=password, display_name=name)
        self.stdout.write(
            self.style.SUCCESS(f"{username} 现为“{target.name}”的{RoleKind(role).label}")
        )
