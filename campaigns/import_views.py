"""Console pages of the task-table (任务分解表) import: upload, preview, confirm, result.

The rules live in campaigns.task_table; these views check who may import where, keep the
uploaded file between the preview and the confirmation, and render.
"""

from django.contrib import messages
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from orgs.models import Org
from orgs.scoping import restrict_to_scope
from pingyi.console import console_view
from pingyi.imports import PendingImports, import_list_page, managed_parent, parent_choices
from pingyi.xlsx import xlsx_download

from .forms_import import TaskTableUploadForm
from .models import Campaign, TaskTableImport
from .selectors import campaigns_for_org, current_campaign, visible_campaigns
from .task_table import (
    EXPIRED_MESSAGE,
    TaskTableError,
    TaskTablePlan,
    TaskTableRefused,
    apply_task_table,
    plan_task_table,
    read_table,
    refused_rows_xlsx,
    upload_stash,
)

pending_imports = PendingImports(session_key="task_table_imports", stash=upload_stash)
NOT_ALLOWED = gettext_lazy("您的角色只能查看，不能导入任务分解表。")


def _imports_in_scope(user) -> QuerySet[TaskTableImport]:
    return restrict_to_scope(
        TaskTableImport.objects.select_related("campaign", "parent", "imported_by"),
        user,
        org_field="parent",
    )


@console_view
def import_list(request):
    return import_list_page(
        request,
        template="campaigns/import_list.html",
        imports=_imports_in_scope(request.user),
        nav="imports",
    )


def _managed_parent(user, org_id) -> Org:
    return managed_parent(user, org_id, not_allowed=NOT_ALLOWED)


def _new_url(parent: Org, campaign: Campaign) -> str:
    return f"{reverse('imports:new')}?parent={parent.pk}&campaign={campaign.pk}"


@console_view
def import_new(request):
    source = request.POST if request.method == "POST" else request.GET
    parent = _managed_parent(request.user, source["parent"]) if source.get("parent") else None
    parents = parent_choices(request.user, parent, not_allowed=NOT_ALLOWED)
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
    upload = form.read_upload(read_table)
    if upload is None:
        return None
    plan = plan_task_table(
        campaign=campaign, parent=parent, table=upload.table, filename=upload.filename
    )
    token = pending_imports.keep(
        request, upload=upload, plan=plan, details={"parent": parent.pk, "campaign": campaign.pk}
    )
    return _render_preview(request, plan, token=token, keep_valid=upload.keep_valid)


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


@console_view
@require_POST
def import_confirm(request):
    """Read the kept file again, plan again (the database may have changed) and apply."""
    token = request.POST.get("token", "")
    pending = pending_imports.get(request, token)
    if pending is None:
        messages.error(request, EXPIRED_MESSAGE)
        return redirect("imports:new")
    parent = _managed_parent(request.user, pending["parent"])
    campaign = get_object_or_404(campaigns_for_org(parent), pk=pending["campaign"])
    filename = pending["filename"]
    try:
        data = upload_stash.read(token=token, filename=filename)
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
        pending_imports.discard(request, token)
        messages.error(request, str(exc))
        return redirect(_new_url(parent, campaign))
    except TaskTableRefused as exc:
        pending_imports.discard(request, token)
        error = _("预览之后数据发生了变化，重新核对的结果：%(result)s") % {"result": exc}
        return _render_preview(request, exc.plan, token="", keep_valid=False, error=error)
    pending_imports.discard(request, token)
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
    return xlsx_download(refused_rows_xlsx(record), f"任务分解表拒绝的行-{record.pk}.xlsx")
