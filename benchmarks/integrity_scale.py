"""Time the integrity scan (异常评议核查) at province scale (PostgreSQL), and check what it finds.

Builds progress_scale.py's province in a database of its own (`pingyi_bench_integrity`: 150,000
orgs, 10 million members, 5 million evaluations, with counters), gives every evaluation an
ordinary trace (its member's own address and device, a minute or two on the form), then plants
fabrication in PLANTED grassroots unions: 20 accounts each registered and rated one after another
from one office computer at night. Then times:

- the scan (`scan_now`: one pass over the 5 million evaluations and their traces, the grouped
  suggestions, storing the findings), with its peak memory;
- the review pages' reads: the root's flagged units, a flagged union's findings and rows;
- excluding a planted burst, and the progress table that then reads the exclusion counters;

and checks recall (every planted union flagged) and false alarms (unions flagged without a
plant). `--scale 0.01` builds a hundredth of everything (~40 s).

    .venv/bin/python benchmarks/integrity_scale.py               # 5 million evaluations
    .venv/bin/python benchmarks/integrity_scale.py --scale 0.01  # a quick look
"""

import argparse
import resource
import statistics
import sys
import time
from datetime import timedelta

import progress_scale
from _scratch import scratch_database

PLANTED = 50
PER_UNION = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the page reads")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="scan the database a --keep run left (no load)"
    )
    parser.add_argument("--database", default="pingyi_bench_integrity")
    own = parser.parse_args()
    # progress_scale's own arguments give the province's sizes and its loader's settings.
    sys.argv = [
        "progress_scale.py",
        "--scale",
        str(own.scale),
        "--database",
        own.database,
        *(["--keep"] if own.keep else []),
        *(["--reuse"] if own.reuse else []),
    ]
    args = progress_scale.parse_args()
    args.runs = own.runs
    return args


def sql(statement: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def add_traces(steps) -> None:
    """An ordinary trace for every evaluation: the member's own address (one per member, in a
    carrier's prefix), their own device key, 60–180 s on the form."""
    steps.run(
        "traces (INSERT … SELECT)",
        lambda: sql(
            "INSERT INTO evaluations_submissiontrace "
            "(evaluation_id, address, device, device_key, form_opened_at) "
            "SELECT e.id, "
            "('112.' || (e.member_id %% 250 + 1) || '.' || (e.member_id / 250 %% 256) || '.' "
            "|| (e.member_id / 64000 %% 254 + 1))::inet, "
            "substr(md5('ua' || (e.member_id %% 12)), 1, 32), "
            "substr(md5('device' || e.member_id), 1, 32), "
            "e.submitted_at - ((60 + e.id %% 121) * interval '1 second') "
            "FROM evaluations_evaluation e"
        ),
    )
    steps.run("ANALYZE traces", lambda: sql("ANALYZE evaluations_submissiontrace"))


def plant(steps, campaign) -> set[int]:
    """PLANTED unions with PER_UNION evaluations each moved to one night, 40 s apart, from one
    office address and device, each account registered 25 s before."""
    from evaluations.models import Evaluation
    from orgs.models import Org, OrgKind

    unions = list(
        Org.objects.filter(kind=OrgKind.GRASSROOTS)
        .order_by("?")
        .values_list("pk", flat=True)[: PLANTED * 5]
    )
    chosen: set[int] = set()
    night = progress_scale.ENDS - timedelta(days=3, hours=2)

    def run() -> int:
        moved = 0
        for union in unions:
            ids = list(
                Evaluation.objects.filter(campaign=campaign, org_id=union)
                .order_by("pk")
                .values_list("pk", "member_id")[:PER_UNION]
            )
            if len(ids) < PER_UNION:
                continue
            for i, (pk, member) in enumerate(ids):
                at = night + timedelta(minutes=len(chosen) * 20, seconds=40 * i)
                sql("UPDATE evaluations_evaluation SET submitted_at = %s WHERE id = %s", [at, pk])
                sql(
                    "UPDATE members_member SET registered_at = %s WHERE id = %s",
                    [at - timedelta(seconds=25), member],
                )
                sql(
                    "UPDATE evaluations_submissiontrace SET address = %s, device_key = %s, "
                    "form_opened_at = %s WHERE evaluation_id = %s",
                    [
                        f"58.221.{len(chosen)}.18",
                        f"office{union:026d}",
                        at - timedelta(seconds=8),
                        pk,
                    ],
                )
                moved += 1
            chosen.add(union)
            if len(chosen) == PLANTED:
                break
        return moved

    steps.run(f"plant {PLANTED} unions × {PER_UNION}", run)
    return chosen


def timed(label: str, fn, runs: int) -> object:
    times, result = [], None
    for _i in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    print(f"  {label:<52} median {statistics.median(times):9.1f} ms   max {max(times):9.1f} ms")
    return result


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from campaigns.models import Campaign
    from evaluations.exclusions import exclude_evaluations, restore_evaluations
    from evaluations.integrity import scan_now
    from evaluations.models import Evaluation, Finding, FindingEvaluation
    from evaluations.review import overview, union_detail
    from orgs.models import Org
    from reports.figures import progress_table

    print(
        f"pingyi integrity-scale benchmark on {connection.vendor} "
        f"({connection.settings_dict['NAME']}), scale {args.scale:g}: {args.orgs:,} orgs, "
        f"{args.members:,} members, {args.evaluations:,} evaluations"
    )
    steps = progress_scale.Steps()
    if args.reuse:
        from django.core.management import call_command

        steps.run("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))
    else:
        print("\nload:")
        progress_scale.load(args, steps)
    campaign = Campaign.objects.get()
    if args.reuse:
        planted = set(
            Evaluation.objects.filter(trace__address__startswith="58.221.")
            .values_list("org_id", flat=True)
            .distinct()
        )
    else:
        add_traces(steps)
        planted = plant(steps, campaign)

    print("\nscan:")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    run_ = scan_now(campaign=campaign)
    seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = run_.stats
    print(f"  status {run_.status} {run_.error}")
    print(
        f"  scan_now: {seconds:.1f} s for {stats['evaluations']:,} evaluations "
        f"({stats['evaluations'] / seconds:,.0f} a second), peak RSS {rss_after / 1024:,.0f} MB "
        f"(before {rss_before / 1024:,.0f} MB)"
    )
    flagged = set(Finding.objects.filter(run=run_).values_list("org_id", flat=True))
    print(
        f"  findings {stats['findings']:,}, flagged unions {len(flagged):,}, "
        f"flagged evaluations {stats['flagged_evaluations']:,}"
    )
    print(
        f"  planted unions flagged: {len(planted & flagged)} of {len(planted)}; "
        f"flagged without a plant: {len(flagged - planted)}"
    )

    print("\nreview pages and exclusion:")
    root = campaign.org
    union = Org.objects.get(pk=min(planted))
    timed("overview(root): flagged units", lambda: overview(campaign=campaign, org=root), args.runs)
    timed(
        "union_detail(planted union)",
        lambda: union_detail(campaign=campaign, union=union),
        args.runs,
    )
    burst = Evaluation.objects.filter(
        pk__in=FindingEvaluation.objects.filter(finding__run=run_, finding__org=union).values(
            "evaluation_id"
        )
    )
    actor = _reviewer(root)
    start = time.perf_counter()
    n = exclude_evaluations(campaign=campaign, evaluations=burst, actor=actor, reason="bench")
    elapsed = (time.perf_counter() - start) * 1000
    print(f"  {'exclude_evaluations (one burst)':<52} {elapsed:9.1f} ms ({n} evaluations)")
    table = timed(
        "progress_table(root) with exclusion counters",
        lambda: progress_table(campaign=campaign, parent=root),
        args.runs,
    )
    print(f"  root: evaluated {table.total.evaluated:,}, excluded {table.total.excluded:,}")
    restore_evaluations(campaign=campaign, evaluations=burst, actor=actor, reason="bench")
    print(f"\ntotal {time.perf_counter() - steps.started:.0f} s")


def _reviewer(root):
    from accounts.models import Role, RoleKind, User

    user, _created = User.objects.get_or_create(username="bench_reviewer")
    Role.objects.get_or_create(user=user, org=root, kind=RoleKind.FEDERATION_ADMIN)
    return user


if __name__ == "__main__":
    main()
