"""manage.py recount_registrations [--fix]: compare the registration counters with a recount."""

from django.core.management.base import BaseCommand, CommandError

from members import counters
from orgs.models import Org


class Command(BaseCommand):
    help = (
        "从会员名册重新统计已注册人数，报告与注册计数器不一致的组织；加 --fix 以重新统计为准"
        "（重建后，转会会员按现所在工会、注册当日计入）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="以重新统计的结果替换注册计数器")

    def handle(self, *args, fix=False, **options):
        drifts = counters.recount_registrations()
        if not drifts:
            self.stdout.write("注册计数一致")
            return
        ids = {d.org_id for d in drifts}
        names = dict(Org.objects.filter(pk__in=ids).values_list("pk", "name"))
        self.stdout.write(f"注册计数：{len(drifts)} 个组织不一致")
        for d in drifts[:50]:
            self.stdout.write(
                f"  {names.get(d.org_id, d.org_id)}：计数器 {d.stored}，实际 {d.counted}"
            )
        if len(drifts) > 50:
            self.stdout.write(f"  ……另有 {len(drifts) - 50} 个")
        if fix:
            rows = counters.rebuild_registration_counts()
            self.stdout.write(self.style.SUCCESS(f"已按实际重新统计（{rows} 行）"))
            return
        raise CommandError(f"共 {len(drifts)} 个组织不一致；加 --fix 以实际统计为准")
