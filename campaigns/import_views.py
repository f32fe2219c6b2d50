"""Console pages of the task-table (任务分解表) import: upload, preview, confirm, result.

The rules live in campaigns.task_table; these views check who may import where, keep the
uploaded file between the preview and the confirmation, and render.
"""

import hashlib
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import MANAGING_ROLES
from orgs.models import Org
from orgs.scoping import can_manage, get_org_in_scope_or_404, restrict_to_scope, scope_roots
from orgs.selectors import within
from pingyi.console import console_view

from .forms_import import TaskTableUploadForm
from .models import Campaign, TaskTableImport
from .selectors import campaigns_for_org, current_campaign, visible_campaigns
from .task_table import (
    EXPIRED_MESSAGE,
    TaskTableError,
    TaskTablePlan,
    TaskTableRefused,
    apply_task_table,
    discard_stashed_upload,
    plan_task_table,
    read_stashed_upload,
    read_table,
    refused_rows_xlsx,
    stash_upload,
)

SESSION_KEY = "task_table_imports"
# Previews an admin may have open at once (tabs); older ones are dropped with their files.
MAX_PENDING = 5
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _imports_in_scope(user) -> QuerySet[TaskTableImport]:
    return restrict_to_scope(
        TaskTableImport.objects.select_related("campaign", "parent", "imported_by"),
        user,
        org_field="parent",
    )


@console_view
def import_list(request):
    return render(
        request,
        "campaigns/import_list.html",
        {
            "imports": _imports_in_scope(request.user)[:100],
            "can_import": bool(scope_roots(request.user, MANAGING_ROLES)),
            "nav": "imports",
        },
    )


def _managed_parent(user, org_id) -> Org:
    """The org to import under: another unit's answers 404, one the user only reads 403."""
    try:
        pk = int(org_id)
    except (TypeError, ValueError) as exc:
        raise Http404(_("找不到该工会组织，或不在您的管理范围内")) from exc
    parent = get_org_in_scope_or_404(user, pk=pk)
    if not can_manage(user, parent):
        raise PermissionDenied(_("您的角色只能查看，不能导入任务分解表。"))
    return parent


def _parent_choices(user, chosen: Org | None) -> list[Org]:
    """The orgs offered as parents: the admin's own and, down to depth 3, those with sub-units.

    A select listing thousands of grassroots unions would help nobody; any other org in scope
    is reached through the "导入任务分解表" button of its own page (?parent=).
    """
    roots = scope_roots(user, MANAGING_ROLES)
    if not roots:
        raise PermissionDenied(_("您的角色只能查看，不能导入任务分解表。"))
    wanted = Q(pk__in=[root.pk for root in roots])
    for root in roots:
        # The admin's own org, its units, and the units' sub-units that have children.
        wanted |= within(root) & (
            Q(depth__lte=root.depth + 1) | Q(depth=root.depth + 2, numchild__gt=0)
        )
    orgs = list(Org.objects.filter(wanted).order_by("path"))
    if chosen is not None and chosen not in orgs:
        orgs = sorted([*orgs, chosen], key=lambda org: org.path)
    return orgs


def _new_url(parent: Org, campaign: Campaign) -> str:
    return f"{reverse('imports:new')}?parent={parent.pk}&campaign={campaign.pk}"


@console_view
def import_new(request):
    source = request.POST if request.method == "POST" else request.GET
    parent = _managed_parent(request.user, source["parent"]) if source.get("parent") else None
    parents = _parent_choices(request.user, parent)
    campaigns = list(visible_campaigns(request.user).order_by("-starts_at", "-pk"))
    if request.method == "POST":
        form = TaskTableUploadForm(
            request.POST, request.FILES, campaigns=campaigns, parents=parents
        )
        if form.is_valid():
            response = _preview(request, form, parent)
            if response is not None:
                return response
    else:
        parent = parent or parents[0]
        wanted = request.GET.get("campaign", "")
        campaign = next((c for c in campaigns if str(c.pk) == wanted), None)
        campaign = campaign or current_campaign(parent)
        form = TaskTableUploadForm(
            initial={"parent": parent.pk, "campaign": campaign.pk if campaign else None},
            campaigns=campaigns,
            parents=parents,
        )
    return render(request, "campaigns/import_new.html", {"form": form, "nav": "imports"})


def _preview(request, form: TaskTableUploadForm, parent: Org):
    """Read and plan the uploaded table; keep the file when the admin may go on to confirm."""
    campaign = campaigns_for_org(parent).filter(pk=form.cleaned_data["campaign"]).first()
    if campaign is None:
        form.add_error(
            "campaign",
            _("“%(org)s”不参加该评议活动，请另选活动或上级组织。") % {"org": parent.name},
        )
        return None
    upload = form.cleaned_data["file"]
    data = upload.read()
    try:
        table = read_table(data, upload.name)
    except TaskTableError as exc:
        form.add_error("file", str(exc))
        return None
    plan = plan_task_table(campaign=campaign, parent=parent, table=table, filename=upload.name)
    keep_valid = form.cleaned_data["keep_valid"]
    token = ""
    if plan.can_apply(keep_valid=keep_valid):
        token = stash_upload(data=data, filename=upload.name)
        _remember(
            request,
            token,
            {
                "filename": upload.name,
                "parent": parent.pk,
                "campaign": campaign.pk,
                "keep_valid": keep_valid,
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
    return _render_preview(request, plan, token=token, keep_valid=keep_valid)


def _render_preview(request, plan: TaskTablePlan, *, token: str, keep_valid: bool, error=""):
    return render(
        request,
        "campaigns/import_preview.html",
        {
            "plan": plan,
            "token": token,
            "keep_valid": keep_valid,
            "error": error,
            "again_url": _new_url(plan.parent, plan.campaign),
            "nav": "imports",
        },
    )


def _remember(request, token: str, pending: dict) -> None:
    stash = dict(request.session.get(SESSION_KEY, {}))
    stash[token] = pending
    while len(stash) > MAX_PENDING:
        old_token = next(iter(stash))
        discard_stashed_upload(token=old_token, filename=stash.pop(old_token)["filename"])
    request.session[SESSION_KEY] = stash


def _forget(request, token: str) -> None:
    stash = dict(request.session.get(SESSION_KEY, {}))
    pending = stash.pop(token, None)
    if pending is not None:
        discard_stashed_upload(token=token, filename=pending["filename"])
        request.session[SESSION_KEY] = stash


@console_view
@require_POST
def import_confirm(request):
    """Read the kept file again, plan again (the database may have changed) and apply."""
    token = request.POST.get("token", "")
    pending = request.session.get(SESSION_KEY, {}).get(token)
    if pending is None:
        messages.error(request, EXPIRED_MESSAGE)
        return redirect("imports:new")
    parent = _managed_parent(request.user, pending["parent"])
    campaign = get_object_or_404(campaigns_for_org(parent), pk=pending["campaign"])
    filename = pending["filename"]
    try:
        data = read_stashed_upload(token=token, filename=filename)
        plan = plan_task_table(
            campaign=campaign, parent=parent, table=read_table(data, filename), filename=filename
        )
        record = apply_task_table(
            plan=plan,
            user=request.user,
            keep_valid=pending["keep_valid"],
            file_sha256=pending["sha256"],
        )
    except TaskTableError as exc:
        _forget(request, token)
        messages.error(request, str(exc))
        return redirect(_new_url(parent, campaign))
    except TaskTableRefused as exc:
        _forget(request, token)
        error = _("预览之后数据发生了变化，重新核对的结果：%(result)s") % {"result": exc}
        return _render_preview(request, exc.plan, token="", keep_valid=False, error=error)
    _forget(request, token)
    messages.success(
        request,
        _(
            "任务分解表已导入：新增 %(created)s 个单位，更新 %(updated)s 个，"
            "无变化 %(unchanged)s 个，拒绝 %(refused)s 行。"
        )
        % {
            "created": record.rows_created,
            "updated": record.rows_updated,
            "unchanged": record.rows_unchanged,
            "refused": record.rows_refused,
        },
    )
    return redirect("imports:detail", import_id=record.pk)


@console_view
def import_detail(request, import_id: int):
    record = get_object_or_404(_imports_in_scope(request.user), pk=import_id)
    return render(
        request,
        "campaigns/import_detail.html",
        {"record": record, "nav": "imports"},
    )


@console_view
def refused_xlsx(request, import_id: int):
    record = get_object_or_404(_imports_in_scope(request.user), pk=import_id)
    return FileResponse(
        io.BytesIO(refused_rows_xlsx(record)),
        as_attachment=True,
        filename=f"任务分解表拒绝的行-{record.pk}.xlsx",
        content_type=XLSX_TYPE,
    )
