"""Console pages of 差评处置: the queue, the case page and its steps, figures, ledger, notices.

Thin views: who may read is cases.permissions (through orgs.scoping), what a step does is
cases.services, reads are cases.selectors. A case outside the admin's scope answers 404.
"""

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.throttle import client_address
from campaigns.models import Campaign
from campaigns.selectors import current_campaign, visible_campaigns
from evaluations.selectors import answer_rows, questionnaire
from orgs.scoping import get_org_in_scope_or_404, scope_roots
from pingyi.console import console_view, int_or_none
from pingyi.xlsx import xlsx_download

from . import exports, permissions, services
from .models import (
    Appeal,
    AppealClaim,
    Case,
    CaseState,
    Outcome,
)
from .selectors import (
    QueueFilters,
    case_queue,
    figures_by_unit,
    is_overdue,
    ledger,
    notices_for,
    timeline,
    with_page_relations,
)

PAGE_SIZE = 50


def _campaign(request) -> Campaign | None:
    """The campaign asked for (one the admin may read), else the current one of their scope."""
    campaigns = visible_campaigns(request.user)
    wanted = int_or_none(request.GET.get("campaign"))
    if wanted is not None:
        campaign = campaigns.filter(pk=wanted).first()
        if campaign is None:
            raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
        return campaign
    roots = scope_roots(request.user)
    if roots:
        found = current_campaign(roots[0])
        if found is not None:
            return found
    return campaigns.order_by("-starts_at").first()


def _filters(request) -> tuple[QueueFilters, dict]:
    campaign = _campaign(request)
    unit = None
    if int_or_none(request.GET.get("unit")) is not None:
        unit = get_org_in_scope_or_404(request.user, pk=int_or_none(request.GET.get("unit")))
    filters = QueueFilters(
        campaign=campaign,
        state=request.GET.get("state", ""),
        overdue=request.GET.get("overdue") == "1",
        escalated=request.GET.get("escalated") == "1",
        unit=unit,
        item_id=int_or_none(request.GET.get("item")),
    )
    query = urlencode(
        [
            (k, v)
            for k, values in request.GET.lists()
            for v in values
            if k not in {"after", "before"} and v
        ]
    )
    return filters, {"query": query}


def _page(queryset, request) -> dict:
    """One page of cases newest first by id (?after=<id> / ?before=<id>): no count, no offset."""
    after, before = int_or_none(request.GET.get("after")), int_or_none(request.GET.get("before"))
    if before is not None:
        ids = list(
            queryset.filter(pk__gt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[: PAGE_SIZE + 1]
        )
        has_prev, has_next = len(ids) > PAGE_SIZE, True
        ids = ids[:PAGE_SIZE]
    else:
        if after is not None:
            queryset = queryset.filter(pk__lt=after)
        ids = list(queryset.order_by("-pk").values_list("pk", flat=True)[: PAGE_SIZE + 1])
        has_next, has_prev = len(ids) > PAGE_SIZE, after is not None
        ids = ids[:PAGE_SIZE]
    rows = list(with_page_relations(Case.objects.filter(pk__in=ids)).order_by("-pk"))
    today = timezone.localdate()
    for case in rows:
        case.overdue = is_overdue(case, today)
    return {
        "rows": rows,
        "next": rows[-1].pk if has_next and rows else None,
        "prev": rows[0].pk if has_prev and rows else None,
    }


def _nav(context: dict) -> dict:
    return {"nav": "cases", **context}


@console_view
def queue(request):
    filters, extra = _filters(request)
    campaign = filters.campaign
    cases = case_queue(request.user, filters) if campaign else Case.objects.none()
    return render(
        request,
        "cases/queue.html",
        _nav(
            {
                "campaign": campaign,
                "campaigns": visible_campaigns(request.user).order_by("-starts_at"),
                "filters": filters,
                "states": [*CaseState.choices, ("excluded", _("申诉成立"))],
                "items": questionnaire(campaign).items if campaign else [],
                "units": _units(request.user),
                "page": _page(cases, request),
                **extra,
            }
        ),
    )


def _units(user) -> list:
    """The units an admin filters by: their scope's tops and the level below."""
    from orgs.selectors import children_of

    units = []
    for root in scope_roots(user):
        units.append(root)
        units.extend(children_of(root))
    return units


@console_view
def export_queue(request):
    filters, _extra = _filters(request)
    if filters.campaign is None:
        raise Http404(_("没有可导出的评议活动"))
    cases = case_queue(request.user, filters)
    data = exports.queue_xlsx(cases, campaign=filters.campaign)
    return xlsx_download(data, f"差评处置清单_{timezone.localdate():%Y%m%d}.xlsx")


def _case_or_404(request, case_id: int) -> Case:
    return get_object_or_404(
        with_page_relations(permissions.cases_in_scope(request.user)).select_related(
            "evaluation__campaign"
        ),
        pk=case_id,
    )


@console_view
def case_detail(request, case_id: int):
    case = _case_or_404(request, case_id)
    return _render_case(request, case)


def _render_case(request, case: Case, *, step: str = "", error: str = "", status: int = 200):
    evaluation = case.evaluation
    user = request.user
    contact = services.return_visit_contact(
        case=case, by=user, address=client_address(request) or ""
    )
    appeal = Appeal.objects.filter(case=case).select_related("decided_by", "filed_by").first()
    can_handle = permissions.can_handle(user, case)
    return render(
        request,
        "cases/case.html",
        _nav(
            {
                "case": case,
                "evaluation": evaluation,
                "answers": answer_rows(evaluation),
                "events": timeline(case),
                "appeal": appeal,
                "contact": contact,
                "overdue": is_overdue(case),
                "can_handle": can_handle and case.is_open,
                "can_appeal": (
                    case.is_open
                    and appeal is None
                    and not case.reopen_count
                    and case.state in (CaseState.VERIFYING, CaseState.RECTIFYING)
                    and permissions.can_appeal(user, case)
                ),
                "can_decide": (
                    case.state == CaseState.APPEALING and permissions.can_decide_appeal(user, case)
                ),
                "can_visit": (
                    can_handle
                    and evaluation.return_visit
                    and case.state in (CaseState.RECTIFYING, CaseState.REPLIED)
                ),
                "can_complete": (
                    can_handle and case.outcome == Outcome.BY_DEADLINE and not case.rectified_at
                ),
                "handler": permissions.handler_org(case),
                "outcomes": Outcome.choices,
                "claims": AppealClaim.choices,
                "step": step,
                "error": error,
                "filled": request.POST if request.method == "POST" else {},
                "today": timezone.localdate().isoformat(),
            }
        ),
        status=status,
    )


def _step(request, case_id: int, step: str, action):
    case = _case_or_404(request, case_id)
    try:
        action(case)
    except services.CaseError as refusal:
        return _render_case(request, case, step=step, error=refusal.message, status=refusal.status)
    return redirect("cases:detail", case.pk)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise services.CaseInvalid(
            _("承诺整改完成日期“%(value)s”不是有效日期。") % {"value": value[:20]},
            field="rectify_by",
        ) from exc


@console_view
@require_POST
def verify(request, case_id: int):
    def act(case):
        services.verify_case(case=case, by=request.user, finding=request.POST.get("finding", ""))
        messages.success(request, _("已记录核实情况。"))

    return _step(request, case_id, "verify", act)


@console_view
@require_POST
def reply(request, case_id: int):
    def act(case):
        services.reply_case(
            case=case,
            by=request.user,
            outcome=request.POST.get("outcome", ""),
            measures=request.POST.get("measures", ""),
            reply=request.POST.get("reply", ""),
            rectify_by=_date(request.POST.get("rectify_by", "")),
        )
        messages.success(request, _("已答复会员，等待会员评价处理情况。"))

    return _step(request, case_id, "reply", act)


@console_view
@require_POST
def visit(request, case_id: int):
    def act(case):
        services.record_return_visit(
            case=case, by=request.user, note=request.POST.get("visit_note", "")
        )
        messages.success(request, _("已登记回访。"))

    return _step(request, case_id, "visit", act)


@console_view
@require_POST
def rectified(request, case_id: int):
    def act(case):
        services.complete_rectification(
            case=case, by=request.user, note=request.POST.get("note", "")
        )
        messages.success(request, _("已登记整改完成。"))

    return _step(request, case_id, "rectified", act)


@console_view
@require_POST
def appeal(request, case_id: int):
    def act(case):
        services.file_appeal(
            case=case,
            by=request.user,
            claim=request.POST.get("claim", ""),
            reasons=request.POST.get("reasons", ""),
        )
        messages.success(request, _("已提交申诉，等待上级工会裁定。"))

    return _step(request, case_id, "appeal", act)


@console_view
@require_POST
def decide(request, case_id: int):
    def act(case):
        decision = request.POST.get("decision")
        if decision not in ("upheld", "refused"):
            raise services.CaseInvalid(_("请选择申诉成立或驳回。"), field="decision")
        services.decide_appeal(
            case=case,
            by=request.user,
            upheld=decision == "upheld",
            reasons=request.POST.get("decision_reasons", ""),
        )
        messages.success(request, _("已裁定申诉。"))

    return _step(request, case_id, "decide", act)


# ---------------------------------------------------------------- figures, ledger, notices


def _figures_table(request):
    campaign = _campaign(request)
    if campaign is None:
        raise Http404(_("没有可查看的评议活动"))
    org_id = int_or_none(request.GET.get("org"))
    if org_id is not None:
        parent = get_org_in_scope_or_404(request.user, pk=org_id)
    else:
        roots = scope_roots(request.user)
        if not roots:
            raise Http404(_("找不到该工会组织，或不在您的管理范围内"))
        parent = roots[0]
    return figures_by_unit(campaign=campaign, parent=parent)


@console_view
def figures(request):
    table = _figures_table(request)
    return render(
        request,
        "cases/figures.html",
        _nav(
            {
                "table": table,
                "campaigns": visible_campaigns(request.user).order_by("-starts_at"),
                "query": urlencode({"campaign": table.campaign.pk, "org": table.parent.pk}),
            }
        ),
    )


@console_view
def export_figures(request):
    table = _figures_table(request)
    return xlsx_download(
        exports.figures_xlsx(table),
        f"差评处置情况_{table.parent.name}_{timezone.localdate():%Y%m%d}.xlsx",
    )


@console_view
def ledger_view(request):
    campaign = _campaign(request)
    # By promised date, so pages by number: the ledger holds only the 限期整改 cases.
    page = Paginator(ledger(request.user, campaign=campaign), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    for case in page:
        case.late = case.rectified_at is None and case.rectify_by < today
    return render(request, "cases/ledger.html", _nav({"page": page, "campaign": campaign}))


@console_view
def notices(request):
    rows = list(notices_for(request.user).select_related("case", "org")[:200])
    return render(request, "cases/notices.html", _nav({"rows": rows}))


@console_view
@require_POST
def notices_read(request):
    count = services.mark_notices_read(notices=notices_for(request.user), by=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条提醒标为已读。") % {"count": count})
    return redirect("cases:notices")
