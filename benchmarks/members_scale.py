"""Time the roster's reads at province scale: 150,000 unions, 10 million members (PostgreSQL).

Builds org_tree.py's province tree in a database of its own (`pingyi_bench_members` on the
server of DATABASE_URL), loads members, accounts, audit events and correction requests with
COPY, then times the console pages (through the Django test client, logged in as admins at the
province, a city, a county, a town and one grassroots union) and the registration lookups.
Queries slower than --explain-ms are printed with EXPLAIN (ANALYZE, BUFFERS).

    .venv/bin/python benchmarks/members_scale.py                    # 10,000,000 members
    .venv/bin/python benchmarks/members_scale.py --members 1000000  # a quicker look
"""

import argparse
import base64
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from _scratch import scratch_database
from org_tree import CITIES, COUNTIES, YEAR, TreeBuilder

CHUNK = 50_000
# Jiangsu's commonest surnames with their shares (%), the rest from a longer tail.
SURNAME_SHARES = (
    "王7.1 李7.0 张6.7 刘5.4 陈4.5 杨3.1 黄2.2 赵2.0 吴2.0 周1.9 徐1.6 孙1.5 马1.5 朱1.4 胡1.3 "
    "郭1.2 何1.1 高1.1 林1.1 罗0.9 郑0.9 梁0.8 谢0.8 宋0.8 唐0.8 许0.7 韩0.7 冯0.7 邓0.7 曹0.7 "
    "彭0.6 曾0.6 肖0.6 田0.6 董0.5 袁0.5 潘0.5 于0.5 蒋0.5 蔡0.5 余0.5 杜0.5 叶0.5 程0.5 苏0.4 "
    "魏0.4 吕0.4 丁0.4 任0.4 沈0.4 姚0.4 卢0.4 姜0.4 崔0.3 钟0.3 谭0.3 陆0.3 汪0.3 范0.3 金0.3"
)
SURNAMES = SURNAME_SHARES.split()
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文斌俊宇浩然子涵欣怡晨"
REGIONS = [f"32{c:02d}" for c in range(1, 14)]
AUDIT_OTHER = [  # (action, weight, note) of the events other than registrations
    ("roster_updated", 40, "名册导入覆盖"),
    ("edited", 15, "管理员修改"),
    ("revealed", 25, "查看完整身份证号码和手机号码"),
    ("exported", 10, "导出名册"),
    ("transferred", 10, "会员转会"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000_000, help="members on the rosters")
    parser.add_argument(
        "--registered", type=float, default=0.10, help="share of members with an account"
    )
    parser.add_argument("--audit", type=int, default=1_500_000, help="audit events in all")
    parser.add_argument("--corrections", type=int, default=5_000, help="correction requests")
    parser.add_argument("--orgs", type=int, default=150_000, help="orgs in the tree")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (median)")
    parser.add_argument("--explain-ms", type=float, default=100, help="EXPLAIN queries slower")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database a --keep run left (no load)"
    )
    parser.add_argument("--postgres", action="store_true", help="(the default: PostgreSQL only)")
    args = parser.parse_args()
    args.postgres = True
    args.keep = args.keep or args.reuse
    args.database = "pingyi_bench_members"
    return args


# ---------------------------------------------------------------- loading


class Loader:
    """Synthetic rows streamed with COPY; secondary indexes are built after the data."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed + 1)
        self.day0 = datetime(2022, 6, 1, tzinfo=UTC)
        self.registered: list[tuple] = []  # (member_id, org_id, user_id, registered_at, name)

    # -- helpers
    def copy(self, table: str, columns: tuple[str, ...], chunks) -> int:
        from django.db import connection

        total = 0
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for lines in chunks:
                copy.write("".join(lines))
                total += len(lines)
        return total

    def stamp(self, seconds: float) -> str:
        return (self.day0 + timedelta(seconds=seconds)).isoformat()

    # -- members
    def union_sizes(self) -> list[tuple[int, int]]:
        """(org id, members) of every grassroots union, in the order their rosters came in.

        The roster of a union is its reported members scaled to --members (lognormal: most
        unions have a few dozen members, a few enterprises thousands); unions were imported one
        after another in no particular order, so a union's members have neighbouring ids.
        """
        from orgs.models import ReportedMembers

        reported = list(
            ReportedMembers.objects.filter(year=YEAR)
            .order_by("org_id")
            .values_list("org_id", "count")
        )
        scale = self.args.members / sum(c for _, c in reported)
        rng = self.rng
        sizes = [(org_id, int(c * scale + rng.random())) for org_id, c in reported]
        self.total = sum(s for _, s in sizes)  # --members, give or take the rounding
        rng.shuffle(sizes)
        return sizes

    def member_chunks(self, sizes):
        rng = self.rng
        surnames = [s[0] for s in SURNAMES]
        weights = [float(s[1:]) for s in SURNAMES] + [20.0]
        surnames.append(None)  # the tail: any of the list, evenly
        births = [
            (datetime(1962, 1, 1) + timedelta(days=d)).date().isoformat() for d in range(15_000)
        ]
        share = self.args.registered
        total = self.total
        campaign_open = 92 * 86400.0  # 2022-09-01
        window = 90 * 86400.0
        member_id = user_id = 0
        lines: list[str] = []
        for org_id, size in sizes:
            for _ in range(size):
                member_id += 1
                if len(lines) == 0:
                    n = min(CHUNK, total - member_id + 1) + 1
                    hexes = os.urandom(64 * n).hex()
                    b64 = base64.b64encode(os.urandom(165 * n)).decode()
                    first = rng.choices(surnames, weights, k=n)
                    k = 0
                s = first[k] or rng.choice(SURNAMES)[0]
                name = s + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
                h = hexes[128 * k : 128 * k + 128]
                c = b64[220 * k : 220 * k + 220]
                k += 1
                last4 = f"{rng.randrange(10000):04d}"
                id_masked = f"{rng.choice(REGIONS)}**********{last4[:3]}{rng.choice('0123456789X')}"
                has_phone = rng.random() < 0.95
                created = self.stamp(member_id * 7_776_000 / total)  # June–August imports
                if has_phone and rng.random() < share:
                    user_id += 1
                    reg = self.stamp(campaign_open + rng.random() * window)
                    self.registered.append((member_id, org_id, user_id, reg, name))
                    user, reg_at, updated = str(user_id), reg, reg
                else:
                    user, reg_at, updated = "\\N", "\\N", created
                phone = (
                    (
                        c[120:220],
                        h[64:128],
                        f"1{rng.choice('35789')}{rng.randrange(10)}****{rng.randrange(10000):04d}",
                    )
                    if has_phone
                    else ("", "", "")
                )
                lines.append(
                    f"{member_id}\t{org_id}\t{name}\t{c[:120]}\t{h[:64]}\t{id_masked}\t"
                    f"{phone[0]}\t{phone[1]}\t{phone[2]}\t{'M' if rng.random() < 0.55 else 'F'}\t"
                    f"{rng.choice(births)}\t{rng.choice(births)[:8]}01\t"
                    f"{'left' if rng.random() < 0.03 else 'active'}\t{user}\t{reg_at}\t"
                    f"{created}\t{updated}\n"
                )
                if len(lines) >= CHUNK:
                    yield lines
                    lines = []
        if lines:
            yield lines

    def user_chunks(self):
        for i in range(0, len(self.registered), CHUNK):
            yield [
                f"{user_id}\t!\t\\N\tf\tm{member_id}\t\t\t\tf\tt\t{reg}\t{name}\n"
                for member_id, _org, user_id, reg, name in self.registered[i : i + CHUNK]
            ]

    def audit_rows(self, members: int) -> list[tuple]:
        """Registrations (one per account) plus admins' edits, reveals, exports, transfers."""
        rng = self.rng
        rows = [
            (reg, str(user_id), "registered", member_id, org_id, "{}", "手机号验证后实名注册")
            for member_id, org_id, user_id, reg, _name in self.registered
        ]
        others = max(0, self.args.audit - len(rows))
        actions = [a for a, _, _ in AUDIT_OTHER]
        notes = {a: n for a, _, n in AUDIT_OTHER}
        picked = rng.choices(actions, [w for _, w, _ in AUDIT_OTHER], k=others)
        self.audited = [rng.randrange(1, members + 1) for _ in range(others)]
        for action, member_id in zip(picked, self.audited, strict=True):
            changes = (
                json.dumps({"phone": ["138****1234", "139****5678"]}, ensure_ascii=False)
                if action in ("roster_updated", "edited")
                else "{}"
            )
            at = self.stamp(rng.random() * 183 * 86400.0)
            rows.append((at, "\\N", action, member_id, None, changes, notes[action]))
        rows.sort(key=lambda r: r[0])  # ids follow time, as auto_now_add would
        return rows

    def audit_chunks(self, rows, org_of):
        for i in range(0, len(rows), CHUNK):
            yield [
                f"{i + j + 1}\t{at}\t{actor}\t{action}\t{member_id}\t"
                f"{org_id if org_id is not None else org_of[member_id]}\t{changes}\t{note}\t\n"
                for j, (at, actor, action, member_id, org_id, changes, note) in enumerate(
                    rows[i : i + CHUNK]
                )
            ]


def secondary_indexes(table: str) -> tuple[list[str], list[str]]:
    """Drop the table's indexes and constraints (but its primary key); return how to remake them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
            "AND c.conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    remake = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in constraints]
    return [d for _, d in indexes] + [r for r in remake if "FOREIGN KEY" not in r], [
        r for r in remake if "FOREIGN KEY" in r
    ]


def load(args: argparse.Namespace) -> dict:
    """Members, accounts, audit events and correction requests; returns the load's timings."""
    from django.db import connection

    from orgs.models import Org

    timings = {}
    loader = Loader(args)
    tables = ("members_member", "accounts_user", "members_auditevent")
    started = time.perf_counter()
    remake: list[str] = []
    foreign: list[str] = []
    for table in tables:
        idx, fks = secondary_indexes(table)
        remake += idx
        foreign += fks
    sizes = loader.union_sizes()
    members = loader.copy(
        "members_member",
        (
            "id",
            "org_id",
            "name",
            "id_cipher",
            "id_hash",
            "id_masked",
            "phone_cipher",
            "phone_hash",
            "phone_masked",
            "sex",
            "birth_date",
            "joined_on",
            "status",
            "user_id",
            "registered_at",
            "created_at",
            "updated_at",
        ),
        loader.member_chunks(sizes),
    )
    timings["copy members"] = time.perf_counter() - started
    t = time.perf_counter()
    users = loader.copy(
        "accounts_user",
        (
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "display_name",
        ),
        loader.user_chunks(),
    )
    timings["copy accounts"] = time.perf_counter() - t
    t = time.perf_counter()
    # The org of each member, for the events: from the layout, not the database.
    org_of = [0] * (members + 1)
    member_id = 0
    for org_id, size in sizes:
        org_of[member_id + 1 : member_id + size + 1] = [org_id] * size
        member_id += size
    rows = loader.audit_rows(members)
    events = loader.copy(
        "members_auditevent",
        ("id", "at", "actor_id", "action", "member_id", "org_id", "changes", "note", "address"),
        loader.audit_chunks(rows, org_of),
    )
    del rows
    timings["copy audit events"] = time.perf_counter() - t

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for sql in remake + foreign:
            cursor.execute(sql)
        for table in (*tables, "members_member"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    timings["indexes and constraints"] = time.perf_counter() - t

    t = time.perf_counter()
    unions = [org_id for org_id, size in sizes if size]
    corrections = load_corrections(loader, unions, members)
    timings["correction requests"] = time.perf_counter() - t

    t = time.perf_counter()
    with connection.cursor() as cursor:
        # What autovacuum does on a live database: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")
    timings["VACUUM ANALYZE"] = time.perf_counter() - t
    timings["load in all"] = time.perf_counter() - started
    print(
        f"loaded {members:,} members in {len(unions):,} unions "
        f"(largest {max(s for _, s in sizes):,}, median "
        f"{statistics.median(s for _, s in sizes):.0f}), {users:,} accounts "
        f"({users / members:.0%} registered), {events:,} audit events, "
        f"{corrections:,} correction requests; {Org.objects.count():,} orgs"
    )
    return timings


def load_corrections(loader: Loader, unions: list[int], members: int) -> int:
    from django.db import connection

    rng = loader.rng
    n = loader.args.corrections
    hexes = os.urandom(32 * n).hex()
    lines = []
    kinds = ["mismatch", "missing", "details"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, org_id FROM members_member WHERE id = ANY(%s)",
            [[rng.randrange(1, members + 1) for _ in range(n)]],
        )
        picked = cursor.fetchall()
    for i in range(n):
        kind = rng.choice(kinds)
        status = rng.choices(["pending", "approved", "refused"], [40, 45, 15])[0]
        member_id, org_id = (
            picked[i % len(picked)] if kind != "missing" else ("\\N", rng.choice(unions))
        )
        submitted = loader.stamp(92 * 86400.0 + rng.random() * 90 * 86400.0)
        decided = "\\N" if status == "pending" else submitted
        lines.append(
            f"{kind}\t{status}\t{member_id}\t{org_id}\t张{rng.choice(GIVEN)}\t"
            f"{'x' * 120}\t{hexes[64 * i : 64 * i + 64]}\t3210**********123X\t\t\t\t\\N\t"
            f"{submitted}\t\\N\t{decided}\t\n"
        )
    return loader.copy(
        "members_correctionrequest",
        (
            "kind",
            "status",
            "member_id",
            "org_id",
            "name",
            "id_cipher",
            "id_hash",
            "id_masked",
            "phone_cipher",
            "phone_masked",
            "note",
            "submitted_by_id",
            "submitted_at",
            "decided_by_id",
            "decided_at",
            "decision_reason",
        ),
        [lines],
    )


# ---------------------------------------------------------------- the world


def build(args: argparse.Namespace) -> dict:
    """Migrate, build org_tree.py's province tree, load the rosters, make five admins."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Role, RoleKind, User
    from members import crypto
    from members.models import Member
    from orgs.models import Org, OrgKind
    from orgs.selectors import children_of, within

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if args.reuse:
        timings = {}
    else:
        with transaction.atomic():
            shape = TreeBuilder(total=args.orgs, seed=args.seed).build()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        tree_s = time.perf_counter() - started
        print(
            f"tree: 1 province, {len(CITIES)} cities, {COUNTIES} counties, "
            f"{shape['upper'] - 1 - len(CITIES) - COUNTIES:,} mid units, "
            f"{shape['grassroots']:,} grassroots unions in {tree_s:.1f} s"
        )
        timings = load(args)
        timings["tree"] = tree_s

    city = Org.objects.get(code="B32-10")  # 扬州, as in org_tree.py
    county = children_of(city).last()
    town = (
        Org.objects.filter(within(county), depth=county.depth + 1, kind=OrgKind.TOWN)
        .order_by("-numchild")
        .first()
    )
    sizes = {
        org_id: n
        for org_id, n in Member.objects.filter(within(town, "org__path"))
        .values_list("org_id")
        .annotate(n=models_count())
    }
    union_id = min(sizes, key=lambda o: abs(sizes[o] - 150))  # a union of ~150 members
    union = Org.objects.get(pk=union_id)
    world = {
        "root": Org.objects.get(depth=1),
        "city": city,
        "county": county,
        "town": town,
        "union": union,
        "timings": timings,
        "admins": {},
    }
    kinds = {
        "root": RoleKind.FEDERATION_ADMIN,
        "city": RoleKind.FEDERATION_ADMIN,
        "county": RoleKind.FEDERATION_ADMIN,
        "town": RoleKind.UNIT_ADMIN,
        "union": RoleKind.GRASSROOTS_ADMIN,
    }
    for level, kind in kinds.items():
        user = User.objects.filter(username=f"bench_{level}").first()
        if user is None:
            user = User.objects.create_user(username=f"bench_{level}", password=None)
            Role.objects.create(user=user, org=world[level], kind=kind)
        world["admins"][level] = user
    # One registered member of the union gets a real ID number and phone, to look up.
    member = (
        Member.objects.filter(org=union, user__isnull=False).first()
        or Member.objects.filter(user__isnull=False).first()
    )
    world["id_number"], world["phone"] = "321002199001011234", "13905140000"
    Member.objects.filter(pk=member.pk).update(
        id_hash=crypto.lookup_hash("id", world["id_number"]),
        phone_hash=crypto.lookup_hash("phone", world["phone"]),
    )
    counts = {
        level: Member.objects.filter(within(world[level], "org__path")).count() for level in LEVELS
    }
    world["counts"] = counts
    print(
        "scopes: "
        + ", ".join(f"{level} {world[level].name} ({counts[level]:,} members)" for level in LEVELS)
    )
    return world


def models_count():
    from django.db.models import Count

    return Count("id")


LEVELS = ("root", "city", "county", "town", "union")


# ---------------------------------------------------------------- timing


class Timer:
    def __init__(self, runs: int, explain_ms: float):
        self.runs = runs
        self.explain_ms = explain_ms
        self.rows: list[tuple] = []
        self.slow: list[tuple[str, str, float]] = []

    def time(self, label: str, level: str, fn: Callable[[], object], *, plan: bool = False) -> None:
        """Median and best of N warm runs in ms; the queries of one run and the slowest."""
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        fn()  # warm
        reset_queries()  # the log keeps 9,000 queries: a full one would capture nothing
        with CaptureQueriesContext(connection) as queries:
            fn()
        elapsed = []
        for _ in range(self.runs):
            start = time.perf_counter()
            fn()
            elapsed.append((time.perf_counter() - start) * 1000)
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
        slowest_ms = float(slowest["time"]) * 1000 if slowest else 0.0
        self.rows.append(
            (label, level, statistics.median(elapsed), min(elapsed), len(queries), slowest_ms)
        )
        if slowest and (plan or statistics.median(elapsed) > self.explain_ms):
            self.slow.append((f"{label} [{level}]", slowest["sql"], slowest_ms))
        print(f"  {label:<44} {level:<7} {statistics.median(elapsed):9.1f} ms", flush=True)

    def print(self) -> None:
        print(
            "\n| measure | admin | median ms | best ms | queries | slowest query ms |\n"
            "|---|---|---:|---:|---:|---:|"
        )
        for label, level, median, best, n, slowest in self.rows:
            print(f"| {label} | {level} | {median:.1f} | {best:.1f} | {n} | {slowest:.1f} |")


def explain(title: str, sql: str, *, analyze: bool = True) -> None:
    from django.db import connection

    options = "(ANALYZE, BUFFERS)" if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {options} {sql}")
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    print(f"\nEXPLAIN {title}\n    {sql[:600]}\n{plan}")


def measure(world: dict, args: argparse.Namespace) -> Timer:
    from django.db.models import Max, Min
    from django.test import Client

    from members.selectors import (
        member_by_id_number,
        members_in_scope,
        registered_count,
        registered_member_by_phone,
    )
    from members.transfer import find_unions

    timer = Timer(args.runs, args.explain_ms)
    print("\ntimings (median of warm runs):")
    timer.time("member_by_id_number", "-", lambda: member_by_id_number(world["id_number"]))
    timer.time(
        "registered_member_by_phone", "-", lambda: registered_member_by_phone(world["phone"])
    )
    timer.time("find_unions(city, '0045')", "-", lambda: find_unions(world["city"], "0045"))
    timer.time("find_unions(city, '-012-')", "-", lambda: find_unions(world["city"], "-012-"))

    union = world["union"]
    for level in LEVELS:
        user = world["admins"][level]
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        bounds = members_in_scope(user).aggregate(lo=Min("pk"), hi=Max("pk"))
        middle = (bounds["lo"] + bounds["hi"]) // 2

        def page(url, client=client):
            def get():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            return get

        roster = "/console/members/"
        # The plan of the union admin's page shows whether paging by -pk scans the pk index.
        timer.time("roster, first page", level, page(roster), plan=level in ("county", "union"))
        timer.time("roster, deep page (?after=middle id)", level, page(f"{roster}?after={middle}"))
        timer.time("roster, one union (?org=)", level, page(f"{roster}?org={union.pk}"))
        timer.time("roster, registered only", level, page(f"{roster}?registered=yes"))
        timer.time("roster, name contains 张", level, page(f"{roster}?q=张"))
        timer.time("audit log, first page", level, page("/console/members/audit/"))
        timer.time("correction queue (pending)", level, page("/console/members/corrections/"))
        org = world[level]
        timer.time(
            "registered members of the subtree, count",
            level,
            lambda org=org: registered_count(org),
        )
    return timer


# ---------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    print(
        f"pingyi members-scale benchmark on {connection.vendor} "
        f"({connection.settings_dict['NAME']}), {args.members:,} members, "
        f"median of {args.runs}"
    )
    started = time.perf_counter()
    world = build(args)
    print("load: " + ", ".join(f"{k} {v:.0f} s" for k, v in world["timings"].items()))
    timer = measure(world, args)
    timer.print()
    for title, sql, ms in timer.slow:
        explain(f"{title} (slowest query {ms:.0f} ms)", sql)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
