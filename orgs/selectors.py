"""Reads of the union tree, by materialized path so they never trust a stale in-memory node."""

from django.db.models import QuerySet

from .models import Org


def children_of(org: Org) -> QuerySet[Org]:
    """Direct sub-units in the order of the task table (序号), then of creation."""
    return Org.objects.filter(path__startswith=org.path, depth=org.depth + 1).order_by(
        "seq", "path"
    )


def subtree_of(org: Org) -> QuerySet[Org]:
    """The org and everything below it: one indexed prefix scan."""
    return Org.objects.filter(path__startswith=org.path)


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
