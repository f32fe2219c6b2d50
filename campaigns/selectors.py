"""Reads of campaigns and their figures that pages, exports, commands and the API share."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluations.counters import evaluated_counts
from orgs.models import Org
from orgs.scoping import scope_roots
from orgs.selectors import ancestor_paths, children_of, within

from .models import Campaign, Rollup, TaskTableImport
from .rollups import OrgFigures


def campaigns_for_org(org: Org) -> QuerySet[Campaign]:
    """Campaigns an org takes part in: those run by itself or an ancestor."""
    paths = [*ancestor_paths(org), org.path]
    return Campaign.objects.filter(org__path__in=paths).select_related("org")


def visible_campaigns(user) -> QuerySet[Campaign]:
    """Campaigns an admin may read: run inside their scope, or by an ancestor of it."""
    roots = scope_roots(user)
    q = Q(pk__in=[])
    for root in roots:
        q |= within(root, "org__path") | Q(org__path__in=ancestor_paths(root))
    return Campaign.objects.filter(q).select_related("org")


def current_campaign(org: Org) -> Campaign | None:
    """The campaign an admin most likely means: the open one, else the latest."""
    campaigns = list(campaigns_for_org(org).order_by("-starts_at", "-pk"))
    now = timezone.now()
    for campaign in campaigns:
        if campaign.status(now) == "open":
            return campaign
    return campaigns[0] if campaigns else None


def campaign_choice(user, org: Org, wanted: str = "") -> tuple[Campaign | None, list[Campaign]]:
    """The campaign a console page of `org` shows and the ones it offers: those the org takes
    part in that the admin may read; `wanted` (a pk from the query string) or else the current
    one. Http404 for a wanted campaign the admin may not read."""
    campaigns = list(
        campaigns_for_org(org)
        .filter(pk__in=visible_campaigns(user).values("pk"))
        .order_by("-starts_at", "-pk")
    )
    wanted = (wanted or "").strip()
    if wanted:
        campaign = next((c for c in campaigns if str(c.pk) == wanted), None)
        if campaign is None:
            raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
        return campaign, campaigns
    default = current_campaign(org)
    return (default if default in campaigns else (campaigns[0] if campaigns else None)), campaigns


def stored_figures(*, campaign: Campaign, orgs: list[Org]) -> dict[int, OrgFigures]:
    """The stored rollups of these orgs; an org without a row has no figure yet."""
    rows = {
        r.org_id: r for r in Rollup.objects.filter(campaign=campaign, org__in=[o.pk for o in orgs])
    }
    out = {}
    for org in orgs:
        row = rows.get(org.pk)
        figures = OrgFigures(org.pk, org.path, org.depth, org.kind)
        if row is not None:
            figures.reported, figures.reported_own = row.reported, row.reported_own
            figures.target, figures.target_source = row.target, row.target_source
        out[org.pk] = figures
    return out


@dataclass
class UnitRow:
    org: Org
    figures: OrgFigures
    evaluated: int = 0

    @property
    def completion(self) -> float | None:
        """完成率: evaluated ÷ target (None without a target)."""
        target = self.figures.target
        return self.evaluated / target if target else None


@dataclass
class UnitTable:
    """An org's own figures, the rows of its direct sub-units and their totals."""

    parent: Org
    campaign: Campaign | None
    own: OrgFigures
    rows: list[UnitRow]
    total_reported: int
    total_target: int
    warnings: list[str]
    own_evaluated: int = 0

    @property
    def total_evaluated(self) -> int:
        return sum(r.evaluated for r in self.rows)

    @property
    def own_completion(self) -> float | None:
        return self.own_evaluated / self.own.target if self.own.target else None

    @property
    def undistributed(self) -> int | None:
        """How much of the org's own target its sub-units' targets do not yet cover."""
        if self.own.target is None or not self.rows or self.own.target_source == "children":
            return None
        return self.own.target - self.total_target


def unit_table(*, campaign: Campaign | None, parent: Org) -> UnitTable:
    children = list(children_of(parent))
    evaluated: dict[int, int] = {}
    if campaign is None:
        figures = {o.pk: OrgFigures(o.pk, o.path, o.depth, o.kind) for o in [parent, *children]}
    else:
        figures = stored_figures(campaign=campaign, orgs=[parent, *children])
        evaluated = evaluated_counts(campaign=campaign, org_ids=list(figures))
    rows = [
        UnitRow(org=c, figures=figures[c.pk], evaluated=evaluated.get(c.pk, 0)) for c in children
    ]
    return UnitTable(
        parent=parent,
        campaign=campaign,
        own=figures[parent.pk],
        rows=rows,
        total_reported=sum(r.figures.reported or 0 for r in rows),
        total_target=sum(r.figures.target or 0 for r in rows),
        warnings=task_table_warnings(campaign=campaign, parent=parent) if campaign else [],
        own_evaluated=evaluated.get(parent.pk, 0),
    )


def latest_task_import(*, campaign: Campaign, parent: Org) -> TaskTableImport | None:
    return TaskTableImport.objects.filter(campaign=campaign, parent=parent).first()


def task_table_warnings(*, campaign: Campaign, parent: Org) -> list[str]:
    """Warnings of the latest task-table import under this parent."""
    latest = latest_task_import(campaign=campaign, parent=parent)
    return list(latest.warnings) if latest else []
