"""Reads of the union tree, by materialized path so they never trust a stale in-memory node."""

from django.db.models import Q, QuerySet

from .models import Org

# treebeard's MP_Node: paths of 0-9A-Z, at most 255 long. Every path below `p` lies between
# `p` and `p` padded with the last letter, so a subtree is one range scan of the unique
# index, on SQLite (where LIKE cannot use it) as on PostgreSQL.
_PATH_MAX = Org._meta.get_field("path").max_length
_LAST = Org.alphabet[-1]


def subtree_range(path: str) -> tuple[str, str]:
    return path, path + _LAST * (_PATH_MAX - len(path))


def within(org: Org, field: str = "path") -> Q:
    """Rows whose `field` (a path, or a path through a relation) lies in org's subtree."""
    return within_path(org.path, field)


def within_path(path: str, field: str = "path") -> Q:
    return Q(**{f"{field}__range": subtree_range(path)})


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
