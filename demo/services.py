"""The Yizheng 2022 demo: the seed's 85 units, their task table, grassroots unions, rosters,
member accounts and admins.

Loaded through the same services an admin uses (the task-table import included), so the
demo shows exactly what a real import produces, the 合计 warning too.
"""

import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind, User
from campaigns.models import Campaign
from campaigns.rollups import rebuild_rollups
from campaigns.services import create_campaign
from campaigns.task_table import apply_task_table, plan_task_table, read_table
from evaluations.counters import rebuild_counts
from members.counters import rebuild_registration_counts
from orgs.models import Org, OrgKind
from orgs.selectors import children_of, within
from orgs.services import create_child_org, create_root_org, set_reported_members

from .evaluations import add_demo_evaluations
from .roster import demo_roster_exists, load_demo_roster, split_total
from .traces import add_demo_fabrication, add_demo_traces

DATA_DIR = Path(__file__).resolve().parent / "data"
TASK_TABLE = DATA_DIR / "yizheng_2022_task_table.csv"
ROOT_CODE = "321081"  # 仪征市's administrative division code
ROOT_NAME = "仪征市总工会"
CAMPAIGN_NAME = "2022年会员网上评议"
DEMO_PASSWORD = "pingyi-demo-2022"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    org: str
    note: str = ""


# Grassroots unions a unit of each kind typically has, by the words of their names.
_GRASSROOTS_BY_KIND = {
    OrgKind.TOWN: [
        "中心小学",
        "卫生院",
        "农业农村服务中心",
        "机械有限公司",
        "纺织有限公司",
        "建材有限公司",
    ],
    OrgKind.PARK: [
        "管委会机关",
        "精密制造有限公司",
        "新材料有限公司",
        "物流有限公司",
        "电子科技有限公司",
    ],
    OrgKind.AGENCY: ["机关", "直属事业单位联合"],
    OrgKind.SECTOR: ["第一联合", "第二联合", "第三联合"],
    OrgKind.DIRECT: ["本部", "第一分", "第二分"],
    OrgKind.ENTERPRISE: ["本部", "第一分"],
}


def _grassroots_names(unit: Org, rng: random.Random) -> list[str]:
    words = _GRASSROOTS_BY_KIND.get(unit.kind, ["本部"])
    prefix = unit.name.removesuffix("镇") if unit.kind == OrgKind.TOWN else unit.name
    if unit.kind in (OrgKind.TOWN, OrgKind.PARK):
        count = min(len(words), 3 + rng.randint(0, 2))
    else:
        count = min(
            len(words), 1 + (1 if rng.random() < 0.6 else 0) + (1 if rng.random() < 0.3 else 0)
        )
    return [f"{prefix}{word}工会" for word in words[:count]]


def demo_logins() -> list[DemoLogin]:
    """The demo's logins; org names are the demo's data, roles and notes read as the UI does."""
    return [
        DemoLogin("admin", _("超级管理员"), _("全部"), _("可进入 Django 数据管理")),
        DemoLogin("yz_admin", str(RoleKind.FEDERATION_ADMIN.label), ROOT_NAME),
        DemoLogin("yz_viewer", str(RoleKind.VIEWER.label), ROOT_NAME, _("只读")),
        DemoLogin("yz_kefu", str(RoleKind.SERVICE.label), ROOT_NAME),
        DemoLogin(
            "zhenzhou",
            str(RoleKind.UNIT_ADMIN.label),
            "真州镇",
            _("只看到%(org)s") % {"org": "真州镇"},
        ),
        DemoLogin("jiaoyu", str(RoleKind.UNIT_ADMIN.label), "教育局"),
        DemoLogin("zz_xiaoxue", str(RoleKind.GRASSROOTS_ADMIN.label), "真州中心小学工会"),
    ]


def demo_exists() -> bool:
    return Org.objects.filter(code=ROOT_CODE).exists()


def demo_roster_missing() -> bool:
    """A demo loaded before it had rosters (an older var/ database) lacks its members."""
    root = Org.objects.filter(code=ROOT_CODE).first()
    return root is not None and not demo_roster_exists(root=root)


@transaction.atomic
def load_demo(*, seed: int = 2022, members_per_union_cap: int | None = None) -> Campaign:
    """Create the Yizheng 2022 demo; the caller checks demo_exists() first.

    members_per_union_cap trims the rosters (tests that need the demo's shape, not its size).
    """
    rng = random.Random(seed)
    root = create_root_org(name=ROOT_NAME, code=ROOT_CODE)
    campaign = create_campaign(
        org=root,
        name=CAMPAIGN_NAME,
        year=2022,
        starts_at=datetime(2022, 9, 1, tzinfo=SHANGHAI),
        ends_at=datetime(2022, 11, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI),
    )
    table = read_table(TASK_TABLE.read_bytes(), TASK_TABLE.name)
    plan = plan_task_table(campaign=campaign, parent=root, table=table, filename=TASK_TABLE.name)
    apply_task_table(plan=plan)

    for unit in children_of(root):
        reported = unit.reported.get(year=campaign.year).count
        names = _grassroots_names(unit, rng)
        shares = split_total(reported, len(names), rng)
        for seq, (name, share) in enumerate(zip(names, shares, strict=True), start=1):
            union = create_child_org(parent=unit, name=name, kind=OrgKind.GRASSROOTS, seq=seq)
            set_reported_members(org=union, year=campaign.year, count=share)

    load_demo_roster(root=root, seed=seed, members_per_union_cap=members_per_union_cap)
    rebuild_rollups(campaign=campaign)
    add_demo_evaluations(campaign=campaign, seed=seed)
    add_demo_fabrication(campaign=campaign, seed=seed)
    add_demo_traces(campaign=campaign, seed=seed)
    rebuild_counts(campaign)
    # The demo registers its members by a raw UPDATE (demo/roster.py), past the counter hook.
    rebuild_registration_counts()
    _create_logins(root)
    return campaign


def demo_evaluations_missing() -> bool:
    """A demo loaded before evaluations existed (an older var/ database) has none."""
    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    return campaign is not None and not campaign.evaluations.exists()


@transaction.atomic
def add_evaluations_to_demo(*, seed: int = 2022) -> int:
    """Give a demo loaded without evaluations its evaluations; the number added."""
    campaign = Campaign.objects.select_related("org").get(org__code=ROOT_CODE, name=CAMPAIGN_NAME)
    added = add_demo_evaluations(campaign=campaign, seed=seed)
    added += add_demo_fabrication(campaign=campaign, seed=seed)
    add_demo_traces(campaign=campaign, seed=seed)
    rebuild_counts(campaign)
    rebuild_registration_counts()
    return added


def demo_traces_missing() -> bool:
    """A demo loaded before integrity review (an older var/ database) has no traces."""
    from evaluations.models import SubmissionTrace

    campaign = Campaign.objects.filter(org__code=ROOT_CODE, name=CAMPAIGN_NAME).first()
    return (
        campaign is not None
        and campaign.evaluations.exists()
        and not SubmissionTrace.objects.filter(evaluation__campaign=campaign).exists()
    )


@transaction.atomic
def add_traces_to_demo(*, seed: int = 2022) -> int:
    """Give an older demo its padded union and the traces of its evaluations; traces written."""
    campaign = Campaign.objects.select_related("org").get(org__code=ROOT_CODE, name=CAMPAIGN_NAME)
    add_demo_fabrication(campaign=campaign, seed=seed)
    written = add_demo_traces(campaign=campaign, seed=seed)
    rebuild_counts(campaign)
    rebuild_registration_counts()
    return written


@transaction.atomic
def add_demo_roster(*, seed: int = 2022) -> int:
    """Give a demo loaded without rosters its members and accounts; the number of members."""
    root = Org.objects.get(code=ROOT_CODE)
    created = load_demo_roster(root=root, seed=seed)
    rebuild_registration_counts()
    rebuild_rollups(campaign=Campaign.objects.get(org=root, name=CAMPAIGN_NAME))
    return created


def _create_logins(root: Org) -> None:
    orgs = {o.name: o for o in Org.objects.filter(within(root))}
    for login in demo_logins():
        user = User.objects.create_user(
            username=login.username, password=DEMO_PASSWORD, display_name=_display_name(login)
        )
        if login.username == "admin":
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
            continue
        kind = next(k for k in RoleKind if k.label == login.role)
        Role.objects.create(user=user, org=orgs[login.org], kind=kind)


def _display_name(login: DemoLogin) -> str:
    if login.username == "admin":
        return _("系统管理员")
    return f"{login.org}{login.role.removeprefix('总工会')}"
