"""Registered members per org and day, kept in the registering transaction and recounted on demand.

A member counts as registered when they have an account (`registered_at` set) and are on the
roster (status active). Registration is not bound to a campaign, so a registration adds one to
the member's union and every ancestor up to the ROOT of the tree; a registered member's move to
another union takes one from the old chain and adds one to the new on the day of the move (the
common ancestors are left alone). Registered members of an org at the end of a day are the sum of
its changes up to that day (members.models.RegistrationCount). Rows are sharded like the
evaluation counters (evaluations/counters.py) so that registrations do not queue on the root.

`rebuild_registration_counts` recomputes the counters from the members as they are now: each
registered member counts for their CURRENT union from their registration day. It therefore loses
the before-transfer history (a member registered at union A and moved to B on day 10 counts for B
from their registration day). `recount_registrations` compares TOTALS per org (sum over all days),
which the rebuild reproduces exactly, so a drift report is never a false alarm.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from evaluations.models import counter_shards
from orgs.models import Org

from .models import Member, MemberStatus, RegistrationCount


def chain_to_root(path: str) -> list[str]:
    """Paths from the root of the tree down to the org at `path`, both included, top first."""
    return [path[:i] for i in range(Org.steplen, len(path) + 1, Org.steplen)]


def apply_registration_changes(*, changes: dict[str, int], day: date) -> None:
    """Add changes[path] to each org's row of `day`: one statement, rows taken in path order.

    The org ids are read by the insert itself; every row takes the same shard, picked at random;
    taking rows root first means two writers never wait on each other in opposite orders.
    """
    changes = {p: c for p, c in changes.items() if c}
    if not changes:
        return
    table = RegistrationCount._meta.db_table
    org_table = Org._meta.db_table
    paths = sorted(changes)
    cases = " ".join(["WHEN %s THEN %s"] * len(paths))
    in_paths = ", ".join(["%s"] * len(paths))
    case_params = [v for p in paths for v in (p, changes[p])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (org_id, day, shard, change) "
            f"SELECT id, %s, %s, CASE path {cases} END "
            f"FROM {org_table} WHERE path IN ({in_paths}) "
            f"ORDER BY path "
            f"ON CONFLICT (org_id, day, shard) "
            f"DO UPDATE SET change = {table}.change + excluded.change",
            [day, random.randrange(counter_shards()), *case_params, *paths],
        )


def move_changes(from_path: str, to_path: str) -> dict[str, int]:
    """The changes of one registered member's move: −1 on the old chain, +1 on the new."""
    old, new = set(chain_to_root(from_path)), set(chain_to_root(to_path))
    return {**{p: -1 for p in old - new}, **{p: 1 for p in new - old}}


def add_registration(
    *, day: date, org: Org | None = None, path: str | None = None, change: int = 1
) -> None:
    """Count one registration (change=-1: one registered member gone) on `day` up the chain.

    Give the member's union as `org`, or its `path`.
    """
    if path is None:
        if org is None:
            raise TypeError("add_registration needs org or path")
        path = org.path
    apply_registration_changes(changes={p: change for p in chain_to_root(path)}, day=day)


def move_registration(*, from_org: Org, to_org: Org, day: date) -> None:
    """A registered member moved: −1 on the old chain, +1 on the new, common ancestors untouched."""
    apply_registration_changes(changes=move_changes(from_org.path, to_org.path), day=day)


def count_roster_changes(*, before: dict[int, int], members, day: date) -> None:
    """After a roster import updated `members`: move or add their registrations, one statement.

    `before` maps each member who counted as registered before the update to their org then.
    A registered member whose union changed moves; one made active again is added; one no
    longer counted is taken away.
    """
    after = {m.pk: m.org_id for m in members if counts_as_registered(m)}
    moves = [
        (before.get(pk), after.get(pk))
        for pk in before.keys() | after.keys()
        if before.get(pk) != after.get(pk)
    ]
    if not moves:
        return
    org_ids = {org_id for move in moves for org_id in move if org_id is not None}
    paths = dict(Org.objects.filter(pk__in=org_ids).values_list("pk", "path"))
    changes: Counter = Counter()
    for old, new in moves:
        for path in chain_to_root(paths[old]) if old is not None else []:
            changes[path] -= 1
        for path in chain_to_root(paths[new]) if new is not None else []:
            changes[path] += 1
    apply_registration_changes(changes=dict(changes), day=day)


def counts_as_registered(member: Member) -> bool:
    return member.registered_at is not None and member.status == MemberStatus.ACTIVE


def local_day(moment) -> date:
    return timezone.localtime(moment).date()


def today() -> date:
    return timezone.localdate()


# Reads


def registered_counts(*, org_ids: list[int], until: date | None = None) -> dict[int, int]:
    """Registered members of each org's subtree at the end of `until` (None: now); 0 where none."""
    rows = RegistrationCount.objects.filter(org_id__in=org_ids)
    if until is not None:
        rows = rows.filter(day__lte=until)
    found = dict(rows.values_list("org_id").annotate(total=Sum("change")).order_by())
    return {org_id: found.get(org_id) or 0 for org_id in org_ids}


def registration_series(*, org: Org) -> list[tuple[date, int]]:
    """(day, registered members of the subtree at the end of that day), days with a change."""
    rows = (
        RegistrationCount.objects.filter(org=org)
        .values_list("day")
        .annotate(total=Sum("change"))
        .order_by("day")
    )
    out, running = [], 0
    for day, change in rows:
        running += change
        out.append((day, running))
    return out


# Recount and rebuild


def fresh_registration_counts() -> dict[tuple[int, date], int]:
    """(org, day) → registrations, computed from the members as they are now (see module doc)."""
    by_leaf = (
        Member.objects.filter(registered_at__isnull=False, status=MemberStatus.ACTIVE)
        .annotate(day=TruncDate("registered_at", tzinfo=timezone.get_default_timezone()))
        .values_list("org_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    leaf_totals: dict[int, Counter] = defaultdict(Counter)
    for org_id, day, n in by_leaf:
        leaf_totals[org_id][day] += n
    paths = dict(Org.objects.filter(pk__in=leaf_totals.keys()).values_list("pk", "path"))
    needed = {p for path in paths.values() for p in chain_to_root(path)}
    ids = dict(Org.objects.filter(path__in=needed).values_list("path", "pk"))
    out: Counter = Counter()
    for org_id, days in leaf_totals.items():
        for path in chain_to_root(paths[org_id]):
            for day, n in days.items():
                out[(ids[path], day)] += n
    return dict(out)


@dataclass
class Drift:
    org_id: int
    stored: int
    counted: int


def recount_registrations() -> list[Drift]:
    """Every org whose stored registered total (all days) differs from a count of the members."""
    fresh: Counter = Counter()
    for (org_id, _day), n in fresh_registration_counts().items():
        fresh[org_id] += n
    stored = {
        org_id: total
        for org_id, total in RegistrationCount.objects.values_list("org_id")
        .annotate(total=Sum("change"))
        .order_by()
        if total
    }
    return [
        Drift(org_id, stored.get(org_id, 0), fresh.get(org_id, 0))
        for org_id in sorted(fresh.keys() | stored.keys())
        if fresh.get(org_id, 0) != stored.get(org_id, 0)
    ]


@transaction.atomic
def rebuild_registration_counts() -> int:
    """Replace every registration counter by a fresh count (one shard per row). Rows stored."""
    fresh = fresh_registration_counts()
    RegistrationCount.objects.all().delete()
    created = RegistrationCount.objects.bulk_create(
        [
            RegistrationCount(org_id=org_id, day=day, shard=0, change=n)
            for (org_id, day), n in fresh.items()
        ],
        batch_size=5000,
    )
    return len(created)


def registration_counts_missing() -> bool:
    """Registered members but no counter at all: a database from before the counters existed."""
    registered = Member.objects.filter(registered_at__isnull=False, status=MemberStatus.ACTIVE)
    return registered.exists() and not RegistrationCount.objects.exists()
