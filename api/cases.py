"""API routes for admins' 差评处置: the queue, a case with its timeline, and each step.

Scoped like the console (cases.permissions over orgs.scoping): a case outside the caller's
subtree answers 404, a step the caller may not take 403, a wrong step 409, a bad field 422.
Nothing here names the member: the one look at a consenting member's contact is the console's
case page, audited.
"""

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Router, Schema

from campaigns.selectors import visible_campaigns
from cases import permissions, services
from cases.models import Appeal, Case
from cases.selectors import QueueFilters, case_queue, is_overdue, timeline, with_page_relations
from orgs.scoping import get_org_in_scope_or_404

from .errors import ApiRefusal

router = Router(tags=[gettext_lazy("差评处置")])

PAGE_SIZE = 50
# Ids are 64-bit: a larger number names no row, and SQLite cannot even bind it in a query.
MAX_ID = 2**63 - 1


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class CaseOut(Schema):
    id: int
    number: str
    campaign_id: int
    union: str
    union_id: int
    state: str
    state_label: str
    overall: int
    overall_label: str
    opened_at: datetime
    verify_due: date
    rectify_due: date
    overdue: bool
    escalated_to: str | None
    reopened: bool
    excluded: bool
    outcome: str
    handling_rating: str
    return_visit_agreed: bool


class EventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    actor: str | None  # the admin's name; null for the system or the member
    actor_org: str | None
    by_member: bool
    text: str
    data: dict


class AppealOut(Schema):
    claim: str
    claim_label: str
    reasons: str
    filed_at: datetime
    decision: str
    decision_label: str
    decision_reasons: str
    decided_at: datetime | None
    decided_org: str | None


class CaseDetailOut(CaseOut):
    suggestion: str
    finding: str
    measures: str
    reply: str
    rectify_by: date | None
    events: list[EventOut]
    appeal: AppealOut | None
    can_handle: bool
    can_appeal: bool
    can_decide_appeal: bool


class VerifyIn(Schema):
    finding: str


class ReplyIn(Schema):
    outcome: str  # fixed / by_deadline / explained
    measures: str = ""
    reply: str
    rectify_by: date | None = None


class NoteIn(Schema):
    note: str


class AppealIn(Schema):
    claim: str  # malicious / not_our_work
    reasons: str


class DecisionIn(Schema):
    upheld: bool
    reasons: str


_ERRORS = frozenset({401, 403, 404, 409, 422})


def _case_out(case: Case) -> dict:
    evaluation = case.evaluation
    return {
        "id": case.pk,
        "number": case.number,
        "campaign_id": case.campaign_id,
        "union": case.org.name,
        "union_id": case.org_id,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "overall": evaluation.overall,
        "overall_label": case.campaign.label_for(evaluation.overall),
        "opened_at": case.opened_at,
        "verify_due": case.verify_due,
        "rectify_due": case.rectify_due,
        "overdue": is_overdue(case),
        "escalated_to": case.escalated_to.name if case.escalated_to else None,
        "reopened": bool(case.reopen_count),
        "excluded": case.excluded,
        "outcome": case.outcome,
        "handling_rating": case.handling_rating,
        "return_visit_agreed": evaluation.return_visit,
    }


def _get(request, case_id: int) -> Case:
    case = with_page_relations(permissions.cases_in_scope(request.user)).filter(pk=case_id).first()
    if case is None:
        raise ApiRefusal(404, "not_found", _("找不到该差评处置，或不在您的管理范围内"))
    return case


def _detail(request, case: Case) -> CaseDetailOut:
    appeal = Appeal.objects.filter(case=case).select_related("decided_org").first()
    return CaseDetailOut(
        **_case_out(case),
        suggestion=case.evaluation.suggestion,
        finding=case.finding,
        measures=case.measures,
        reply=case.reply,
        rectify_by=case.rectify_by,
        events=[
            EventOut(
                at=e.at,
                kind=e.kind,
                kind_label=str(e.get_kind_display()),
                actor=str(e.actor) if e.actor else None,
                actor_org=e.actor_org.name if e.actor_org else None,
                by_member=e.by_member,
                text=e.text,
                data=e.data,
            )
            for e in timeline(case)
        ],
        appeal=(
            AppealOut(
                claim=appeal.claim,
                claim_label=str(appeal.get_claim_display()),
                reasons=appeal.reasons,
                filed_at=appeal.filed_at,
                decision=appeal.decision,
                decision_label=str(appeal.get_decision_display()),
                decision_reasons=appeal.decision_reasons,
                decided_at=appeal.decided_at,
                decided_org=appeal.decided_org.name if appeal.decided_org else None,
            )
            if appeal
            else None
        ),
        can_handle=case.is_open and permissions.can_handle(request.user, case),
        can_appeal=case.is_open and permissions.can_appeal(request.user, case),
        can_decide_appeal=permissions.can_decide_appeal(request.user, case),
    )


def _step(request, case_id: int, action) -> CaseDetailOut:
    case = _get(request, case_id)
    try:
        action(case)
    except services.CaseError as error:
        extra = {"field": error.field} if error.field else {}
        raise ApiRefusal(error.status, error.code, error.message, **extra) from None
    return _detail(request, _get(request, case_id))


@router.get(
    "/cases",
    response={200: list[CaseOut], _ERRORS: ErrorOut},
    summary=gettext_lazy("差评处置清单（我管理范围内，最新的在前，每页 50 件）"),
)
def case_list(
    request: HttpRequest,
    campaign: int | None = Query(None, ge=1, le=MAX_ID),
    state: str = "",
    overdue: bool = False,
    unit: int | None = Query(None, ge=1, le=MAX_ID),
    item: int | None = Query(None, ge=1, le=MAX_ID),
    after: int | None = Query(None, ge=1, le=MAX_ID),
):
    chosen = None
    if campaign is not None:
        chosen = visible_campaigns(request.user).filter(pk=campaign).first()
        if chosen is None:
            raise ApiRefusal(404, "not_found", _("找不到该评议活动，或不在您的管理范围内"))
    filters = QueueFilters(
        campaign=chosen,
        state=state,
        overdue=overdue,
        unit=get_org_in_scope_or_404(request.user, pk=unit) if unit is not None else None,
        item_id=item,
    )
    cases = case_queue(request.user, filters)
    if after is not None:
        cases = cases.filter(pk__lt=after)
    ids = list(cases.values_list("pk", flat=True)[:PAGE_SIZE])
    rows = with_page_relations(Case.objects.filter(pk__in=ids)).order_by("-pk")
    return [CaseOut(**_case_out(c)) for c in rows]


@router.get(
    "/cases/{case_id}",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("一件差评处置：评议内容（不含评议人）、处置过程与申诉"),
)
def case_detail(request: HttpRequest, case_id: int):
    return _detail(request, _get(request, case_id))


@router.post(
    "/cases/{case_id}/verify",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("核实"),
)
def verify(request: HttpRequest, case_id: int, payload: VerifyIn):
    return _step(
        request,
        case_id,
        lambda case: services.verify_case(case=case, by=request.user, finding=payload.finding),
    )


@router.post(
    "/cases/{case_id}/reply",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("整改答复（处理结果、整改措施、给会员的答复）"),
)
def reply(request: HttpRequest, case_id: int, payload: ReplyIn):
    return _step(
        request,
        case_id,
        lambda case: services.reply_case(
            case=case,
            by=request.user,
            outcome=payload.outcome,
            measures=payload.measures,
            reply=payload.reply,
            rectify_by=payload.rectify_by,
        ),
    )


@router.post(
    "/cases/{case_id}/return-visit",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("登记回访（仅会员同意回访的差评）"),
)
def return_visit(request: HttpRequest, case_id: int, payload: NoteIn):
    return _step(
        request,
        case_id,
        lambda case: services.record_return_visit(case=case, by=request.user, note=payload.note),
    )


@router.post(
    "/cases/{case_id}/rectified",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("登记限期整改完成（整改台账）"),
)
def rectified(request: HttpRequest, case_id: int, payload: NoteIn):
    return _step(
        request,
        case_id,
        lambda case: services.complete_rectification(case=case, by=request.user, note=payload.note),
    )


@router.post(
    "/cases/{case_id}/appeal",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("申诉（被评工会提出）"),
)
def appeal(request: HttpRequest, case_id: int, payload: AppealIn):
    return _step(
        request,
        case_id,
        lambda case: services.file_appeal(
            case=case, by=request.user, claim=payload.claim, reasons=payload.reasons
        ),
    )


@router.post(
    "/cases/{case_id}/appeal/decision",
    response={200: CaseDetailOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("裁定申诉（上级工会）"),
)
def decide(request: HttpRequest, case_id: int, payload: DecisionIn):
    return _step(
        request,
        case_id,
        lambda case: services.decide_appeal(
            case=case, by=request.user, upheld=payload.upheld, reasons=payload.reasons
        ),
    )
