"""Reads of the union tree, by materialized path so they never trust a stale in-memory node."""

from django.db.models import Q, QuerySet

from .models import Org

# treebeard's MP_Node: paths of 0-9A-Z. Every path below `p` sorts at or after `p` and before
# the next path of `p`'s length ("0007" → "0008", "000Z" → "0010"), so a subtree is one range
# scan of the unique index, on SQLite (where LIKE cannot use it) as on PostgreSQL, and the
# planner sees a range whose size it can estimate.
_ALPHABET = Org.alphabet


def next_path(path: str) -> str | None:
    """The first path of the same length after every descendant of `path` (None: no such)."""
    chars = list(path)
    for i in range(len(chars) - 1, -1, -1):
        position = _ALPHABET.index(chars[i])
        if position + 1 < len(_ALPHABET):
            chars[i] = _ALPHABET[position + 1]
            return "".join(chars)
        chars[i] = _ALPHABET[0]
    return None


def within(org: Org, field: str = "path") -> Q:
    """Rows whose `field` (a path, or a path through a relation) lies in org's subtree."""
    return within_path(org.path, field)


def within_path(path: str, field: str = "path") -> Q:
    upper = next_path(path)
    q = Q(**{f"{field}__gte": path})
    return q & Q(**{f"{field}__lt": upper}) if upper else q


def children_of(org: Org) -> QuerySet[Org]:
    """Direct sub-units in the order of the task table (序号), then of creation."""
    return Org.objects.filter(within(org), depth=org.depth + 1).order_by("seq", "path")


def subtree_of(org: Org) -> QuerySet[Org]:
    """The org and everything below it: one indexed prefix scan."""
    return Org.objects.filter(within(org))


def ancestor_paths(org: Org) -> list[str]:
    """Paths of the org's ancestors, root first (the org itself not included)."""
    return [org.path[:i] for i in range(Org.steplen, len(org.path), Org.steplen)]


def ancestors_of(org: Org) -> list[Org]:
    return list(Org.objects.filter(path__in=ancestor_paths(org)).order_by("depth"))


def parent_of(org: Org) -> Org | None:
    if org.depth <= 1:
        return None
    return Org.objects.get(path=org.parent_path)


def root_orgs() -> QuerySet[Org]:
    return Org.objects.filter(depth=1).order_by("path")
