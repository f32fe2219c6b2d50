"""The demo's rosters: one synthetic member per reported member, and accounts for a share of them.

Everything here is fictitious. Names are drawn from common surnames and neutral given-name
characters; ID numbers are composed (region code + birth date + sequence + a valid GB 11643
check digit) so that they pass every check the roster makes, but they are picked at random and
belong to no one we know of; phones come from the block 170 00xx xxxx, plus two 139 0000 000x
numbers for the demo members the login page invites visitors to try. Never mistake the demo's
data for anyone's personal data, and never load it into a production database.

Rows are written with bulk_create in batches: the roster services (add_member) parse, save and
audit one person at a time, which is right for an import and far too slow for 62,301 people.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from accounts.models import User
from members.identity import Sex, compose_id_number, parse_id_number
from members.models import AuditAction, AuditEvent, Member
from orgs.models import Org, OrgKind
from orgs.selectors import children_of, within
from orgs.services import create_child_org, set_reported_members

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2022
AGE_ON = date(2022, 9, 1)  # the campaign's first day: every member is 20–60 then
BATCH = 2000
AUDIT_NOTE = "演示数据"
# The share of a unit's members who registered, drawn per unit in this range.
REGISTERED_SHARE = (0.35, 0.60)
REGISTRATION_START = datetime(2022, 9, 1, tzinfo=SHANGHAI)
REGISTRATION_DAYS = 80  # up to 2022-11-20, ten days before the campaign closes
PHONE_BLOCK = 170_0000_0000  # 170 00xx xxxx: the synthetic members' phones, one each

# Common surnames, most frequent first, and their rough weights.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_SURNAME_WEIGHTS = [max(1, 30 - i) for i in range(len(_SURNAMES))]
# Given-name characters used for men and women alike.
_GIVEN = "文明华晓春秋立新宇佳雨晨子安宁平林云欣嘉思清和乐阳辰青一凡书言舒远海"
# Where members were born: mostly Yizheng, some of the neighbouring Yangzhou districts, some
# elsewhere in Jiangsu (GB/T 2260 codes; only the province is checked by the roster).
_REGIONS = (
    (["321081"], 80),  # 仪征市
    (["321002", "321003", "321012", "321023", "321084"], 12),  # 广陵 邗江 江都 宝应 高邮
    (["320106", "320115", "320116", "321102", "321181", "320583", "321282", "320981"], 8),
)


@dataclass(frozen=True)
class DemoMember:
    """A demo member with fixed data, printed by `manage.py demo_logins` for visitors to try."""

    name: str
    id_number: str
    phone: str
    union: str
    registered: bool


# The first town's first grassroots union (see demo.services._GRASSROOTS_BY_KIND).
DEMO_UNION = "真州中心小学工会"
DEMO_MEMBERS = (
    DemoMember(
        name="张伟",
        id_number=compose_id_number(region="321081", birth_date=date(1985, 3, 12), sequence=11),
        phone="13900000001",
        union=DEMO_UNION,
        registered=True,
    ),
    DemoMember(
        name="李娜",
        id_number=compose_id_number(region="321081", birth_date=date(1990, 6, 18), sequence=22),
        phone="13900000002",
        union=DEMO_UNION,
        registered=False,
    ),
)


def demo_roster_exists(*, root: Org) -> bool:
    return Member.objects.filter(within(root, "org__path")).exists()


@transaction.atomic
def load_demo_roster(*, root: Org, seed: int, members_per_union_cap: int | None = None) -> int:
    """Give every grassroots union under root a roster as large as its reported members.

    A unit with no grassroots union (none in the demo: demo.services gives each one at least
    one) gets one named after it, so that its reported members have somewhere to be.
    members_per_union_cap trims each roster (tests that need the shape, not the size).
    Returns the number of members created.
    """
    rng = random.Random(f"roster:{seed}")
    used = {m.id_number[:17] for m in DEMO_MEMBERS}  # no synthetic member takes their ID
    phones = iter(range(PHONE_BLOCK + 1, PHONE_BLOCK + 1_000_000))
    members: list[Member] = []
    registered: list[tuple[Member, datetime]] = []
    for unions in _units(root, rng):
        fixed: list[Member] = []
        synthetic: list[Member] = []
        fixed_registered = 0
        for union, size in unions:
            if members_per_union_cap is not None:
                size = min(size, members_per_union_cap)
            people = [m for m in DEMO_MEMBERS if m.union == union.name][:size]
            for person in people:
                member = _fixed_member(union, person)
                fixed.append(member)
                if person.registered:
                    fixed_registered += 1
                    registered.append((member, REGISTRATION_START + timedelta(hours=9)))
            synthetic += [
                _synthetic_member(union, rng, used, str(next(phones)))
                for _i in range(size - len(people))
            ]
        # The unit's share registered, drawn over the whole unit so small unions round well.
        share = rng.uniform(*REGISTERED_SHARE)
        count = round(share * (len(fixed) + len(synthetic))) - fixed_registered
        chosen = rng.sample(synthetic, max(0, min(count, len(synthetic))))
        registered += [(member, _registration_time(rng)) for member in chosen]
        members += fixed + synthetic

    Member.objects.bulk_create(members, batch_size=BATCH)
    _create_accounts(registered)
    _audit(members)
    return len(members)


def _units(root: Org, rng: random.Random) -> list[list[tuple[Org, int]]]:
    """Per unit below root: its grassroots unions with their roster sizes."""
    out = []
    for unit in children_of(root):
        reported = unit.reported.filter(year=YEAR).values_list("count", flat=True).first() or 0
        unions = list(children_of(unit).filter(kind=OrgKind.GRASSROOTS))
        if not unions:
            union = create_child_org(
                parent=unit, name=f"{unit.name}工会", kind=OrgKind.GRASSROOTS, seq=1
            )
            set_reported_members(org=union, year=YEAR, count=reported)
            unions = [union]
        own = dict(
            Org.objects.filter(pk__in=[u.pk for u in unions], reported__year=YEAR).values_list(
                "pk", "reported__count"
            )
        )
        # The unions' own figures when they add up to the unit's; else a fresh split of it,
        # recorded so that each union's registration rate reads against its roster.
        sizes = [own.get(u.pk, 0) for u in unions]
        if len(own) != len(unions) or sum(sizes) != reported:
            sizes = split_total(reported, len(unions), rng)
            for union, size in zip(unions, sizes, strict=True):
                set_reported_members(org=union, year=YEAR, count=size)
        out.append(list(zip(unions, sizes, strict=True)))
    return out


def split_total(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split a unit's reported members over its grassroots unions, summing exactly."""
    weights = [rng.uniform(0.5, 2.0) for _part in range(parts)]
    shares = [int(total * w / sum(weights)) for w in weights]
    shares[0] += total - sum(shares)
    return shares


def _fixed_member(union: Org, person: DemoMember) -> Member:
    parsed = parse_id_number(person.id_number)
    return _member(
        union,
        person.name,
        parsed.number,
        parsed.birth_date,
        parsed.sex,
        person.phone,
        date(2012, 9, 1),
    )


def _synthetic_member(union: Org, rng: random.Random, used: set[str], phone: str) -> Member:
    sex = rng.choice((Sex.MALE, Sex.FEMALE))
    # 20 to 60 years old on AGE_ON: born between 1962-09-02 and 2002-09-01.
    latest = AGE_ON.replace(year=AGE_ON.year - 20)
    birth = latest - timedelta(days=rng.randrange(40 * 365 + 10))
    regions, _weight = rng.choices(_REGIONS, weights=[w for _r, w in _REGIONS])[0]
    region = rng.choice(regions)
    while True:  # the 17th digit is odd for a man, even for a woman
        sequence = rng.randrange(500) * 2 + (1 if sex == Sex.MALE else 0)
        first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
        if first17 not in used:
            used.add(first17)
            break
    number = compose_id_number(region=region, birth_date=birth, sequence=sequence)
    surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    given = "".join(rng.sample(_GIVEN, 1 if rng.random() < 0.3 else 2))
    # Joined the union at 20 or later, before the campaign.
    earliest = min(birth + timedelta(days=20 * 365 + 5), AGE_ON - timedelta(days=1))
    joined = earliest + timedelta(days=rng.randrange((AGE_ON - earliest).days))
    return _member(union, surname + given, number, birth, sex, phone, joined)


def _member(
    union: Org, name: str, id_number: str, birth: date, sex: str, phone: str, joined: date
) -> Member:
    member = Member(org=union, name=name, sex=sex, birth_date=birth, joined_on=joined)
    member.set_id_number(id_number)
    member.set_phone(phone)
    return member


def _registration_time(rng: random.Random) -> datetime:
    """A moment between 2022-09-01 and 2022-11-20, more of them early, in waking hours."""
    day = int(rng.triangular(0, REGISTRATION_DAYS + 1, 0))
    seconds = rng.randrange(7 * 3600, 23 * 3600)
    return REGISTRATION_START + timedelta(days=min(day, REGISTRATION_DAYS), seconds=seconds)


def _create_accounts(registered: list[tuple[Member, datetime]]) -> None:
    """A User per registered member (username m<pk>, as registration names it), then link them."""
    unusable = make_password(None)  # one hash for all: nobody logs in to these with a password
    users = [
        User(
            username=f"m{member.pk}",
            password=unusable,
            display_name=member.name,
            date_joined=at,
        )
        for member, at in registered
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    # One UPDATE statement run for every member: bulk_update's CASE WHEN over 30,000 rows
    # costs twenty seconds where this costs a fraction of one.
    quote = connection.ops.quote_name
    meta = Member._meta
    at_field = meta.get_field("registered_at")
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field('user').column)} = %s, "
        f"{quote(at_field.column)} = %s WHERE {quote(meta.pk.column)} = %s"
    )
    rows = []
    for (member, at), user in zip(registered, users, strict=True):
        member.user, member.registered_at = user, at
        rows.append((user.pk, at_field.get_db_prep_value(at, connection), member.pk))
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _audit(members: list[Member]) -> None:
    """One 导入新增 per member, as the roster import writes, noted as demo data.

    Registrations get no 实名注册 event: 30,000 more rows would add seconds to every load
    for a log nobody reads for fictitious people.
    """
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                action=AuditAction.ROSTER_CREATED,
                member=m,
                org_id=m.org_id,
                changes={"name": ["", m.name], "id_number": ["", m.id_masked]},
                note=AUDIT_NOTE,
            )
            for m in members
        ),
        batch_size=BATCH,
    )
