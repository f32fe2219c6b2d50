"""Time the progress page and the weekly bulletin at province scale (PostgreSQL).

Builds, in a database of its own (`pingyi_bench_progress` on the server of DATABASE_URL), the
province of org_tree.py (150,000 orgs, its `TreeBuilder`), one campaign at the province with its
stored rollups, members_scale.py's 10 million members (its `Loader`; 60% registered, with
accounts), 5 million evaluations over the campaign's 90 days and the evaluation and registration
counters, all loaded with COPY or INSERT … SELECT. Then times `progress_table` and the progress
page (root, a city, a grassroots union), a bulletin build, and the naive way: GROUP BY over the
evaluations and the members themselves. `--scale 0.01` builds a hundredth of everything.

    .venv/bin/python benchmarks/progress_scale.py               # 150,000 orgs, 10M members
    .venv/bin/python benchmarks/progress_scale.py --scale 0.01  # a quick look (~30 s)
"""

import argparse
import math
import random
import statistics
import time
from array import array
from bisect import bisect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import org_tree
from _scratch import scratch_database
from members_scale import CHUNK, Loader, secondary_indexes
from org_tree import CITIES, YEAR, TreeBuilder, check_tree

TZ = ZoneInfo("Asia/Shanghai")
# The campaign's window: members_scale's registrations fall in these 90 days (from 2022-09-01).
STARTS = datetime(YEAR, 9, 1, tzinfo=TZ)
ENDS = datetime(YEAR, 11, 30, tzinfo=TZ)
# Bulletins: each Monday 00:00 (Sunday 24:00); the timed one, and the one before it.
CUTOFF = datetime(YEAR, 11, 7, tzinfo=TZ)
# Overall ratings 5..1 and their shares (%), as the 2022 returns ran: mostly satisfied.
OVERALL = (5, 4, 3, 2, 1)
OVERALL_CUMULATIVE = list(accumulate((62, 24, 9, 3, 2)))
# Days from registration to evaluation: most evaluate at once, the rest when reminded.
EVALUATION_DELAY_DAYS = 3.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the province (0.01: 1,500 orgs…)"
    )
    parser.add_argument(
        "--registered", type=float, default=0.6, help="share of members registered (of all)"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measure")
    parser.add_argument(
        "--python-counters",
        action="store_true",
        help="also time the counters' Python rebuilds (default: only at --scale ≤ 0.1)",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=1,
        help="counter rows per (org, day) (production: PINGYI_COUNTER_SHARDS, 8)",
    )
    parser.add_argument(
        "--reload-counters",
        action="store_true",
        help="with --reuse: load the counters again (e.g. with another --shards)",
    )
    parser.add_argument("--plans", action="store_true", help="print whole EXPLAIN plans")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database a --keep run left (no load)"
    )
    parser.add_argument(
        "--database", default="pingyi_bench_progress", help="the scratch database's name"
    )
    parser.add_argument("--postgres", action="store_true", help="(the default: PostgreSQL only)")
    args = parser.parse_args()
    args.postgres = True
    args.keep = args.keep or args.reuse
    args.orgs = round(150_000 * args.scale)
    args.members = round(10_000_000 * args.scale)
    args.evaluations = round(5_000_000 * args.scale)
    # members_scale registers only members with a phone (95%): ask for the share among them.
    args.registered = min(1.0, args.registered / 0.95)
    # The tree keeps its shape (13 cities, 12–28 units a county) with fewer counties.
    org_tree.COUNTIES = max(len(CITIES), min(95, round(95 * args.scale)))
    if args.orgs < 2 * 28 * org_tree.COUNTIES:
        parser.error(f"--scale {args.scale} is too small for a province tree (0.01 at least)")
    return args


class Steps:
    """The load's steps and their times, printed as they end."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self.started = time.perf_counter()

    def run(self, label: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = fn()
        self.times[label] = time.perf_counter() - start
        print(f"  {label:<48} {self.times[label]:8.1f} s  {describe(result)}", flush=True)
        return result


def describe(result: object) -> str:
    if isinstance(result, int) and not isinstance(result, bool):
        return f"{result:,} rows"
    return str(result) if isinstance(result, str) else ""


# ---------------------------------------------------------------- loading


class Registered:
    """The registered members Loader.member_chunks records, kept compact.

    members_scale keeps a tuple per registered member; 6 million of them would take ~2 GB, so
    this list-alike stores them in arrays (names interned) and rebuilds tuples for a slice,
    which is all Loader.user_chunks asks of it.
    """

    def __init__(self):
        self.member = array("I")
        self.org = array("I")
        self.user = array("I")
        self.at = array("d")  # registered_at, POSIX seconds
        self.names: list[str] = []
        self._interned: dict[str, str] = {}

    def append(self, row: tuple) -> None:
        member_id, org_id, user_id, registered_at, name = row
        self.member.append(member_id)
        self.org.append(org_id)
        self.user.append(user_id)
        self.at.append(datetime.fromisoformat(registered_at).timestamp())
        self.names.append(self._interned.setdefault(name, name))

    def __len__(self) -> int:
        return len(self.member)

    def __getitem__(self, window: slice) -> list[tuple]:
        return [
            (
                self.member[i],
                self.org[i],
                self.user[i],
                datetime.fromtimestamp(self.at[i], UTC).isoformat(),
                self.names[i],
            )
            for i in range(*window.indices(len(self)))
        ]


def evaluation_chunks(registered: Registered, *, count: int, campaign_id: int, seed: int):
    """`count` evaluations by registered members picked at random, ids in time order.

    Each evaluates some days after registering (exponential, capped at the window's end); the
    ratings follow OVERALL's shares; 2★ and 1★ are negative (the campaign's overall rule).
    """
    rng = random.Random(seed)
    n = len(registered)
    count = min(count, n)
    end = ENDS.timestamp() - 1
    picked, at = array("I"), array("d")
    for i in range(n):  # selection sampling: exactly `count`, in one pass
        if rng.random() * (n - i) < count - len(picked):
            picked.append(i)
            delay = rng.expovariate(1 / EVALUATION_DELAY_DAYS) * 86400
            at.append(min(registered.at[i] + delay, end - rng.random() * 3600))
    order = sorted(range(len(picked)), key=at.__getitem__)
    lines: list[str] = []
    for evaluation_id, k in enumerate(order, start=1):
        i = picked[k]
        overall = OVERALL[bisect(OVERALL_CUMULATIVE, rng.random() * 100)]
        submitted = datetime.fromtimestamp(at[k], UTC).isoformat()
        channel = "api" if rng.random() < 0.4 else "h5"
        lines.append(
            f"{evaluation_id}\t{campaign_id}\t{registered.member[i]}\t{registered.org[i]}\t"
            f"{overall}\t\tf\t{'t' if overall <= 2 else 'f'}\t{submitted}\t{channel}\t\n"
        )
        if len(lines) >= CHUNK:
            yield lines
            lines = []
    if lines:
        yield lines


def chain_counts_sql(
    *, table: str, columns: str, source: str, top_depth: int, shards: int, leading: str = ""
) -> str:
    """INSERT … SELECT of per-(org, local day) counts, each leaf's rows added up its chain.

    `source` yields (org_id, at) rows; they are first counted per union and day, then each
    (union, day) is spread over the union's ancestors from depth `top_depth` down, and each
    (org, day)'s count over `shards` rows as evenly as it goes (no row for an empty shard),
    as that many random submissions would leave them. `leading`: constant columns written
    before the org (the campaign's id).
    """
    return f"""
        INSERT INTO {table} ({columns})
        SELECT {leading}per_day.org_id, per_day.day, sh.shard,
               per_day.n / {shards} + (sh.shard < mod(per_day.n, {shards}))::int
        FROM (
            SELECT anc.id AS org_id, leaf.day, sum(leaf.n)::int AS n
            FROM (
                SELECT org_id, (at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n
                FROM ({source}) AS s GROUP BY 1, 2
            ) AS leaf
            JOIN orgs_org o ON o.id = leaf.org_id
            CROSS JOIN LATERAL generate_series({top_depth}, o.depth) AS d(depth)
            JOIN orgs_org anc ON anc.path = left(o.path, d.depth * 4)
            GROUP BY anc.id, leaf.day
        ) AS per_day
        CROSS JOIN generate_series(0, {shards} - 1) AS sh(shard)
        WHERE sh.shard < per_day.n
    """


def sql(statements: list[str], params: dict | None = None) -> int:
    """Run statements with room for sorts and index builds; returns the rows they touched."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET work_mem = '256MB'")
        rows = 0
        for statement in statements:
            cursor.execute(statement, params)
            rows += max(cursor.rowcount, 0)
    return rows


def load_counters(args: argparse.Namespace, steps: Steps, campaign) -> None:
    """The evaluation and registration counters, from the rows, in --shards rows a day."""
    steps.run(
        "evaluation counters (INSERT … SELECT)",
        lambda: sql(
            [
                chain_counts_sql(
                    table="evaluations_dailycount",
                    columns="campaign_id, org_id, day, shard, count",
                    source="SELECT org_id, submitted_at AS at FROM evaluations_evaluation "
                    "WHERE campaign_id = %(campaign)s",
                    top_depth=campaign.org.depth,
                    shards=args.shards,
                    leading=f"{campaign.pk}, ",
                )
            ],
            {"campaign": campaign.pk},
        ),
    )
    steps.run(
        "registration counters (INSERT … SELECT)",
        lambda: sql(
            [
                chain_counts_sql(
                    table="members_registrationcount",
                    columns="org_id, day, shard, change",
                    source="SELECT org_id, registered_at AS at FROM members_member "
                    "WHERE registered_at IS NOT NULL AND status = 'active'",
                    top_depth=1,
                    shards=args.shards,
                )
            ]
        ),
    )


def reload_counters(args: argparse.Namespace, steps: Steps) -> None:
    """--reuse --reload-counters: the kept database's counters again, in --shards rows a day."""
    from campaigns.models import Campaign

    campaign = Campaign.objects.select_related("org").get()
    steps.run(
        "empty the counters",
        lambda: sql(["TRUNCATE evaluations_dailycount, members_registrationcount"]),
    )
    load_counters(args, steps, campaign)
    steps.run(
        "VACUUM ANALYZE the counters",
        lambda: sql(["VACUUM ANALYZE evaluations_dailycount, members_registrationcount"]),
    )


def load(args: argparse.Namespace, steps: Steps) -> None:
    """Tree, campaign and rollups, members, accounts, evaluations and counters."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from campaigns.rollups import rebuild_rollups
    from campaigns.services import create_campaign
    from evaluations.models import Evaluation
    from members.models import Member
    from orgs.models import Org

    steps.run("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))

    def tree():
        with transaction.atomic():
            shape = TreeBuilder(total=args.orgs, seed=args.seed).build()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return shape["upper"] + shape["grassroots"]

    steps.run("tree (org_tree.TreeBuilder, bulk_create)", tree)
    root = Org.objects.get(depth=1)
    steps.run(
        "check tree (depths, numchild, treebeard)",
        lambda: check_tree(county=Org.objects.filter(depth=3).order_by("path").last()),
    )
    campaign = create_campaign(
        org=root, name=f"{YEAR}年会员网上评议", year=YEAR, starts_at=STARTS, ends_at=ENDS
    )
    steps.run(
        "rollups (campaigns.rollups.rebuild_rollups)", lambda: rebuild_rollups(campaign=campaign)
    )

    tables = (
        "members_member",
        "accounts_user",
        "evaluations_evaluation",
        "evaluations_dailycount",
        "members_registrationcount",
    )
    remake: list[str] = []
    foreign: list[str] = []
    for table in tables:
        indexes, fks = secondary_indexes(table)
        remake += indexes
        foreign += fks

    loader = Loader(args)
    loader.registered = Registered()
    sizes = loader.union_sizes()

    def columns(model) -> list[str]:
        # Loader's rows and evaluation_chunks' follow the models' field order.
        return [f.column for f in model._meta.concrete_fields]

    steps.run(
        "COPY members (members_scale.Loader)",
        lambda: loader.copy("members_member", columns(Member), loader.member_chunks(sizes)),
    )
    steps.run(
        "COPY accounts of the registered",
        lambda: loader.copy("accounts_user", columns(User), loader.user_chunks()),
    )
    steps.run(
        "COPY evaluations (no answers)",
        lambda: loader.copy(
            "evaluations_evaluation",
            columns(Evaluation),
            evaluation_chunks(
                loader.registered,
                count=args.evaluations,
                campaign_id=campaign.pk,
                seed=args.seed + 2,
            ),
        ),
    )
    loader.registered = None  # ~150 bytes a registered member

    load_counters(args, steps, campaign)
    steps.run("indexes and constraints", lambda: sql(remake + foreign))
    steps.run(
        "sequences",
        lambda: sql(
            [
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
                for t in tables
            ]
        ),
    )
    # What autovacuum does on a live database: statistics and the visibility map.
    steps.run("VACUUM ANALYZE", lambda: sql(["VACUUM ANALYZE"]))


def python_counters(steps: Steps) -> None:
    """The counters' own recounts and rebuilds, against what the SQL above stored.

    The rebuilds are rolled back, so the timed counters keep --shards.
    """
    from django.db import connection, transaction

    from campaigns.models import Campaign
    from evaluations import counters
    from members.counters import rebuild_registration_counts, recount_registrations

    campaign = Campaign.objects.get()
    drift = steps.run("check: evaluations.counters.recount", lambda: counters.recount(campaign))
    print(f"    {len(drift)} (org, day) differ")
    if drift:
        raise SystemExit(f"evaluation counters differ from a recount: {drift[:3]}")
    drift = steps.run("check: members.counters.recount_registrations", recount_registrations)
    print(f"    {len(drift)} orgs differ")
    if drift:
        raise SystemExit(f"registration counters differ from a recount: {drift[:3]}")

    def rolled_back(fn: Callable[[], int]) -> Callable[[], int]:
        def run() -> int:
            with transaction.atomic():
                rows = fn()
                transaction.set_rollback(True)
            return rows

        return run

    steps.run(
        "evaluations.counters.rebuild_counts (rolled back)",
        rolled_back(lambda: counters.rebuild_counts(campaign)),
    )
    steps.run(
        "members.counters.rebuild_registration_counts (rolled back)",
        rolled_back(rebuild_registration_counts),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE evaluations_dailycount, members_registrationcount")


# ---------------------------------------------------------------- the world


def world(args: argparse.Namespace) -> dict:
    """The campaign, the orgs timed, and an admin of each with a logged-in test client."""
    from django.db.models import Count
    from django.test import Client

    from accounts.models import Role, RoleKind, User
    from campaigns.models import Campaign, Rollup
    from evaluations.models import Evaluation
    from members.models import Member
    from orgs.models import Org
    from orgs.selectors import within

    campaign = Campaign.objects.select_related("org").get()
    root = campaign.org
    city = Org.objects.get(code="B32-10")  # 扬州, as in org_tree.py
    # A grassroots union of the city with about 150 members on its roster.
    union_id = (
        Rollup.objects.filter(
            within(city, "org__path"), campaign=campaign, org__depth=5, reported__gte=150
        )
        .order_by("reported", "org_id")
        .values_list("org_id", flat=True)
        .first()
    )
    union = Org.objects.get(pk=union_id)
    orgs = {"root": root, "city": city, "union": union}
    kinds = {
        "root": RoleKind.FEDERATION_ADMIN,
        "city": RoleKind.FEDERATION_ADMIN,
        "union": RoleKind.GRASSROOTS_ADMIN,
    }
    clients = {}
    for level, kind in kinds.items():
        user = User.objects.filter(username=f"bench_{level}").first()
        if user is None:
            user = User.objects.create_user(username=f"bench_{level}", password=None)
            Role.objects.create(user=user, org=orgs[level], kind=kind)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        clients[level] = client
    counts = {
        "orgs": Org.objects.count(),
        "members": Member.objects.count(),
        "registered": Member.objects.filter(registered_at__isnull=False).count(),
        "evaluations": Evaluation.objects.count(),
    }
    per_level = dict(Org.objects.values_list("depth").annotate(n=Count("id")).order_by("depth"))
    print(
        f"\nbuilt: {counts['orgs']:,} orgs (by depth: "
        + ", ".join(f"{d}: {n:,}" for d, n in per_level.items())
        + f"), {counts['members']:,} members, {counts['registered']:,} registered "
        f"({counts['registered'] / max(1, counts['members']):.0%}), "
        f"{counts['evaluations']:,} evaluations"
    )
    print(f"timed: root {root} · city {city} · union {union} (path {union.path})")
    return {"campaign": campaign, **orgs, "clients": clients, "counts": counts}


# ---------------------------------------------------------------- timing


def p95(values: list[float]) -> float:
    """Nearest rank: of 20 runs, the 19th fastest; of 10, the slowest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Timer:
    def __init__(self, runs: int):
        self.runs = runs
        self.rows: list[tuple] = []

    def time(
        self, label: str, level: str, fn: Callable[[], object], setup: Callable[[], object] = list
    ) -> list[dict]:
        """One warm-up (its queries captured), then N runs: median and p95 in ms.

        `setup` runs before each, outside the timing.
        """
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        reset_queries()
        setup()
        try:
            with CaptureQueriesContext(connection) as queries:
                fn()
        except Exception as exc:  # a measure that breaks should not hide the others
            print(f"  {label:<46} {level:<6} FAILED: {type(exc).__name__}: {exc}", flush=True)
            self.rows.append((label, level, math.nan, math.nan, 0, math.nan))
            return []
        elapsed = []
        for _ in range(self.runs):
            setup()
            start = time.perf_counter()
            fn()
            elapsed.append((time.perf_counter() - start) * 1000)
        db_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        row = (label, level, statistics.median(elapsed), p95(elapsed), len(queries), db_ms)
        self.rows.append(row)
        print(
            f"  {label:<46} {level:<6} median {row[2]:9.1f} ms  p95 {row[3]:9.1f} ms  "
            f"{row[4]:3d} queries",
            flush=True,
        )
        return queries.captured_queries

    def print(self) -> None:
        print(
            f"\n| measure | org | median ms | p95 ms ({self.runs} runs) | queries | "
            "their time ms (warm-up) |\n|---|---|---:|---:|---:|---:|"
        )
        for label, level, median, high, n, db_ms in self.rows:
            print(f"| {label} | {level} | {median:.1f} | {high:.1f} | {n} | {db_ms:.1f} |")


def measure(w: dict, args: argparse.Namespace) -> Timer:
    """progress_table, the chart's series and the page at three levels; the naive GROUP BYs."""
    from django.urls import reverse

    from reports.figures import cumulative_series, progress_table

    timer = Timer(args.runs)
    campaign = w["campaign"]
    print(f"\ntimings (one warm-up, then median and p95 of {args.runs} runs):")
    captured = {}
    for level in ("root", "city", "union"):
        org = w[level]
        captured[level] = timer.time(
            "progress_table(campaign, parent)",
            level,
            lambda org=org: progress_table(campaign=campaign, parent=org),
        )
        timer.time(
            "cumulative_series(campaign, org)",
            level,
            lambda org=org: cumulative_series(campaign=campaign, org=org),
        )
        url = reverse("console:progress", args=[org.pk]) + f"?campaign={campaign.pk}"
        client = w["clients"][level]

        def page(url=url, client=client):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        queries = timer.time(f"GET {url.split('?')[0]} (progress page)", level, page)
        print(
            "    "
            + "\n    ".join(f"{float(q['time']) * 1000:7.1f} ms  {q['sql'][:150]}" for q in queries)
        )

    w["naive"] = {}
    for level in ("root", "city"):
        org = w[level]
        for label, run in (
            ("(naive) evaluations per sub-unit, GROUP BY", naive_evaluations(org, campaign)),
            ("(naive) registered per sub-unit, GROUP BY", naive_registered(org)),
        ):
            timer.time(label, level, run)
            if level == "root":
                w["naive"][label] = run
    w["progress_queries"] = captured["root"]
    return timer


def naive_evaluations(parent, campaign) -> Callable[[], list]:
    return _naive(
        "FROM evaluations_evaluation e JOIN orgs_org o ON o.id = e.org_id WHERE e.campaign_id = %s",
        [campaign.pk],
        parent,
    )


def naive_registered(parent) -> Callable[[], list]:
    return _naive(
        "FROM members_member e JOIN orgs_org o ON o.id = e.org_id "
        "WHERE e.registered_at IS NOT NULL AND e.status = 'active'",
        [],
        parent,
    )


def _naive(source: str, params: list, parent) -> Callable[[], list]:
    """Count per direct sub-unit from the rows themselves, by the unions' path prefixes."""
    from django.db import connection

    from orgs.selectors import next_path

    upper = next_path(parent.path)
    head, where = source.split(" WHERE ", 1)
    query = (
        f"SELECT c.id, count(*) {head} JOIN orgs_org c ON c.path = left(o.path, %s) "
        f"WHERE {where} AND o.path >= %s" + (" AND o.path < %s" if upper else "")
    ) + " GROUP BY c.id"
    params = [(parent.depth + 1) * 4, *params, parent.path, *([upper] if upper else [])]

    def run() -> list:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    run.sql, run.params = query, params
    return run


def time_bulletin(w: dict, timer: "Timer") -> None:
    """The week before's bulletin is built once, then the timed week's rebuilt N times.

    build_bulletin returns a published bulletin as it is, so each run first deletes the timed
    week's (outside the timing).
    """
    try:
        from reports.bulletins import build_bulletin
    except ImportError:
        print("\nbulletin: reports.bulletins.build_bulletin does not exist yet: not timed")
        return
    from reports.models import Bulletin

    campaign, root = w["campaign"], w["root"]
    Bulletin.objects.filter(campaign=campaign, org=root).delete()  # a --reuse run's
    start = time.perf_counter()
    build_bulletin(campaign=campaign, org=root, cutoff=CUTOFF - timedelta(days=7))
    print(
        f"  first bulletin (cut-off a week earlier) {(time.perf_counter() - start) * 1000:.1f} ms"
    )

    def drop():
        Bulletin.objects.filter(campaign=campaign, org=root, cutoff=CUTOFF).delete()

    timer.time(
        f"build_bulletin(cut-off {CUTOFF:%Y-%m-%d} 00:00)",
        "root",
        lambda: build_bulletin(campaign=campaign, org=root, cutoff=CUTOFF),
        setup=drop,
    )
    # The formats are drawn from the stored snapshot when downloaded.
    from reports import bulletin_formats

    data = Bulletin.objects.get(campaign=campaign, org=root, cutoff=CUTOFF).data
    for fmt in ("xlsx", "docx", "pdf"):
        draw = getattr(bulletin_formats, f"bulletin_{fmt}", None)
        if draw is not None:
            timer.time(f"bulletin_{fmt}(data)", "root", lambda draw=draw: draw(data))


def explain(title: str, sql: str, params=None, *, full: bool) -> None:
    """EXPLAIN (ANALYZE, BUFFERS): the top node, how each table is read, buffers and time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    summary = [plan[0]]
    summary += [line.strip() for line in plan[1:] if " Scan " in line or " Scan on " in line]
    summary += [next((line.strip() for line in plan if "Buffers:" in line), "")]
    summary += [line for line in plan if line.startswith("Execution Time")]
    print(f"\n  {title}: {sql[:160]}…")
    for line in plan if full else [line for line in summary if line]:
        print(f"    {line}")


def explain_all(w: dict, *, full: bool) -> None:
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the queries progress_table(root) runs:")
    for i, q in enumerate(w["progress_queries"], start=1):
        if q["sql"].lstrip().upper().startswith("SELECT"):
            explain(f"query {i}", q["sql"], full=full)
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the naive GROUP BY, root:")
    for label, run in w["naive"].items():
        explain(label, run.sql, run.params, full=full)


# ---------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    print(
        f"pingyi progress-scale benchmark on {connection.vendor} "
        f"({connection.settings_dict['NAME']}), scale {args.scale:g}: {args.orgs:,} orgs, "
        f"{args.members:,} members, {args.evaluations:,} evaluations"
    )
    steps = Steps()
    if args.reuse:  # migrations added since the kept database was loaded
        from django.core.management import call_command

        steps.run("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))
        if args.reload_counters:
            reload_counters(args, steps)
    else:
        print("\nload:")
        load(args, steps)
        if args.python_counters or args.scale <= 0.1:
            python_counters(steps)
        print(f"  {'load in all':<48} {time.perf_counter() - steps.started:8.1f} s")
    w = world(args)
    timer = measure(w, args)
    time_bulletin(w, timer)
    timer.print()
    explain_all(w, full=args.plans)
    print(f"\ntotal {time.perf_counter() - steps.started:.0f} s")


if __name__ == "__main__":
    main()
