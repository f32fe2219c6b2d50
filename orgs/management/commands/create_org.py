"""Create an org: a root federation (no --parent) or a unit under a parent."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orgs.models import Org, OrgKind
from orgs.selectors import children_of
from orgs.services import create_child_org, create_root_org, normalize_org_name


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a str: a lazy string would break --help
        return _("新建工会组织：不给 --parent 时新建顶层总工会，否则在上级组织下新建")

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help=_("名称，例如 仪征市总工会"))
        parser.add_argument(
            "--code",
            help=_("组织代码；顶层必填（例如行政区划代码 321081），下级不填则自动编号"),
        )
        parser.add_argument("--parent", help=_("上级组织代码"))
        parser.add_argument(
            "--kind",
            choices=OrgKind.values,
            help=_("组织类型；不填则顶层为市总工会，下级按名称推断"),
        )
        parser.add_argument("--seq", type=int, default=0, help=_("序号"))

    def handle(self, *args, name, code, parent, kind, seq, **options):
        name = normalize_org_name(name)
        if not name:
            raise CommandError(_("名称不能为空"))
        if code and Org.objects.filter(code=code).exists():
            raise CommandError(_("组织代码“%(code)s”已被使用") % {"code": code})
        if parent is None:
            if not code:
                raise CommandError(_("新建顶层组织须给出 --code"))
            org = create_root_org(name=name, code=code, kind=kind or OrgKind.FEDERATION)
        else:
            try:
                parent_org = Org.objects.get(code=parent)
            except Org.DoesNotExist as exc:
                raise CommandError(
                    _("找不到组织代码为“%(code)s”的上级组织") % {"code": parent}
                ) from exc
            if children_of(parent_org).filter(name=name).exists():
                raise CommandError(
                    _("“%(parent)s”下已有名为“%(name)s”的组织")
                    % {"parent": parent_org.name, "name": name}
                )
            org = create_child_org(parent=parent_org, name=name, kind=kind, code=code, seq=seq)
        self.stdout.write(
            self.style.SUCCESS(
                _("已新建“%(name)s”（%(kind)s，代码 %(code)s）")
                % {"name": org.name, "kind": org.get_kind_display(), "code": org.code}
            )
        )
