"""Console pages of the roster (masked), the correction queue and the identity audit log.

Every read goes through the admin's scope; another unit's member or request answers 404. Full
ID numbers and phones appear only in the answer to an explicit, audited 显示完整号码.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts.throttle import client_address
from orgs.scoping import get_org_in_scope_or_404, in_scope, scope_roots
from orgs.selectors import within
from orgs.services import normalize_org_name
from pingyi.console import console_view, int_or_none

from . import crypto
from .audit import record_audit
from .corrections import CorrectionError, approve_correction, refuse_correction, roster_candidates
from .identity import IdentityError, parse_id_number, parse_mobile
from .models import (
    AuditAction,
    AuditEvent,
    CorrectionRequest,
    CorrectionStatus,
    Member,
    MemberStatus,
)
from .permissions import (
    CORRECTION_ROLES,
    can_see_personal_data,
    can_work_corrections,
    corrections_scope,
)
from .selectors import members_in_scope
from .transfer import MAX_KEYWORD_LENGTH

PAGE_SIZE = 50


def _keyset_page(queryset, request, *, related: tuple[str, ...], size: int = PAGE_SIZE):
    """One page of rows newest first, by id, without counting the table.

    ?after=<id> reads the page after a row, ?before=<id> the page before it; both are index
    range scans however deep the page.
    """
    after, before = int_or_none(request.GET.get("after")), int_or_none(request.GET.get("before"))
    if before is not None:
        rows = _first_rows(queryset.filter(pk__gt=before), "pk", size + 1, related)
        has_prev = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_next = True
    else:
        if after is not None:
            queryset = queryset.filter(pk__lt=after)
        rows = _first_rows(queryset, "-pk", size + 1, related)
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after is not None
    return {
        "rows": rows,
        "next": rows[-1].pk if has_next and rows else None,
        "prev": rows[0].pk if has_prev and rows else None,
    }


def _first_rows(queryset, order: str, limit: int, related: tuple[str, ...]) -> list:
    """The first `limit` rows in `order` (by pk), in two steps: their ids, then the rows.

    The ids are picked from the bare table with the scope's filter (for a small subtree an
    index-only scan of (org_id, id), for a large one the pk index backwards), then only those
    rows are read, with the `related` rows the page shows. In one query PostgreSQL, which takes a
    county's path range for a single org, read and joined every row of the subtree before
    sorting: a county admin's roster page of 10 million members took 104 ms, the audit log 149 ms
    (benchmarks/members_scale.py).
    """
    ids = list(queryset.order_by(order).values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    # The rows by their ids alone: with the scope's filter repeated, the planner would walk the
    # subtree's orgs again (63 ms for a county) to find 51 rows it can fetch by primary key.
    rows = queryset.model._default_manager.select_related(*related).filter(pk__in=ids)
    return list(rows.order_by(order))


def _query_without(request, *drop: str) -> str:
    """The current filters as a query string, minus the paging (and any named) parameters."""
    kept = [
        (k, v)
        for k, values in request.GET.lists()
        for v in values
        if k not in {"after", "before", *drop} and v
    ]
    return urlencode(kept)


# How the audited fields read in the log; fields other producers record show as they are.
CHANGE_LABELS = {
    "name": gettext_lazy("姓名"),
    "id_number": gettext_lazy("身份证号码"),
    "phone": gettext_lazy("手机号码"),
    "org": gettext_lazy("所在工会"),
}


def _labelled(events) -> list[AuditEvent]:
    events = list(events)
    for event in events:
        event.change_rows = [
            (CHANGE_LABELS.get(field, field), *[*values, "", ""][:2])
            for field, values in (event.changes or {}).items()
        ]
    return events


# The roster -----------------------------------------------------------------------------


@sensitive_variables("text", "number")
def _search_filter(text: str) -> tuple[dict, str]:
    """What the search box means: a whole ID number, a mobile number or part of a name.

    ID numbers and phones never travel in a URL: the page's link carries their keyed hash.
    """
    text = text.strip()
    if not text:
        return {}, ""
    try:
        number = parse_id_number(text).number
    except IdentityError:
        pass
    else:
        return {"idh": crypto.lookup_hash("id", number)}, ""
    try:
        number = parse_mobile(text)
    except IdentityError:
        pass
    else:
        return {"ph": crypto.lookup_hash("phone", number)}, ""
    if any(ch.isdigit() for ch in text):
        return {}, _("请输入完整的 18 位身份证号码或 11 位手机号码，或姓名中的字。")
    return {"q": text[:50]}, ""


@console_view
@sensitive_post_parameters("q")
def member_list(request):
    if request.method == "POST":
        # The search box posts, so that an ID number or phone never lands in a URL or access log.
        params, problem = _search_filter(request.POST.get("q", ""))
        if problem:
            messages.error(request, problem)
        for key in ("org", "union", "registered", "status"):
            if request.POST.get(key):
                params[key] = request.POST[key]
        return redirect(f"{request.path}?{urlencode(params)}" if params else request.path)

    members = members_in_scope(request.user)
    union = None
    if int_or_none(request.GET.get("org")) is not None:
        union = get_org_in_scope_or_404(request.user, pk=int_or_none(request.GET.get("org")))
        members = members.filter(within(union, "org__path"))
    union_keyword = normalize_org_name(request.GET.get("union", ""))[:MAX_KEYWORD_LENGTH]
    if union_keyword:
        members = members.filter(org__name__contains=union_keyword)
    name = request.GET.get("q", "").strip()[:50]
    if name:
        members = members.filter(name__contains=name)
    if request.GET.get("idh"):
        members = members.filter(id_hash=request.GET["idh"])
    if request.GET.get("ph"):
        members = members.filter(phone_hash=request.GET["ph"])
    registered = request.GET.get("registered")
    if registered == "yes":
        members = members.filter(user__isnull=False)
    elif registered == "no":
        members = members.filter(user__isnull=True)
    status = request.GET.get("status")
    if status in MemberStatus.values:
        members = members.filter(status=status)
    page = _keyset_page(members, request, related=("org",))
    return render(
        request,
        "members/console/member_list.html",
        {
            "page": page,
            "union": union,
            "union_keyword": union_keyword,
            "name": name,
            "by_number": bool(request.GET.get("idh") or request.GET.get("ph")),
            "registered": registered,
            "status": status,
            "statuses": MemberStatus.choices,
            "query": _query_without(request),
            "nav": "members",
        },
    )


def _member_in_scope(request, member_id: int) -> Member:
    return get_object_or_404(members_in_scope(request.user).select_related("user"), pk=member_id)


def _member_page(request, member: Member, revealed: dict | None = None):
    transfers = member.transfers.select_related("from_org", "to_org", "by")
    # Correction requests and the audit trail are for those who work corrections (as the queue
    # and the audit log are); a viewer reads the masked roster entry and its transfers.
    works_corrections = can_work_corrections(request.user, member.org)
    corrections = (
        member.corrections.select_related("org", "decided_by").order_by("-submitted_at")
        if works_corrections
        else []
    )
    events = (
        _labelled(member.audit_events.select_related("actor", "org")[:100])
        if works_corrections
        else []
    )
    response = render(
        request,
        "members/console/member_detail.html",
        {
            "member": member,
            "transfers": transfers,
            "corrections": corrections,
            "events": events,
            "works_corrections": works_corrections,
            "can_reveal": can_see_personal_data(request.user, member.org),
            "revealed": revealed,
            "nav": "members",
        },
    )
    if revealed:
        # The full numbers are shown once: no cache, no back-button copy.
        response["Cache-Control"] = "no-store"
    return response


@console_view
def member_detail(request, member_id: int):
    return _member_page(request, _member_in_scope(request, member_id))


@console_view
@require_POST
@sensitive_variables("revealed")
def member_reveal(request, member_id: int):
    """显示完整号码: the full ID number and phone, once, written to the audit log."""
    member = _member_in_scope(request, member_id)
    if not can_see_personal_data(request.user, member.org):
        raise PermissionDenied(_("您的角色只能查看脱敏后的号码。"))
    record_audit(
        action=AuditAction.REVEALED,
        actor=request.user,
        member=member,
        note=_("查看完整身份证号码和手机号码"),
        address=client_address(request),
    )
    revealed = {"id_number": member.id_number, "phone": member.phone}
    return _member_page(request, member, revealed)


# The correction queue --------------------------------------------------------------------

STATUS_FILTERS = [
    ("pending", gettext_lazy("待处理")),
    ("approved", gettext_lazy("已更正")),
    ("refused", gettext_lazy("已驳回")),
    ("all", gettext_lazy("全部")),
]


def _corrections(request):
    if not _correction_roots(request.user):
        raise PermissionDenied(_("您的角色不能处理信息更正申请。"))
    return corrections_scope(
        CorrectionRequest.objects.select_related("org", "member", "decided_by"), request.user
    )


def _correction_roots(user):
    return scope_roots(user, CORRECTION_ROLES)


@console_view
def correction_list(request):
    requests = _corrections(request)
    status = request.GET.get("status", "pending")
    if status in CorrectionStatus.values:
        requests = requests.filter(status=status).order_by("-submitted_at", "-pk")
    else:
        status = "all"
        requests = requests.annotate(
            waiting=Case(
                When(status=CorrectionStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("waiting", "-submitted_at", "-pk")
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "members/console/correction_list.html",
        {
            "page": page,
            "status": status,
            "filters": STATUS_FILTERS,
            "pending_count": _corrections(request).filter(status=CorrectionStatus.PENDING).count(),
            "nav": "corrections",
        },
    )


def _correction_in_scope(request, request_id: int) -> CorrectionRequest:
    return get_object_or_404(_corrections(request), pk=request_id)


@console_view
def correction_detail(request, request_id: int):
    correction = _correction_in_scope(request, request_id)
    candidates = []
    found_by_id = None
    if correction.status == CorrectionStatus.PENDING and correction.member is None:
        found_by_id = (
            Member.objects.select_related("org").filter(id_hash=correction.id_hash).first()
        )
        if found_by_id is None:
            candidates = roster_candidates(correction)
    target = correction.member or found_by_id
    return render(
        request,
        "members/console/correction_detail.html",
        {
            "correction": correction,
            "target": target,
            # Outside the admin's subtree the person is not theirs to learn about: no name or union.
            "target_in_scope": target is not None and in_scope(request.user, target.org),
            "candidates": candidates,
            "can_decide": can_work_corrections(request.user, correction.org),
            "nav": "corrections",
        },
    )


@console_view
@require_POST
def correction_approve(request, request_id: int):
    correction = _correction_in_scope(request, request_id)
    member = None
    picked = request.POST.get("member")
    if picked:
        member = next((m for m in roster_candidates(correction) if str(m.pk) == picked), None)
        if member is None:
            raise Http404(_("找不到所选会员"))
    try:
        approve_correction(
            request=correction, by=request.user, member=member, address=client_address(request)
        )
    except (CorrectionError, IdentityError) as error:
        messages.error(request, str(error))
        return redirect("member_console:correction_detail", request_id=correction.pk)
    messages.success(
        request,
        _("已更正“%(name)s”的信息，并已短信通知申请人。") % {"name": correction.name},
    )
    return redirect("member_console:corrections")


@console_view
@require_POST
def correction_refuse(request, request_id: int):
    correction = _correction_in_scope(request, request_id)
    try:
        refuse_correction(
            request=correction,
            by=request.user,
            reason=request.POST.get("reason", ""),
            address=client_address(request),
        )
    except CorrectionError as error:
        messages.error(request, str(error))
        return redirect("member_console:correction_detail", request_id=correction.pk)
    messages.success(
        request, _("已驳回“%(name)s”的申请，并已短信告知理由。") % {"name": correction.name}
    )
    return redirect("member_console:corrections")


# The identity audit log -------------------------------------------------------------------


@console_view
def audit_log(request):
    if not _correction_roots(request.user):
        raise PermissionDenied(_("您的角色不能查看个人信息操作日志。"))
    events = corrections_scope(
        AuditEvent.objects.select_related("actor", "member", "org"), request.user
    )
    action = request.GET.get("action")
    if action in AuditAction.values:
        events = events.filter(action=action)
    member_id = int_or_none(request.GET.get("member"))
    if member_id is not None:
        events = events.filter(member_id=member_id)
    page = _keyset_page(events, request, related=("actor", "member", "org"))
    page["rows"] = _labelled(page["rows"])
    return render(
        request,
        "members/console/audit_log.html",
        {
            "page": page,
            "action": action,
            "actions": AuditAction.choices,
            "query": _query_without(request),
            "nav": "audit",
        },
    )
