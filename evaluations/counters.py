"""Per-org, per-day evaluation counts, kept in the submitting transaction and recounted on demand.

Each submission adds one to its union's row and to each ancestor's row up to the campaign's org
(a union's figure includes its subtree, DESIGN.md). Each (org, day) is split over a few shard
rows and a submission picks one shard at random, so that no single row is locked by every
submission of a province. Reads sum the shards.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import Campaign
from orgs.models import Org

from .models import DailyCount, Evaluation, ExclusionCount, counter_shards


def chain_paths(campaign: Campaign, path: str) -> list[str]:
    """Paths from the campaign's org down to the org at `path`, both included, top first."""
    top = len(campaign.org.path)
    return [path[:i] for i in range(top, len(path) + 1, Org.steplen)]


def add_submission(*, campaign: Campaign, day: date, paths: list[str]) -> None:
    """Count one evaluation on `day` for the orgs at these paths (the chain, top first).

    One statement: the orgs' ids are read by the insert itself. Every row takes the same shard,
    picked at random; rows are taken in path order (root first), so two submissions never wait
    on each other in opposite orders.
    """
    table = DailyCount._meta.db_table
    org_table = Org._meta.db_table
    in_paths = ", ".join(["%s"] * len(paths))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, org_id, day, shard, count) "
            f"SELECT %s, id, %s, %s, 1 FROM {org_table} WHERE path IN ({in_paths}) "
            f"ORDER BY path "
            f"ON CONFLICT (campaign_id, org_id, day, shard) "
            f"DO UPDATE SET count = {table}.count + excluded.count",
            [campaign.pk, day, random.randrange(counter_shards()), *paths],
        )


def evaluated_counts(*, campaign: Campaign, org_ids: list[int]) -> dict[int, int]:
    """Evaluations of each org's subtree in the campaign (0 where none), those excluded after
    integrity review (evaluations.exclusions) taken out."""
    rows = (
        DailyCount.objects.filter(campaign=campaign, org_id__in=org_ids)
        .values_list("org_id")
        .annotate(total=Sum("count"))
    )
    found = dict(rows)
    excluded = excluded_counts(campaign=campaign, org_ids=org_ids)
    return {org_id: found.get(org_id, 0) - excluded[org_id] for org_id in org_ids}


def excluded_sums(
    *, campaign: Campaign, org_ids: list[int], until: date | None = None, since: date | None = None
) -> dict[int, tuple[int, int]]:
    """org → (excluded evaluations submitted up to `until`, of those submitted from `since`):
    one query over the exclusion counters; orgs without any are left out."""
    rows = ExclusionCount.objects.filter(campaign=campaign, org_id__in=org_ids)
    if until is not None:
        rows = rows.filter(day__lte=until)
    week = Sum("count", filter=Q(day__gte=since)) if since is not None else Sum("count")
    found = rows.values_list("org_id").annotate(total=Sum("count"), week=week).order_by()
    return {org_id: (total or 0, w or 0) for org_id, total, w in found if total}


def excluded_counts(*, campaign: Campaign, org_ids: list[int]) -> dict[int, int]:
    """Excluded evaluations of each org's subtree in the campaign (0 where none)."""
    found = excluded_sums(campaign=campaign, org_ids=org_ids)
    return {org_id: found.get(org_id, (0, 0))[0] for org_id in org_ids}


def excluded_by_day(*, campaign: Campaign, org: Org, until: date) -> dict[date, int]:
    """(day of submission → excluded evaluations) of an org's subtree, up to `until`."""
    rows = (
        ExclusionCount.objects.filter(campaign=campaign, org=org, day__lte=until)
        .values_list("day")
        .annotate(total=Sum("count"))
        .order_by()
    )
    return {day: n for day, n in rows if n}


def daily_series(*, campaign: Campaign, org: Org) -> list[tuple[date, int]]:
    """(day, evaluations that day) for an org's subtree, in day order, days without any left out."""
    rows = (
        DailyCount.objects.filter(campaign=campaign, org=org)
        .values_list("day")
        .annotate(total=Sum("count"))
        .order_by("day")
    )
    return list(rows)


def roll_up(campaign: Campaign, leaves: Counter) -> dict[tuple[int, date], int]:
    """(union path, day) → n counted for the union and every ancestor up to the campaign's org:
    (org id, day) → n, as the counters hold them."""
    by_path: Counter = Counter()
    for (path, day), n in leaves.items():
        for p in chain_paths(campaign, path):
            by_path[(p, day)] += n
    ids = dict(Org.objects.filter(path__in={p for p, _d in by_path}).values_list("path", "pk"))
    return {(ids[p], day): n for (p, day), n in by_path.items()}


def fresh_counts(campaign: Campaign) -> dict[tuple[int, date], int]:
    """(org, day) → evaluations, computed from the evaluations themselves."""
    by_leaf = (
        Evaluation.objects.filter(campaign=campaign)
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_default_timezone()))
        .values_list("org__path", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    leaves: Counter = Counter()
    for path, day, n in by_leaf:
        leaves[(path, day)] += n
    return roll_up(campaign, leaves)


def stored_counts(campaign: Campaign) -> dict[tuple[int, date], int]:
    rows = (
        DailyCount.objects.filter(campaign=campaign)
        .values_list("org_id", "day")
        .annotate(total=Sum("count"))
    )
    return {(org_id, day): total for org_id, day, total in rows if total}


@dataclass
class Drift:
    org_id: int
    day: date
    stored: int
    counted: int


def recount(campaign: Campaign) -> list[Drift]:
    """Every (org, day) whose stored count differs from a count of the evaluations."""
    return drifts(fresh_counts(campaign), stored_counts(campaign))


def drifts(fresh: dict, stored: dict) -> list[Drift]:
    """Every (org, day) where the stored count differs from the fresh one, by day."""
    return [
        Drift(org_id, day, stored.get((org_id, day), 0), fresh.get((org_id, day), 0))
        for org_id, day in sorted(fresh.keys() | stored.keys(), key=lambda k: (k[1], k[0]))
        if fresh.get((org_id, day), 0) != stored.get((org_id, day), 0)
    ]


@transaction.atomic
def rebuild_counts(campaign: Campaign) -> int:
    """Replace the campaign's counters by a fresh count (one shard per row). Rows stored."""
    fresh = fresh_counts(campaign)
    DailyCount.objects.filter(campaign=campaign).delete()
    created = DailyCount.objects.bulk_create(
        [
            DailyCount(campaign=campaign, org_id=org_id, day=day, shard=0, count=n)
            for (org_id, day), n in fresh.items()
        ],
        batch_size=5000,
    )
    return len(created)


def local_day(moment) -> date:
    return timezone.localtime(moment).date()
