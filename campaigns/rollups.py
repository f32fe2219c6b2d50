"""Reported members and targets rolled up the union tree, computed once and stored.

The rule (DESIGN.md): an org's own reported figure wins over the sum of its sub-units; its
target is the imported (or manual) one, else the campaign's rate for its kind applied to its
reported members, else the sum of its sub-units' targets. `compute` holds that rule;
`subtree_figures` applies it to a whole subtree in one pass; `refresh_rollups` re-applies it
along the ancestors of orgs that changed; `rebuild_rollups` recomputes a campaign.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from orgs.models import Org, ReportedMembers
from orgs.selectors import ancestor_paths, within, within_path

from .models import Campaign, Rollup, Target, TargetRate
from .rules import target_from_rate


@dataclass
class OrgFigures:
    """target_source: "import" (task table or manual), "rule", "children" or "" for none."""

    org_id: int
    path: str
    depth: int
    kind: str
    reported: int | None = None
    reported_own: bool = False
    target: int | None = None
    target_source: str = ""
    children: list["OrgFigures"] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.reported is None and self.target is None


def compute(
    node: OrgFigures,
    *,
    own_reported: int | None,
    own_target: int | None,
    rate: Decimal | None,
    children: Iterable[OrgFigures],
) -> None:
    """Fill node's figures from its own records and its sub-units' (already computed) figures."""
    children = list(children)
    if own_reported is not None:
        node.reported, node.reported_own = own_reported, True
    else:
        values = [c.reported for c in children if c.reported is not None]
        node.reported, node.reported_own = (sum(values) if values else None), False

    if own_target is not None:
        node.target, node.target_source = own_target, "import"
    elif rate is not None and node.reported is not None:
        node.target, node.target_source = target_from_rate(node.reported, rate), "rule"
    else:
        targets = [c.target for c in children if c.target is not None]
        node.target, node.target_source = (sum(targets), "children") if targets else (None, "")


def _own_records(campaign: Campaign, orgs_q) -> tuple[dict, dict, dict]:
    reported = dict(
        ReportedMembers.objects.filter(orgs_q, year=campaign.year).values_list("org_id", "count")
    )
    targets = dict(Target.objects.filter(orgs_q, campaign=campaign).values_list("org_id", "value"))
    rates = dict(TargetRate.objects.filter(campaign=campaign).values_list("org_kind", "rate"))
    return reported, targets, rates


def subtree_figures(*, campaign: Campaign, root: Org) -> dict[int, OrgFigures]:
    """Every org below root (root included) with its rolled-up figures, in one pass."""
    rows = Org.objects.filter(within(root)).values_list("id", "path", "depth", "kind")
    nodes = {oid: OrgFigures(oid, path, depth, kind) for oid, path, depth, kind in rows}
    by_path = {n.path: n for n in nodes.values()}
    for node in nodes.values():
        parent = by_path.get(node.path[: -Org.steplen])
        if parent is not None and node.depth > root.depth:
            parent.children.append(node)

    reported, targets, rates = _own_records(campaign, within(root, "org__path"))
    for node in sorted(nodes.values(), key=lambda n: -n.depth):
        compute(
            node,
            own_reported=reported.get(node.org_id),
            own_target=targets.get(node.org_id),
            rate=rates.get(node.kind),
            children=node.children,
        )
    return nodes


def _store(campaign: Campaign, figures: Iterable[OrgFigures]) -> int:
    created = Rollup.objects.bulk_create(
        [
            Rollup(
                campaign=campaign,
                org_id=f.org_id,
                reported=f.reported,
                reported_own=f.reported_own,
                target=f.target,
                target_source=f.target_source,
            )
            for f in figures
            if not f.is_empty
        ],
        batch_size=5000,
    )
    return len(created)


def recount(*, campaign: Campaign) -> tuple[dict[int, OrgFigures], list[int]]:
    """A fresh computation of the campaign's figures, and the orgs whose stored rollup differs."""
    figures = subtree_figures(campaign=campaign, root=campaign.org)
    fresh = {k: (f.reported, f.target) for k, f in figures.items() if not f.is_empty}
    stored = {r.org_id: (r.reported, r.target) for r in campaign.rollups.all()}
    drifted = sorted(k for k in fresh.keys() | stored.keys() if fresh.get(k) != stored.get(k))
    return figures, drifted


@transaction.atomic
def rebuild_rollups(*, campaign: Campaign, figures: dict[int, OrgFigures] | None = None) -> int:
    """Store every rollup of the campaign anew (from `figures` when already computed).

    Returns the rows stored.
    """
    if figures is None:
        figures = subtree_figures(campaign=campaign, root=campaign.org)
    Rollup.objects.filter(campaign=campaign).delete()
    return _store(campaign, figures.values())


@transaction.atomic
def refresh_rollups(*, campaign: Campaign, orgs: Iterable[Org]) -> None:
    """Re-apply the rule to these orgs and their ancestors, bottom-up, inside the campaign."""
    top = campaign.org
    paths: set[str] = set()
    for org in orgs:
        if not top.contains(org):
            continue
        paths.add(org.path)
        paths.update(p for p in ancestor_paths(org) if len(p) >= len(top.path))
    if not paths:
        return
    rows = Org.objects.filter(path__in=paths).values_list("id", "path", "depth", "kind")
    nodes = sorted((OrgFigures(*row) for row in rows), key=lambda n: -n.depth)
    reported, targets, rates = _own_records(campaign, Q(org_id__in=[n.org_id for n in nodes]))
    fresh: dict[str, OrgFigures] = {}
    for node in nodes:
        children = {
            path: OrgFigures(oid, path, depth, "", reported=r, target=t)
            for oid, path, depth, r, t in Rollup.objects.filter(
                within_path(node.path, "org__path"), campaign=campaign, org__depth=node.depth + 1
            ).values_list("org_id", "org__path", "org__depth", "reported", "target")
        }
        children.update(
            {
                p: f
                for p, f in fresh.items()
                if f.depth == node.depth + 1 and p.startswith(node.path)
            }
        )
        compute(
            node,
            own_reported=reported.get(node.org_id),
            own_target=targets.get(node.org_id),
            rate=rates.get(node.kind),
            children=children.values(),
        )
        fresh[node.path] = node
    Rollup.objects.filter(campaign=campaign, org_id__in=[n.org_id for n in nodes]).delete()
    _store(campaign, nodes)


def refresh_for_org_change(*, org: Org, year: int | None = None) -> None:
    """After an org's reported members (of a year) or kind changed: every campaign it is in."""
    refresh_for_orgs(orgs=[org], under=org, year=year)


def refresh_for_orgs(*, orgs: list[Org], under: Org, year: int | None = None) -> None:
    """Refresh these orgs (all below `under`) in every campaign `under` takes part in.

    Reported members belong to a year, not a campaign: a change reaches every campaign of
    that year that covers the orgs.
    """
    campaigns = Campaign.objects.filter(org__path__in=[*ancestor_paths(under), under.path])
    if year is not None:
        campaigns = campaigns.filter(year=year)
    for campaign in campaigns.select_related("org"):
        refresh_rollups(campaign=campaign, orgs=orgs)
