"""Does a province's rush queue on the root's counter? Submissions in parallel threads (PostgreSQL).

Every submission adds one to its union's daily count and to each ancestor's, the root's
included (evaluations.counters). This script builds a tree (root → cities → counties →
grassroots unions), registers members spread over the unions, and submits evaluations from
--threads threads at once through `submit_evaluation`, first with one counter row per org and
day (PINGYI_COUNTER_SHARDS=1: every submission waits for the root's row), then with the default
shards. It prints submissions per second and latency percentiles for each, then checks that
the counters equal a recount.

On one machine the statements after the counter's increment (the trace, the commit) take well
under a millisecond, so the root's row is held only briefly and the Python threads, not the
lock, set the pace. Between an app server and a database server each of them costs a network
round trip: --hold-ms adds that much time after the increment, inside the transaction, to show
what then happens to one shared row.

    .venv/bin/python benchmarks/counter_contention.py
    .venv/bin/python benchmarks/counter_contention.py --threads 16 --members 4000 --shards 1 8 32
"""

import argparse
import statistics
import threading
import time
from datetime import timedelta

from _scratch import scratch_database


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8, help="submitting threads")
    parser.add_argument("--members", type=int, default=1000, help="submissions per setting")
    parser.add_argument("--unions", type=int, default=300, help="grassroots unions")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 8], help="settings to compare")
    parser.add_argument(
        "--hold-ms",
        type=float,
        nargs="+",
        default=[0, 20],
        help="extra time the counter rows stay locked (network round trips in production)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    args.postgres = True
    args.database = "pingyi_bench_counters"
    return args


def build(args):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.services import create_campaign
    from members.crypto import lookup_hash
    from members.models import Member
    from orgs.models import OrgKind
    from orgs.services import create_child_org, create_root_org

    root = create_root_org(name="江苏省总工会", code="320000")
    cities = [create_child_org(parent=root, name=f"市{i}", kind=OrgKind.TOWN) for i in range(4)]
    counties = [
        create_child_org(parent=city, name=f"{city.name}县{j}", kind=OrgKind.TOWN)
        for city in cities
        for j in range(5)
    ]
    unions = [
        create_child_org(
            parent=counties[k % len(counties)], name=f"基层工会{k}", kind=OrgKind.GRASSROOTS
        )
        for k in range(args.unions)
    ]
    now = timezone.now()
    campaign = create_campaign(
        org=root,
        name="并发计数测试",
        year=2022,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )
    User = get_user_model()
    total = args.members * len(args.shards) * len(args.hold_ms)
    users = User.objects.bulk_create(
        [User(username=f"m-bench-{n}", password="!") for n in range(total)], batch_size=5000
    )
    members = Member.objects.bulk_create(
        [
            Member(
                org=unions[n % len(unions)],
                name="测试会员",
                id_cipher="-",
                id_hash=lookup_hash("id", f"bench-{n}"),
                id_masked="3200**********0000",
                sex="F",
                birth_date="1990-01-01",
                user=user,
                registered_at=now - timedelta(days=2),
            )
            for n, user in enumerate(users)
        ],
        batch_size=5000,
    )
    return campaign, [m.pk for m in members]


def holding_counters(hold_ms: float):
    """Make every increment keep its rows locked hold_ms longer, as remote round trips would."""
    from django.db import connection

    from evaluations import counters

    original = counters.add_submission

    def add_and_hold(**kwargs):
        original(**kwargs)
        if hold_ms:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [hold_ms / 1000])

    counters.add_submission = add_and_hold
    return original


def run(campaign, member_ids, threads: int) -> tuple[float, list[float]]:
    from django.db import connection

    from evaluations.services import Answers, submit_evaluation
    from members.models import Member

    queue = list(member_ids)
    lock = threading.Lock()
    latencies: list[float] = []
    start_line = threading.Barrier(threads)

    def worker():
        start_line.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    member_id = queue.pop()
                member = Member.objects.select_related("org").get(pk=member_id)
                began = time.perf_counter()
                submit_evaluation(
                    member=member, campaign=campaign, answers=Answers(overall=4, ratings={})
                )
                latencies.append(time.perf_counter() - began)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    args = parse_args()
    with scratch_database(args):
        from django.conf import settings
        from django.core.management import call_command

        from evaluations import counters

        call_command("migrate", verbosity=0)
        campaign, member_ids = build(args)
        print(
            f"{args.members:,} submissions per setting, {args.threads} threads, "
            f"{args.unions} unions under one root (PostgreSQL)"
        )
        print(
            f"{'held ms':>8} {'shards':>7} {'subm/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        )
        from evaluations import counters as counters_module

        settings_runs = [(hold, shards) for hold in args.hold_ms for shards in args.shards]
        original = counters_module.add_submission
        for n, (hold, shards) in enumerate(settings_runs):
            settings.PINGYI_COUNTER_SHARDS = shards
            holding_counters(hold)
            batch = member_ids[n * args.members : (n + 1) * args.members]
            elapsed, latencies = run(campaign, batch, args.threads)
            counters_module.add_submission = original
            print(
                f"{hold:>8g} {shards:>7} {len(latencies) / elapsed:>8.0f} "
                f"{statistics.median(latencies) * 1000:>8.1f} "
                f"{percentile(latencies, 0.95) * 1000:>8.1f} "
                f"{percentile(latencies, 0.99) * 1000:>8.1f}"
            )
        drift = counters.recount(campaign)
        print("counters equal a recount" if not drift else f"{len(drift)} counters DIFFER")


if __name__ == "__main__":
    main()
