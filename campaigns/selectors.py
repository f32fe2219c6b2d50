"""Reads of campaigns and their figures that pages, exports, commands and the API share."""

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from orgs.models import Org, ReportedMembers
from orgs.selectors import ancestor_paths, children_of

from .models import Campaign, Target, TargetRate, TaskTableImport
from .rules import target_from_rate


@dataclass
class OrgFigures:
    """An org's reported members and target in a campaign, its whole subtree included.

    target_source says where the target comes from: "import" (the task table or a manual
    setting), "rule" (rate × reported members), "children" (the sum of its sub-units) or
    "" when there is none.
    """

    org_id: int
    path: str
    depth: int
    kind: str
    reported: int | None = None
    reported_own: bool = False
    target: int | None = None
    target_source: str = ""
    children: list["OrgFigures"] = field(default_factory=list)


def campaigns_for_org(org: Org) -> QuerySet[Campaign]:
    """Campaigns an org takes part in: those run by itself or an ancestor."""
    paths = [*ancestor_paths(org), org.path]
    return Campaign.objects.filter(org__path__in=paths).select_related("org")


def current_campaign(org: Org) -> Campaign | None:
    """The campaign an admin most likely means: the open one, else the latest."""
    campaigns = list(campaigns_for_org(org).order_by("-starts_at", "-pk"))
    now = timezone.now()
    for campaign in campaigns:
        if campaign.starts_at <= now < campaign.ends_at:
            return campaign
    return campaigns[0] if campaigns else None


def subtree_figures(*, campaign: Campaign, root: Org) -> dict[int, OrgFigures]:
    """Reported members and targets of every org below root, rolled up bottom-up.

    An org's own figure wins over the sum of its sub-units: a town's reported members come
    from the annual statistics even when its grassroots unions report too. Targets follow
    DESIGN.md: an imported target wins, else the campaign's rate for the org's kind, else the
    sum of the sub-units' targets.
    """
    rows = Org.objects.filter(path__startswith=root.path).values_list("id", "path", "depth", "kind")
    nodes = {
        oid: OrgFigures(org_id=oid, path=path, depth=depth, kind=kind)
        for oid, path, depth, kind in rows
    }
    by_path = {n.path: n for n in nodes.values()}

    reported = dict(
        ReportedMembers.objects.filter(
            org__path__startswith=root.path, year=campaign.year
        ).values_list("org_id", "count")
    )
    targets = dict(
        Target.objects.filter(campaign=campaign, org__path__startswith=root.path).values_list(
            "org_id", "value"
        )
    )
    rates = dict(TargetRate.objects.filter(campaign=campaign).values_list("org_kind", "rate"))

    for node in nodes.values():
        parent = by_path.get(node.path[: -Org.steplen])
        if parent is not None and node.depth > root.depth:
            parent.children.append(node)

    for node in sorted(nodes.values(), key=lambda n: -n.depth):
        own = reported.get(node.org_id)
        if own is not None:
            node.reported, node.reported_own = own, True
        else:
            child_values = [c.reported for c in node.children if c.reported is not None]
            node.reported = sum(child_values) if child_values else None

        if node.org_id in targets:
            node.target, node.target_source = targets[node.org_id], "import"
        elif node.kind in rates and node.reported is not None:
            node.target, node.target_source = (
                target_from_rate(node.reported, rates[node.kind]),
                "rule",
            )
        else:
            child_targets = [c.target for c in node.children if c.target is not None]
            if child_targets:
                node.target, node.target_source = sum(child_targets), "children"
    return nodes


@dataclass
class UnitRow:
    org: Org
    figures: OrgFigures


@dataclass
class UnitTable:
    """The rows of an org's direct sub-units with their figures and a total row."""

    parent: Org
    campaign: Campaign | None
    rows: list[UnitRow]
    total_reported: int
    total_target: int
    warnings: list[str]


def unit_table(*, campaign: Campaign | None, parent: Org) -> UnitTable:
    children = list(children_of(parent))
    if campaign is None:
        empty = [
            UnitRow(org=c, figures=OrgFigures(c.pk, c.path, c.depth, c.kind)) for c in children
        ]
        return UnitTable(parent, None, empty, 0, 0, [])
    figures = subtree_figures(campaign=campaign, root=parent)
    rows = [UnitRow(org=c, figures=figures[c.pk]) for c in children]
    total_reported = sum(r.figures.reported or 0 for r in rows)
    total_target = sum(r.figures.target or 0 for r in rows)
    return UnitTable(
        parent=parent,
        campaign=campaign,
        rows=rows,
        total_reported=total_reported,
        total_target=total_target,
        warnings=task_table_warnings(campaign=campaign, parent=parent),
    )


def latest_task_import(*, campaign: Campaign, parent: Org) -> TaskTableImport | None:
    return TaskTableImport.objects.filter(campaign=campaign, parent=parent).first()


def task_table_warnings(*, campaign: Campaign, parent: Org) -> list[str]:
    """Warnings of the latest task-table import under this parent that still hold."""
    latest = latest_task_import(campaign=campaign, parent=parent)
    return list(latest.warnings) if latest else []
