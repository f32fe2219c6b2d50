"""Reads of cases that the console, the exports, the API and other apps share.

Nothing here reads a member's identity: the queue, the figures, the ledger and the member's
own view carry the case, the union and what was rated, never who rated. The one place that
names a member (for a return visit they agreed to) is services.return_visit_contact, audited.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from evaluations.exclusions import excluded_ids
from evaluations.models import Answer
from orgs.models import Org
from orgs.selectors import children_of, within

from .models import (
    Case,
    CaseEvent,
    CaseState,
    EventKind,
    HandlingRating,
    Notification,
    Outcome,
)
from .permissions import cases_in_scope

LOW_RATING = 2  # 不满意 or 非常不满意


def excluded_from_satisfaction(campaign: Campaign) -> QuerySet:
    """Ids of the campaign's evaluations that an upheld appeal leaves out of every satisfaction
    figure (满意率, 好评率, 差评率, 满意度指数, per item too). They still count as evaluated for
    participation and completion. Use as `.exclude(pk__in=excluded_from_satisfaction(c))`."""
    return Case.objects.filter(campaign=campaign, excluded=True).values_list(
        "evaluation_id", flat=True
    )


def overdue_q(today: date) -> Q:
    """Cases past a deadline now, whether or not the hourly check has marked them yet."""
    return Q(state=CaseState.VERIFYING, verify_due__lt=today) | Q(
        state__in=(CaseState.VERIFYING, CaseState.RECTIFYING), rectify_due__lt=today
    )


def is_overdue(case: Case, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    if case.state == CaseState.VERIFYING and case.verify_due < today:
        return True
    return case.state in (CaseState.VERIFYING, CaseState.RECTIFYING) and case.rectify_due < today


@dataclass
class QueueFilters:
    campaign: Campaign | None = None
    state: str = ""
    overdue: bool = False
    escalated: bool = False
    unit: Org | None = None
    item_id: int | None = None


def case_queue(user, filters: QueueFilters, *, today: date | None = None) -> QuerySet[Case]:
    """The admin's cases (their scope only), newest first, narrowed by the queue's filters."""
    today = today or timezone.localdate()
    cases = cases_in_scope(user)
    if filters.campaign is not None:
        cases = cases.filter(campaign=filters.campaign)
    if filters.state in CaseState.values:
        cases = cases.filter(state=filters.state)
    elif filters.state == "excluded":
        cases = cases.filter(excluded=True)
    if filters.overdue:
        cases = cases.filter(overdue_q(today))
    if filters.escalated:
        cases = cases.filter(escalated_to__isnull=False)
    if filters.unit is not None:
        cases = cases.filter(within(filters.unit, "org__path"))
    if filters.item_id is not None:
        cases = cases.filter(
            Exists(
                Answer.objects.filter(
                    evaluation_id=OuterRef("evaluation_id"),
                    question_id=filters.item_id,
                    rating__lte=LOW_RATING,
                )
            )
        )
    return cases.order_by("-pk")


def with_page_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("org", "campaign", "escalated_to", "evaluation__campaign")


def timeline(case: Case) -> list[CaseEvent]:
    return list(case.events.select_related("actor", "actor_org").order_by("at", "pk"))


def ledger(user, *, campaign: Campaign | None = None) -> QuerySet[Case]:
    """整改台账: the 限期整改 cases of the admin's scope, by promised date."""
    cases = cases_in_scope(user).filter(outcome=Outcome.BY_DEADLINE)
    if campaign is not None:
        cases = cases.filter(campaign=campaign)
    return cases.select_related("org", "campaign").order_by("rectify_by", "pk")


def notices_for(user) -> QuerySet[Notification]:
    """Notices for the orgs where the user holds a managing role (a superuser: the roots).

    One statement: the user's orgs are a subquery, so the console's badge costs one count.
    """
    from accounts.models import MANAGING_ROLES, Role
    from orgs.selectors import root_orgs

    if getattr(user, "is_superuser", False):
        orgs = root_orgs().values("pk")
    elif getattr(user, "is_authenticated", False):
        orgs = Role.objects.filter(user=user, kind__in=MANAGING_ROLES).values("org_id")
    else:
        return Notification.objects.none()
    return Notification.objects.filter(org_id__in=orgs)


def unread_notice_count(user) -> int:
    return notices_for(user).filter(read_at__isnull=True).count()


# ---------------------------------------------------------------- figures


@dataclass
class CaseFigures:
    """回复率 = replied ÷ cases; 回访率 = visited ÷ cases with consent; 按期整改率 = first replies
    by the deadline ÷ cases replied or past the deadline; 整改满意率 = (满意 + 基本满意) ÷ rated."""

    cases: int = 0
    replied: int = 0
    consented: int = 0
    visited: int = 0
    due: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    open: int = 0
    overdue: int = 0
    excluded: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        return Decimal(part) / Decimal(whole) if whole else None

    @property
    def reply_rate(self):
        return self._rate(self.replied, self.cases)

    @property
    def visit_rate(self):
        return self._rate(self.visited, self.consented)

    @property
    def on_time_rate(self):
        return self._rate(self.on_time, self.due)

    @property
    def satisfaction_rate(self):
        return self._rate(self.satisfied, self.rated)

    def add(self, other: "CaseFigures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class FigureRow:
    org: Org
    figures: CaseFigures


@dataclass
class FigureTable:
    campaign: Campaign
    parent: Org
    rows: list[FigureRow] = field(default_factory=list)
    total: CaseFigures = field(default_factory=CaseFigures)


def _figure_aggregates(today: date) -> dict:
    replied = Q(replied_at__isnull=False)
    return {
        "cases": Count("pk"),
        "replied": Count("pk", filter=replied),
        "consented": Count("pk", filter=Q(evaluation__return_visit=True)),
        "visited": Count("pk", filter=Q(evaluation__return_visit=True, visited_at__isnull=False)),
        "due": Count(
            "pk",
            filter=Q(replied_on_time__isnull=False)
            | Q(rectify_overdue_at__isnull=False)
            | Q(replied_at__isnull=True, rectify_due__lt=today, excluded=False),
        ),
        "on_time": Count("pk", filter=Q(replied_on_time=True)),
        "rated": Count("pk", filter=~Q(handling_rating="")),
        "satisfied": Count(
            "pk",
            filter=Q(
                handling_rating__in=(
                    HandlingRating.SATISFIED,
                    HandlingRating.BASICALLY_SATISFIED,
                )
            ),
        ),
        "open": Count("pk", filter=~Q(state=CaseState.CLOSED)),
        "overdue": Count("pk", filter=overdue_q(today)),
        "excluded": Count("pk", filter=Q(excluded=True)),
    }


def figures_by_unit(*, campaign: Campaign, parent: Org, today: date | None = None) -> FigureTable:
    """Case figures of each direct sub-unit of `parent` (its subtree included), and the total.

    One grouped query over the parent's subtree: cases grouped by the path prefix of the unit
    they fall under. Cases of evaluations excluded by integrity review (fabricated, so no member
    waits for their handling) are left out.
    """
    today = today or timezone.localdate()
    units = list(children_of(parent))
    step = len(parent.path) + Org.steplen
    if not units:  # a grassroots union: one row, its own
        units, step = [parent], len(parent.path)
    grouped = (
        Case.objects.filter(campaign=campaign)
        .filter(within(parent, "org__path"))
        .exclude(evaluation_id__in=excluded_ids(campaign))
        .annotate(unit_path=Substr("org__path", 1, step))
        .values("unit_path")
        .annotate(**_figure_aggregates(today))
        .order_by()
    )
    by_path = {row.pop("unit_path"): CaseFigures(**row) for row in grouped}
    table = FigureTable(campaign=campaign, parent=parent)
    for unit in units:
        figures = by_path.get(unit.path, CaseFigures())
        table.rows.append(FigureRow(org=unit, figures=figures))
        table.total.add(figures)
    return table


# ---------------------------------------------------------------- the member's view


@dataclass
class MemberReply:
    at: datetime
    org: str
    outcome: str
    outcome_label: str
    measures: str
    text: str
    rectify_by: date | None


@dataclass
class MemberCase:
    """What the member reads of their case: where it stands and the unions' replies."""

    id: int
    state: str
    state_label: str
    replies: list[MemberReply]
    can_rate: bool
    rating: str
    rating_label: str


def member_state_label(state: str) -> str:
    return str(
        {
            CaseState.REPLIED: _("已答复，请评价处理情况"),
            CaseState.CLOSED: _("已办结"),
        }.get(state, _("处理中"))
    )


def member_cases(evaluation_ids: list[int]) -> dict[int, MemberCase]:
    """The cases of these evaluations (a member's own), by evaluation id: two queries."""
    if not evaluation_ids:
        return {}
    cases = list(
        Case.objects.filter(evaluation_id__in=evaluation_ids).only(
            "pk", "evaluation_id", "state", "handling_rating"
        )
    )
    if not cases:
        return {}
    replies: dict[int, list[MemberReply]] = {c.pk: [] for c in cases}
    events = (
        CaseEvent.objects.filter(case_id__in=replies, kind=EventKind.REPLIED)
        .select_related("actor_org")
        .order_by("at", "pk")
    )
    for event in events:
        data = event.data or {}
        outcome = data.get("outcome", "")
        rectify_by = data.get("rectify_by")
        replies[event.case_id].append(
            MemberReply(
                at=event.at,
                org=event.actor_org.name if event.actor_org else "",
                outcome=outcome,
                outcome_label=str(Outcome(outcome).label) if outcome in Outcome.values else "",
                measures=data.get("measures", ""),
                text=event.text,
                rectify_by=date.fromisoformat(rectify_by) if rectify_by else None,
            )
        )
    return {
        c.evaluation_id: MemberCase(
            id=c.pk,
            state=c.state,
            state_label=member_state_label(c.state),
            replies=replies[c.pk],
            can_rate=c.state == CaseState.REPLIED,
            rating=c.handling_rating,
            rating_label=(
                str(HandlingRating(c.handling_rating).label) if c.handling_rating else ""
            ),
        )
        for c in cases
    }
