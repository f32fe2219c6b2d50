"""The common world of the tests: a small union tree, a campaign and admins at each level."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from accounts.models import Role, RoleKind, User
from campaigns.services import create_campaign, record_reported_members
from orgs.models import OrgKind
from orgs.services import create_child_org, create_root_org

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _empty_cache():
    # The login throttle counts failures in the cache; no test may inherit another's count.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _jobs_before_the_response(settings):
    # Background jobs run inside the request in tests, so a test reads their outcome at once.
    settings.PINGYI_JOBS_IN_THREAD = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.2 s a user; tests create many users and check no password strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class World:
    """Named orgs and users, so tests read like the feature."""


@pytest.fixture
def world(db) -> World:
    w = World()
    w.city = create_root_org(name="仪征市总工会", code="321081")
    w.town = create_child_org(parent=w.city, name="真州镇", kind=OrgKind.TOWN, seq=1)
    w.park = create_child_org(parent=w.city, name="枣林湾旅游度假区", kind=OrgKind.PARK, seq=2)
    w.agency = create_child_org(parent=w.city, name="教育局", kind=OrgKind.AGENCY, seq=3)
    w.town_union_a = create_child_org(
        parent=w.town, name="真州镇中心小学工会", kind=OrgKind.GRASSROOTS
    )
    w.town_union_b = create_child_org(
        parent=w.town, name="真州镇卫生院工会", kind=OrgKind.GRASSROOTS
    )
    w.park_union = create_child_org(parent=w.park, name="枣林湾酒店工会", kind=OrgKind.GRASSROOTS)

    w.campaign = create_campaign(
        org=w.city,
        name="2022年会员网上评议",
        year=2022,
        starts_at=datetime(2022, 9, 1, tzinfo=SHANGHAI),
        ends_at=datetime(2022, 11, 30, 23, 59, 59, tzinfo=SHANGHAI),
    )
    record_reported_members(org=w.town, year=2022, count=4809)
    record_reported_members(org=w.park, year=2022, count=381)
    record_reported_members(org=w.agency, year=2022, count=4130)

    w.city_admin = _user("city_admin", RoleKind.FEDERATION_ADMIN, w.city)
    w.town_admin = _user("town_admin", RoleKind.UNIT_ADMIN, w.town)
    w.park_admin = _user("park_admin", RoleKind.UNIT_ADMIN, w.park)
    w.union_admin = _user("union_admin", RoleKind.GRASSROOTS_ADMIN, w.town_union_a)
    w.viewer = _user("viewer", RoleKind.VIEWER, w.city)
    w.nobody = User.objects.create_user(username="nobody", password="pingyi-test-pw")
    return w


def _user(username: str, kind: str, org) -> User:
    user = User.objects.create_user(username=username, password="pingyi-test-pw")
    Role.objects.create(user=user, org=org, kind=kind)
    return user


@pytest.fixture
def other_campaign(world):
    """A campaign of another city's federation, which Yizheng's admins must never see."""
    other = create_root_org(name="扬州市总工会", code="321000")
    return create_campaign(
        org=other,
        name="扬州评议",
        year=2022,
        starts_at=world.campaign.starts_at,
        ends_at=world.campaign.ends_at,
    )


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Text messages land in a list the test can read; nothing is printed or sent."""
    from members.sms import LocmemBackend

    settings.PINGYI_SMS_BACKEND = "members.sms.LocmemBackend"
    LocmemBackend.outbox = []
    yield LocmemBackend.outbox
    LocmemBackend.outbox = []


@pytest.fixture
def roster(world):
    """Members on the roster of 真州镇中心小学工会 and 枣林湾酒店工会; none registered yet."""
    from members.services import add_member

    w = world
    w.li = add_member(
        org=w.town_union_a, name="李华", id_number=fake_id_number(1), phone="13905141234"
    )
    w.wang = add_member(
        org=w.town_union_a, name="王芳", id_number=fake_id_number(2), phone="13905145678"
    )
    w.zhao = add_member(
        org=w.park_union, name="赵明", id_number=fake_id_number(3), phone="13805140001"
    )
    return w


def fake_id_number(n: int, *, region: str = "321081", born: str = "1990-03-07") -> str:
    """A fictitious ID number with a valid check digit, the nth of its region and birth date."""
    from datetime import date

    from members.identity import compose_id_number

    return compose_id_number(region=region, birth_date=date.fromisoformat(born), sequence=n)


@pytest.fixture
def login(client):
    """Log a user in on the test client and return the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def register_member_account(member):
    """Give a roster member a verified account, as registration would; returns the member."""
    from django.utils import timezone

    from members.counters import add_registration, local_day
    from members.models import Member

    user = User.objects.create_user(
        username=f"m{member.pk}", password=None, display_name=member.name
    )
    now = timezone.now()
    Member.objects.filter(pk=member.pk).update(user=user, registered_at=now)
    member.refresh_from_db()
    add_registration(org=member.org, day=local_day(now))
    return member


@pytest.fixture
def open_campaign(world):
    """A campaign of the city open now (it began 30 days ago and ends in 30 days)."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    return create_campaign(
        org=world.city,
        name="2026年会员网上评议",
        year=2022,
        starts_at=now - timedelta(days=30),
        ends_at=now + timedelta(days=30),
    )


@pytest.fixture
def evaluators(roster, open_campaign):
    """李华 and 赵明 registered, 王芳 not; the city's campaign open now (world.open_campaign)."""
    w = roster
    w.open_campaign = open_campaign
    register_member_account(w.li)
    register_member_account(w.zhao)
    return w
