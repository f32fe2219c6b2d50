"""The one place that limits what an admin reads to the subtrees of the orgs they hold roles at.

Every admin page, export and API route asks this module for its orgs, or passes its queryset
through `restrict_to_scope`, so that a rule of visibility is written once.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import CAMPAIGN_ROLES, MANAGING_ROLES, Role

from .models import Org
from .selectors import root_orgs, within

_CACHE_ATTR = "_pingyi_scope_roots"


def _roles(user) -> list[Role]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(Role.objects.filter(user=user).select_related("org"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def _topmost(orgs: Iterable[Org]) -> list[Org]:
    """Drop orgs that lie inside another of the list, so each subtree is named once."""
    tops: list[Org] = []
    for org in sorted(orgs, key=lambda o: o.path):
        if not tops or not org.path.startswith(tops[-1].path):
            tops.append(org)
    return tops


def scope_roots(user, kinds: Iterable[str] | None = None) -> list[Org]:
    """The top orgs of the user's scope (for the given role kinds, or any role).

    A superuser holds every role everywhere: their scope is every tree.
    """
    if getattr(user, "is_superuser", False):
        return list(root_orgs())
    wanted = set(kinds) if kinds is not None else None
    return _topmost(r.org for r in _roles(user) if wanted is None or r.kind in wanted)


def _paths_q(roots: list[Org], field: str) -> Q:
    q = Q(pk__in=[])
    for root in roots:
        q |= within(root, field)
    return q


def orgs_in_scope(user) -> QuerySet[Org]:
    """Every org the user may read: the union of their roles' subtrees."""
    roots = scope_roots(user)
    if not roots:
        return Org.objects.none()
    return Org.objects.filter(_paths_q(roots, "path"))


def restrict_to_scope(
    queryset: QuerySet, user, *, org_field: str = "org", kinds: Iterable[str] | None = None
) -> QuerySet:
    """Limit any queryset with a foreign key to Org to the user's subtrees (through roles of
    the given kinds, or any role)."""
    roots = scope_roots(user, kinds)
    if not roots:
        return queryset.none()
    return queryset.filter(_paths_q(roots, f"{org_field}__path"))


def in_scope(user, org: Org, kinds: Iterable[str] | None = None) -> bool:
    """Does one of the user's roles (of the given kinds, or any) reach this org?"""
    return any(root.contains(org) for root in scope_roots(user, kinds))


def can_manage(user, org: Org) -> bool:
    """May the user change data of this org (orgs, reported members, targets, imports)?"""
    return in_scope(user, org, MANAGING_ROLES)


def can_run_campaigns(user, org: Org) -> bool:
    """May the user create or configure campaigns run by this org?"""
    return in_scope(user, org, CAMPAIGN_ROLES)


def get_org_in_scope_or_404(user, **lookup) -> Org:
    """Fetch an org the user may read; another unit's org answers 404, as if it did not exist."""
    try:
        return orgs_in_scope(user).get(**lookup)
    except Org.DoesNotExist as exc:
        raise Http404(_("找不到该工会组织，或不在您的管理范围内")) from exc


def is_console_user(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(_roles(user))


def role_kinds(user) -> set[str]:
    return {r.kind for r in _roles(user)}


__all__ = [
    "can_manage",
    "can_run_campaigns",
    "get_org_in_scope_or_404",
    "in_scope",
    "is_console_user",
    "orgs_in_scope",
    "restrict_to_scope",
    "role_kinds",
    "scope_roots",
]
