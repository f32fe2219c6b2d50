"""Time what admin pages ask of the union tree at province scale (150,000 orgs).

Builds a province tree in its own database (a temporary SQLite file, or the PostgreSQL
database `pingyi_bench` with --postgres or DATABASE_URL), then times the scoping and figure
reads every console page makes. Never touches the development database under ./var.

    .venv/bin/python benchmarks/org_tree.py                 # SQLite in a temporary file
    .venv/bin/python benchmarks/org_tree.py --postgres      # PostgreSQL, database pingyi_bench
"""

import argparse
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable

from _scratch import scratch_database

YEAR = 2022
BATCH = 5000

# The thirteen cities of a province (Jiangsu's, so the figures read like the real thing).
CITIES = [
    "南京",
    "无锡",
    "徐州",
    "常州",
    "苏州",
    "南通",
    "连云港",
    "淮安",
    "盐城",
    "扬州",
    "镇江",
    "泰州",
    "宿迁",
]
COUNTIES = 95
# Kinds of the units under a county, with their weights: (kind, name suffix, weight).
MID_KINDS = [
    ("town", "镇工会", 50),
    ("park", "园区工会", 15),
    ("sector", "行业工会", 15),
    ("agency", "局机关工会", 20),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL")
    parser.add_argument("--orgs", type=int, default=150_000, help="orgs in the tree")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (best kept)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args()


# ---------------------------------------------------------------- the tree


def path_step(n: int, alphabet: str, steplen: int) -> str:
    """Treebeard's MP_Node step: n in the alphabet's base, left-padded with its zero."""
    base = len(alphabet)
    digits = ""
    while n:
        n, rem = divmod(n, base)
        digits = alphabet[rem] + digits
    return digits.rjust(steplen, alphabet[0])


def split_evenly(total: int, weights: list[int]) -> list[int]:
    """Share total among weights (largest remainder), at least one each."""
    spare = total - len(weights)
    exact = [spare * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: spare - sum(shares)]:
        shares[i] += 1
    return [s + 1 for s in shares]


class TreeBuilder:
    """Lays out the province tree with materialized paths and bulk-inserts it."""

    def __init__(self, *, total: int, seed: int):
        from orgs.models import Org

        self.Org = Org
        self.total = total
        self.rng = random.Random(seed)
        self.step = lambda n: path_step(n, Org.alphabet, Org.steplen)

    def org(self, parent_path: str, seq: int, *, code: str, name: str, kind: str, numchild: int):
        """The seq-th child of the node at parent_path ("" for a root), unsaved."""
        path = parent_path + self.step(seq)
        depth = len(path) // self.Org.steplen
        return self.Org(
            path=path, depth=depth, numchild=numchild, code=code, name=name, kind=kind, seq=seq
        )

    def build(self) -> dict:
        rng = self.rng
        counties_per_city = split_evenly(COUNTIES, [1] * len(CITIES))
        rng.shuffle(counties_per_city)
        mids_per_county = [rng.randint(12, 28) for _ in range(COUNTIES)]
        grassroots_total = self.total - 1 - len(CITIES) - COUNTIES - sum(mids_per_county)
        if grassroots_total < sum(mids_per_county):
            raise SystemExit(f"--orgs {self.total} is too small for a province tree")
        per_mid = iter(
            split_evenly(
                grassroots_total, [rng.randint(10, 150) for _ in range(sum(mids_per_county))]
            )
        )
        mids_left = iter(mids_per_county)

        root = self.org(
            "", 1, code="B32", name="江苏省总工会", kind="federation", numchild=len(CITIES)
        )
        upper, mids = [root], []  # mids: (unit, grassroots unions below it)
        for c, city_name in enumerate(CITIES, start=1):
            city = self.org(
                root.path,
                c,
                code=f"B32-{c:02d}",
                name=f"{city_name}市总工会",
                kind="federation",
                numchild=counties_per_city[c - 1],
            )
            upper.append(city)
            for k in range(1, city.numchild + 1):
                county_name = f"{city_name}第{k}县(市、区)"
                county = self.org(
                    city.path,
                    k,
                    code=f"{city.code}-{k:02d}",
                    name=f"{county_name}总工会",
                    kind="federation",
                    numchild=next(mids_left),
                )
                upper.append(county)
                for m in range(1, county.numchild + 1):
                    kind, suffix = self.pick_mid_kind()
                    mid = self.org(
                        county.path,
                        m,
                        code=f"{county.code}-{m:03d}",
                        name=f"{county_name}{m}号{suffix}",
                        kind=kind,
                        numchild=next(per_mid),
                    )
                    upper.append(mid)
                    mids.append(mid)

        self.Org.objects.bulk_create(upper, batch_size=BATCH)
        self.insert_grassroots(mids)
        return {"upper": len(upper), "grassroots": grassroots_total}

    def pick_mid_kind(self) -> tuple[str, str]:
        kind, suffix, _weight = self.rng.choices(MID_KINDS, weights=[w for *_, w in MID_KINDS])[0]
        return kind, suffix

    def insert_grassroots(self, mids: list) -> None:
        """Grassroots unions and their reported members, batch by batch to keep memory flat."""
        batch = []
        for mid in mids:
            for g in range(1, mid.numchild + 1):
                code = f"{mid.code}-{g:04d}"
                batch.append(
                    self.org(
                        mid.path,
                        g,
                        code=code,
                        name=f"基层工会{code.removeprefix('B32-')}",
                        kind="grassroots",
                        numchild=0,
                    )
                )
                if len(batch) >= BATCH:
                    self.flush(batch)
                    batch = []
        self.flush(batch)

    def flush(self, batch: list) -> None:
        from orgs.models import ReportedMembers

        created = self.Org.objects.bulk_create(batch)
        ReportedMembers.objects.bulk_create(
            [
                ReportedMembers(org_id=o.pk, year=YEAR, count=self.reported_members())
                for o in created
            ]
        )

    def reported_members(self) -> int:
        # Most grassroots unions are small; a few enterprises are large.
        return min(5000, max(3, int(self.rng.lognormvariate(3.6, 1.0))))


def check_tree(*, county) -> None:
    """Depth and child counts of every node agree with the paths; treebeard agrees on a county."""
    from orgs.models import Org

    steplen = Org.steplen
    rows = list(Org.objects.values_list("path", "depth", "numchild"))
    children = Counter(path[:-steplen] for path, _, _ in rows if len(path) > steplen)
    bad = [
        path
        for path, depth, numchild in rows
        if depth != len(path) // steplen or numchild != children.get(path, 0)
    ]
    if bad:
        raise SystemExit(f"tree is broken at {len(bad)} nodes, e.g. {bad[:3]}")
    problems = Org.objects.find_problems(parent=county)
    if any(problems):
        raise SystemExit(f"treebeard finds problems under {county}: {problems}")


# ---------------------------------------------------------------- timing


class Results:
    def __init__(self, runs: int):
        self.runs = runs
        self.rows: list[tuple[str, str, float, float, int]] = []

    def time(
        self, label: str, fn: Callable[..., object], setup: Callable[[], tuple] = tuple
    ) -> object:
        """Best and median of N runs in ms, and the queries one run makes."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        args = setup()
        with CaptureQueriesContext(connection) as queries:
            result = fn(*args)
        elapsed = []
        for _ in range(self.runs):
            args = setup()
            start = time.perf_counter()
            fn(*args)
            elapsed.append((time.perf_counter() - start) * 1000)
        self.rows.append(
            (label, describe(result), min(elapsed), statistics.median(elapsed), len(queries))
        )
        return result

    def print(self) -> None:
        head = ("measure", "result", "best ms", "median ms", "queries")
        width = max(len(r[0]) for r in self.rows)
        res_width = max(len(head[1]), *(len(r[1]) for r in self.rows))
        print(
            f"{head[0]:<{width}}  {head[1]:>{res_width}}  {head[2]:>9}  {head[3]:>9}  {head[4]:>7}"
        )
        print("-" * (width + res_width + 34))
        for label, result, best, median, queries in self.rows:
            print(
                f"{label:<{width}}  {result:>{res_width}}  {best:9.1f}  {median:9.1f}  {queries:7d}"
            )


def describe(result: object) -> str:
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, int):
        return f"{result:,}"
    if hasattr(result, "__len__"):
        return f"{len(result):,} rows"
    return ""


# How each table is read: PostgreSQL's "Seq Scan" and SQLite's "SCAN" read every row (or every
# entry of an index); the others look rows up through an index.
PLAN_ACCESS = [
    re.compile(
        r"(Seq Scan|(?<!Bitmap )Index(?: Only)? Scan|Bitmap Heap Scan)(?: using \w+)? on (\w+)"
    ),
    re.compile(r"\b(SCAN|SEARCH) (\w+)"),
]


def explain(label: str, queryset) -> None:
    """Print the plan and, per table, whether it is read through an index or in full."""
    plan = queryset.explain()
    access = {}
    for how, table in (m for pattern in PLAN_ACCESS for m in pattern.findall(plan)):
        access[table] = "FULL SCAN" if how in {"Seq Scan", "SCAN"} else "index"
    print(f"\n{label}: " + ", ".join(f"{table} by {how}" for table, how in access.items()))
    for line in plan.splitlines():
        print(f"    {line}")


# ---------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from orgs.selectors import within

    print(
        f"pingyi org-tree benchmark on {connection.vendor} ({connection.settings_dict['NAME']}), "
        f"{args.orgs:,} orgs, best of {args.runs}"
    )
    started = time.perf_counter()
    world = build_world(args)
    measure(world, runs=args.runs)
    Org, ReportedMembers = world["Org"], world["ReportedMembers"]
    for label in ("county", "city"):
        subtree = Org.objects.filter(within(world[label]))
        explain(f"EXPLAIN subtree of a {label}", subtree)
    explain(
        "EXPLAIN reported members of a county",
        ReportedMembers.objects.filter(within(world["county"], "org__path"), year=YEAR),
    )
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


def build_world(args: argparse.Namespace) -> dict:
    """Migrate, insert the tree, add a campaign and three admins; print what was built."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Role, RoleKind, User
    from campaigns.services import create_campaign
    from orgs.models import Org, ReportedMembers
    from orgs.selectors import children_of, within

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter()
    with transaction.atomic():
        shape = TreeBuilder(total=args.orgs, seed=args.seed).build()
    built = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have done on a live database

    tz = ZoneInfo("Asia/Shanghai")
    root = Org.objects.get(depth=1)
    campaign = create_campaign(
        org=root,
        name=f"{YEAR}年会员网上评议",
        year=YEAR,
        starts_at=datetime(YEAR, 9, 1, tzinfo=tz),
        ends_at=datetime(YEAR, 11, 30, 23, 59, 59, tzinfo=tz),
    )
    city = Org.objects.get(code="B32-10")  # 扬州
    county = children_of(city).last()
    check_tree(county=county)
    checked = time.perf_counter()

    world = {
        "Org": Org,
        "ReportedMembers": ReportedMembers,
        "campaign": campaign,
        "root": root,
        "city": city,
        "county": county,
        "leaf": Org.objects.filter(within(county), depth=5).order_by("path").last(),
        "far_leaf": Org.objects.filter(depth=5).order_by("path").first(),
        "admins": {},
    }
    for level in ("root", "city", "county"):
        user = User.objects.create_user(username=f"bench_{level}", password=None)
        Role.objects.create(user=user, org=world[level], kind=RoleKind.FEDERATION_ADMIN)
        world["admins"][level] = user.pk

    mids = shape["upper"] - 1 - len(CITIES) - COUNTIES
    print(
        f"tree: 1 province, {len(CITIES)} cities, {COUNTIES} counties, "
        f"{mids:,} towns/parks/sectors/agencies, {shape['grassroots']:,} grassroots unions "
        f"({ReportedMembers.objects.count():,} reported-members rows)"
    )
    city_size = Org.objects.filter(within(city)).count()
    county_size = Org.objects.filter(within(county)).count()
    print(
        f"city {city} has {city_size:,} orgs; county {county} has {county_size:,}; "
        f"deep leaf {world['leaf']}"
    )
    print(
        f"build: migrate {migrated - started:.1f} s, insert {built - migrated:.1f} s, "
        f"campaign + checks {checked - built:.1f} s\n"
    )
    return world


def measure(world: dict, *, runs: int) -> None:
    """Time the reads console pages make, each as a page would make it."""
    from accounts.models import User
    from campaigns.rollups import rebuild_rollups, subtree_figures
    from campaigns.selectors import unit_table
    from campaigns.services import record_reported_members, set_manual_target
    from orgs.scoping import in_scope, orgs_in_scope, restrict_to_scope
    from orgs.selectors import ancestors_of, children_of

    Org, ReportedMembers = world["Org"], world["ReportedMembers"]
    campaign, root, county = world["campaign"], world["root"], world["county"]
    leaf, far_leaf = world["leaf"], world["far_leaf"]

    def fresh(level: str):
        """Each request loads its user anew, so the role lookup is part of every timing."""
        return lambda: (User.objects.get(pk=world["admins"][level]),)

    r = Results(runs)
    for level in ("root", "city", "county"):
        r.time(
            f"orgs_in_scope({level} admin).count()",
            lambda u: orgs_in_scope(u).count(),
            fresh(level),
        )
    for level in ("root", "city", "county"):
        r.time(
            f"restrict_to_scope(ReportedMembers, {level} admin).count()",
            lambda u: restrict_to_scope(ReportedMembers.objects.all(), u).count(),
            fresh(level),
        )
    r.time("children_of(root)", lambda: list(children_of(root)))
    r.time("children_of(county)", lambda: list(children_of(county)))
    for level in ("county", "city", "root"):
        r.time(
            f"subtree_figures({level})",
            lambda org: subtree_figures(campaign=campaign, root=org),
            lambda level=level: (world[level],),
        )
    for level in ("root", "city", "county"):
        r.time(
            f"unit_table({level}) from stored rollups",
            lambda org: unit_table(campaign=campaign, parent=org).rows,
            lambda level=level: (world[level],),
        )
    r.time(
        "record_reported_members(deep leaf) + refresh",
        lambda: record_reported_members(org=leaf, year=campaign.year, count=123),
    )
    r.time(
        "set_manual_target(county) + refresh",
        lambda: set_manual_target(campaign=campaign, org=county, value=4321),
    )
    r.time("in_scope(county admin, own leaf)", lambda u: in_scope(u, leaf), fresh("county"))
    r.time("in_scope(county admin, other city)", lambda u: in_scope(u, far_leaf), fresh("county"))
    r.time(
        "in_scope × 1,000 (one request)",
        lambda u: sum(in_scope(u, o) for o in [leaf, far_leaf] * 500),
        fresh("county"),
    )
    r.time("ancestors_of(deep leaf)", lambda: ancestors_of(leaf))
    # For comparison: the subtree as LIKE 'prefix%', which SQLite cannot serve from an index.
    r.time(
        "(compare) subtree(county) by LIKE prefix, count",
        lambda: Org.objects.filter(path__startswith=county.path).count(),
    )
    r.print()
    started = time.perf_counter()
    stored = rebuild_rollups(campaign=campaign)
    print(f"\nrebuild_rollups(campaign): {stored:,} rows in {time.perf_counter() - started:.1f} s")
    figures = subtree_figures(campaign=campaign, root=root)[root.pk]
    print(f"root figures: reported {figures.reported:,}, target {figures.target:,}")


if __name__ == "__main__":
    main()
