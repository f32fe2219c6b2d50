"""Console pages of the roster (会员名册) import: upload, preview, confirm, progress, result.

The rules live in members.roster_import; these views check who may import where, keep the
uploaded file between the preview and the confirmation, start the import (a Celery task, in
process without a broker) and render. Pages show ID numbers and phones masked only.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.throttle import client_address
from orgs.models import Org
from orgs.scoping import can_manage, restrict_to_scope
from pingyi import jobs
from pingyi.console import console_view
from pingyi.imports import PendingImports, import_list_page, managed_parent, parent_choices
from pingyi.spreadsheets import EXPIRED_MESSAGE
from pingyi.xlsx import xlsx_download

from .audit import record_audit
from .forms_import import RosterUploadForm
from .models import AuditAction, ImportStatus, RosterImport
from .roster_import import (
    changed_fields_text,
    import_progress,
    masked_refused_rows,
    plan_roster,
    read_roster,
    refused_rows_xlsx,
    start_roster_import,
    upload_stash,
)
from .tasks import import_roster

pending_imports = PendingImports(session_key="roster_imports", stash=upload_stash)
# A preview of 100,000 rows lists the first rows and the refused ones; the counts say the rest.
PREVIEW_ROWS = 300
SHOWN_REFUSED = 1000
NOT_ALLOWED = gettext_lazy("您的角色只能查看，不能导入会员名册。")


def _imports_in_scope(user) -> QuerySet[RosterImport]:
    return restrict_to_scope(
        RosterImport.objects.select_related("parent", "imported_by"), user, org_field="parent"
    )


def _managed_parent(user, org_id) -> Org:
    return managed_parent(user, org_id, not_allowed=NOT_ALLOWED)


@console_view
def import_list(request):
    return import_list_page(
        request,
        template="members/console/roster_import_list.html",
        imports=_imports_in_scope(request.user),
        nav="roster_imports",
    )


@console_view
def import_new(request):
    source = request.POST if request.method == "POST" else request.GET
    parent = _managed_parent(request.user, source["parent"]) if source.get("parent") else None
    parents = parent_choices(request.user, parent, not_allowed=NOT_ALLOWED, limit=2000)
    if request.method == "POST":
        form = RosterUploadForm(request.POST, request.FILES, parents=parents)
        if form.is_valid():
            parent = _managed_parent(request.user, form.cleaned_data["parent"])
            return _preview(request, form, parent)
    else:
        form = RosterUploadForm(initial={"parent": (parent or parents[0]).pk}, parents=parents)
    return render(
        request, "members/console/roster_import_new.html", {"form": form, "nav": "roster_imports"}
    )


def _preview(request, form: RosterUploadForm, parent: Org):
    upload = form.read_upload(read_roster)
    if upload is None:
        return render(
            request,
            "members/console/roster_import_new.html",
            {"form": form, "nav": "roster_imports"},
        )
    plan = plan_roster(
        parent=parent, table=upload.table, filename=upload.filename, user=request.user
    )
    token = pending_imports.keep(
        request, upload=upload, plan=plan, details={"parent": parent.pk, "rows": len(plan.rows)}
    )
    refused = plan.refused
    return render(
        request,
        "members/console/roster_import_preview.html",
        {
            "plan": plan,
            "counts": plan.counts,
            "token": token,
            "keep_valid": upload.keep_valid,
            "first_rows": plan.rows[:PREVIEW_ROWS],
            "more_rows": max(len(plan.rows) - PREVIEW_ROWS, 0),
            "refused": refused[:SHOWN_REFUSED],
            "more_refused": max(len(refused) - SHOWN_REFUSED, 0),
            "again_url": f"{reverse('roster_imports:new')}?parent={parent.pk}",
            "nav": "roster_imports",
        },
    )


@console_view
def import_confirm(request):
    """Start the import of a previewed file; the task plans it again and applies it."""
    if request.method != "POST":
        return redirect("roster_imports:new")
    token = request.POST.get("token", "")
    pending = pending_imports.get(request, token)
    if pending is None:
        messages.error(request, EXPIRED_MESSAGE)
        return redirect("roster_imports:new")
    parent = _managed_parent(request.user, pending["parent"])
    # The file stays for the task, which reads it and then discards it.
    pending_imports.drop(request, token)
    record = start_roster_import(
        parent=parent,
        filename=pending["filename"],
        sha256=pending["sha256"],
        keep_valid=pending["keep_valid"],
        user=request.user,
        rows_total=pending["rows"],
    )
    # A worker (or, without a broker, a thread of this process) runs it; the result page
    # shows its progress.
    jobs.start(import_roster, record.pk, token)
    return redirect("roster_imports:detail", import_id=record.pk)


@console_view
def import_detail(request, import_id: int):
    record = get_object_or_404(_imports_in_scope(request.user), pk=import_id)
    done, total = import_progress(record)
    refused = masked_refused_rows(record, limit=SHOWN_REFUSED)
    response = render(
        request,
        "members/console/roster_import_detail.html",
        {
            "record": record,
            "running": record.status == ImportStatus.RUNNING,
            "done": done,
            "total": total,
            "percent": int(done * 100 / total) if total else 0,
            "changed_text": changed_fields_text(record.changed_fields),
            "refused": refused,
            "more_refused": max(record.refused_count - len(refused), 0),
            "can_download": can_manage(request.user, record.parent),
            "nav": "roster_imports",
        },
    )
    if record.status == ImportStatus.RUNNING:
        # The page reloads itself until the worker is done; no script needed.
        response["Refresh"] = "2"
    return response


@console_view
def import_progress_json(request, import_id: int):
    record = get_object_or_404(_imports_in_scope(request.user), pk=import_id)
    done, total = import_progress(record)
    return JsonResponse({"status": record.status, "rows_done": done, "rows_total": total})


@console_view
def refused_xlsx(request, import_id: int):
    """The refused rows in clear, to correct them: only for admins of the unit, audit-logged."""
    record = get_object_or_404(_imports_in_scope(request.user), pk=import_id)
    if not can_manage(request.user, record.parent):
        raise PermissionDenied(_("您的角色只能查看，不能下载含个人信息的名册。"))
    content = refused_rows_xlsx(record)
    record_audit(
        action=AuditAction.EXPORTED,
        actor=request.user,
        org=record.parent,
        note=_("下载名册导入 #%(id)s 被拒绝的 %(count)s 行")
        % {"id": record.pk, "count": record.refused_count},
        address=client_address(request),
    )
    return xlsx_download(content, f"会员名册拒绝的行-{record.pk}.xlsx")
