"""The progress figures every page, export, bulletin and benchmark shares, read from the counters.

One `UnitProgress` per org: reported members and target from the stored rollups
(campaigns/rollups.py), registered members from the registration counters (members/counters.py),
evaluations from the per-day evaluation counters (evaluations/counters.py) less those excluded
after integrity review (evaluations/exclusions.py, shown as `excluded`). `progress_table`
answers for a parent and its direct sub-units in a handful of queries whatever the size of the
subtree (children, rollups, one SUM over the evaluation counters, one over the exclusion
counters, one over the registration counters): it never counts Evaluation or Member rows.

`until` is a local (Asia/Shanghai) day: figures are those at the end of that day. None means now
(today, capped at the campaign window's last day). An evaluation counts for the union its member
belonged to when it was submitted (DESIGN.md), so a later transfer moves nothing.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.selectors import stored_figures
from evaluations.counters import excluded_by_day, excluded_sums
from evaluations.models import DailyCount
from members.counters import registered_counts
from orgs.models import Org
from orgs.selectors import children_of


def _ratio(numerator: int, denominator: int | None) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class UnitProgress:
    org: Org
    reported: int | None  # 年报工会会员人数 (rollup)
    target: int | None  # 参评目标工会会员数 (rollup)
    registered: int  # 已注册, at the end of `until`
    evaluated: int  # 已评议, at the end of `until`: excluded evaluations already taken out
    week_new: int  # 本周新增: evaluations from the Monday of `until`'s week through `until`
    # 已剔除: evaluations of the subtree up to `until` that an integrity reviewer excluded
    # (evaluations.exclusions); they are not in `evaluated`, `week_new` or any rate.
    excluded: int = 0
    rank: int | None = None  # among siblings by completion, best 1, ties share; no target: None
    behind: bool = False  # completion below the expected share (elapsed share × pace)

    @property
    def completion(self) -> float | None:
        """完成率: evaluated ÷ target."""
        return _ratio(self.evaluated, self.target)

    @property
    def participation(self) -> float | None:
        """参评率: evaluated ÷ reported members."""
        return _ratio(self.evaluated, self.reported)

    @property
    def registration_rate(self) -> float | None:
        """注册率: registered ÷ reported members."""
        return _ratio(self.registered, self.reported)


@dataclass
class ProgressTable:
    campaign: Campaign
    parent: Org
    until: date
    week_start: date
    elapsed_share: float  # share of the campaign window passed at the end of `until` (0..1)
    pace: float  # 1.0: exactly on pace; 0.9: 90% of the time share is expected
    total: UnitProgress  # the parent's own (subtree) figures
    rows: list[UnitProgress] = field(default_factory=list)  # direct sub-units, in the org's order

    @property
    def expected(self) -> float:
        """The completion a unit should have reached by now; below it, a unit is behind."""
        return self.elapsed_share * self.pace


# The campaign window in local days


def window_days(campaign: Campaign) -> tuple[date, date]:
    """First and last local day of the window (ends_at is exclusive)."""
    first = timezone.localtime(campaign.starts_at).date()
    last = timezone.localtime(campaign.ends_at - timedelta(microseconds=1)).date()
    return first, last


def resolve_until(campaign: Campaign, until: date | None) -> date:
    """None → today (Asia/Shanghai), capped at the window's last day."""
    if until is not None:
        return until
    return min(timezone.localdate(), window_days(campaign)[1])


def elapsed_share(campaign: Campaign, until: date) -> float:
    """Share of the window passed at the end of the local day `until` (0..1)."""
    end_of_day = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    span = (campaign.ends_at - campaign.starts_at).total_seconds()
    passed = (min(end_of_day, campaign.ends_at) - campaign.starts_at).total_seconds()
    return max(0.0, min(1.0, passed / span)) if span > 0 else 1.0


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# Figures


def _evaluation_sums(
    campaign: Campaign, org_ids: list[int], until: date, week_start: date
) -> dict[int, tuple[int, int]]:
    """org → (evaluated up to `until`, evaluated from `week_start` through `until`): one query."""
    rows = (
        DailyCount.objects.filter(campaign=campaign, org_id__in=org_ids, day__lte=until)
        .values_list("org_id")
        .annotate(total=Sum("count"), week=Sum("count", filter=Q(day__gte=week_start)))
        .order_by()
    )
    return {org_id: (total or 0, week or 0) for org_id, total, week in rows}


def share_ranks(values: list) -> list[int | None]:
    """Best (highest) value 1; equal values share a rank (1, 1, 3); no value, no rank."""
    ranks: list[int | None] = [None] * len(values)
    order = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: -values[i])
    previous, rank = None, 0
    for position, i in enumerate(order, start=1):
        if values[i] != previous:
            rank, previous = position, values[i]
        ranks[i] = rank
    return ranks


def rank_units(units: list[UnitProgress]) -> None:
    """Rank by completion, best 1; equal completions share a rank (1, 1, 3); no target: None."""
    for unit, rank in zip(units, share_ranks([u.completion for u in units]), strict=True):
        unit.rank = rank


def progress_table(
    *, campaign: Campaign, parent: Org, until: date | None = None, pace: float = 1.0
) -> ProgressTable:
    """The parent's own figures and its direct sub-units', at the end of `until`."""
    until = resolve_until(campaign, until)
    week_start = week_start_of(until)
    children = list(children_of(parent))
    orgs = [parent, *children]
    ids = [o.pk for o in orgs]
    rollups = stored_figures(campaign=campaign, orgs=orgs)
    evaluations = _evaluation_sums(campaign, ids, until, week_start)
    exclusions = excluded_sums(campaign=campaign, org_ids=ids, until=until, since=week_start)
    registered = registered_counts(org_ids=ids, until=until)

    def unit(org: Org) -> UnitProgress:
        evaluated, week_new = evaluations.get(org.pk, (0, 0))
        excluded, excluded_this_week = exclusions.get(org.pk, (0, 0))
        figures = rollups[org.pk]
        return UnitProgress(
            org=org,
            reported=figures.reported,
            target=figures.target,
            registered=registered.get(org.pk, 0),
            evaluated=evaluated - excluded,
            week_new=week_new - excluded_this_week,
            excluded=excluded,
        )

    table = ProgressTable(
        campaign=campaign,
        parent=parent,
        until=until,
        week_start=week_start,
        elapsed_share=elapsed_share(campaign, until),
        pace=pace,
        total=unit(parent),
        rows=[unit(c) for c in children],
    )
    rank_units(table.rows)
    for u in [table.total, *table.rows]:
        u.behind = u.completion is not None and u.completion < table.expected
    return table


def cumulative_series(
    *, campaign: Campaign, org: Org, until: date | None = None
) -> list[tuple[date, int]]:
    """(day, evaluations of the org's subtree up to the end of that day) for every day of the
    window from its first day through `until` (None: today, capped at the window's last day);
    excluded evaluations are taken out from the day they were submitted."""
    first, _last = window_days(campaign)
    until = resolve_until(campaign, until)
    rows = (
        DailyCount.objects.filter(campaign=campaign, org=org, day__lte=until)
        .values_list("day")
        .annotate(total=Sum("count"))
        .order_by()
    )
    per_day = dict(rows)
    for day, n in excluded_by_day(campaign=campaign, org=org, until=until).items():
        per_day[day] = per_day.get(day, 0) - n
    # Anything counted before the window's first day (a clock skew, a back-dated import)
    # starts the curve rather than being lost.
    running = sum(n for day, n in per_day.items() if day < first)
    out = []
    day = first
    while day <= until:
        running += per_day.get(day, 0)
        out.append((day, running))
        day += timedelta(days=1)
    return out
