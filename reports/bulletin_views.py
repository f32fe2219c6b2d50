"""Console pages of the weekly bulletin (每周通报): the list, one bulletin, its files, 生成通报.

An admin reads the published bulletins of the orgs in their scope and of those orgs' ancestors
(reports.bulletins.bulletins_visible_to); another unit's bulletin answers 404. Building one
needs orgs.scoping.can_manage on the bulletin's org; the build runs in the background.
"""

import io
from datetime import date, timedelta

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import MANAGING_ROLES
from campaigns.selectors import campaigns_for_org
from orgs.models import Org
from orgs.scoping import can_manage, in_scope, scope_roots
from pingyi import jobs
from pingyi.console import console_view
from pingyi.xlsx import XLSX_CONTENT_TYPE

from . import bulletin_formats as formats
from .bulletins import (
    BulletinRefused,
    bulletins_visible_to,
    claim_bulletin,
    cutoff_for_day,
    until_of,
    weekly_cutoff,
)
from .models import Bulletin, BulletinStatus
from .tasks import build_bulletin

PAGE_SIZE = 30
BULLETIN_FILE_CACHE_SECONDS = 24 * 3600
FORMATS = {
    "docx": (formats.bulletin_docx, formats.DOCX_TYPE),
    "xlsx": (formats.bulletin_xlsx, XLSX_CONTENT_TYPE),
    "pdf": (formats.bulletin_pdf, formats.PDF_TYPE),
}


def _build_choices(user) -> list[tuple[str, str]]:
    """(campaign:org, label) for each org the user manages at the top of their scope and each
    campaign it takes part in."""
    choices = []
    for org in scope_roots(user, MANAGING_ROLES)[:20]:
        for campaign in campaigns_for_org(org).order_by("-starts_at", "-pk")[:5]:
            choices.append((f"{campaign.pk}:{org.pk}", f"{org.name} · {campaign.name}"))
    return choices


def _default_until() -> date:
    return until_of(weekly_cutoff())


@console_view
def bulletin_list(request):
    published = bulletins_visible_to(request.user).filter(status=BulletinStatus.PUBLISHED)
    page = Paginator(published.order_by("-cutoff", "org__path", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reports/bulletin_list.html",
        {
            "page": page,
            "choices": _build_choices(request.user),
            "default_until": _default_until(),
            "latest_until": timezone.localdate() - timedelta(days=1),
            "nav": "bulletins",
        },
    )


def _visible_bulletin(user, bulletin_id: int) -> Bulletin:
    bulletin = get_object_or_404(
        bulletins_visible_to(user).select_related("built_by"), pk=bulletin_id
    )
    # A bulletin still building (or failed) is shown only to those who may build it.
    if not bulletin.is_published and not can_manage(user, bulletin.org):
        raise Http404(_("找不到该通报"))
    return bulletin


@console_view
def bulletin_detail(request, bulletin_id: int):
    bulletin = _visible_bulletin(request.user, bulletin_id)
    data = bulletin.data if bulletin.is_published else None
    response = render(
        request,
        "reports/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "data": data,
            "columns": formats.table_columns(),
            "rows": _table_rows(data) if data else [],
            "until": until_of(bulletin.cutoff),
            "can_build": can_manage(request.user, bulletin.org),
            "nav": "bulletins",
        },
    )
    if bulletin.status == BulletinStatus.BUILDING:
        response["Refresh"] = "2"  # reloads until the build is done; no script needed
    return response


def _table_rows(data: dict) -> list[dict]:
    columns = formats.table_columns()
    out = []
    for row in [*data["rows"], formats.total_row(data)]:
        out.append(
            {
                "org_id": row.get("org_id"),
                "behind": row.get("behind") and row.get("seq") is not None,
                "is_total": row.get("seq") is None,
                "cells": [(c, formats.cell_text(row, c)) for c in columns],
            }
        )
    return out


@console_view
def bulletin_download(request, bulletin_id: int, fmt: str):
    bulletin = _visible_bulletin(request.user, bulletin_id)
    if fmt not in FORMATS or not bulletin.is_published:
        raise Http404(_("找不到该通报文件"))
    render_file, content_type = FORMATS[fmt]
    return FileResponse(
        io.BytesIO(_drawn(bulletin, fmt, render_file)),
        as_attachment=True,
        filename=f"{formats.file_stem(bulletin.data)}.{fmt}",
        content_type=content_type,
    )


def _drawn(bulletin, fmt: str, render_file) -> bytes:
    """The file of a published bulletin, drawn once and kept in the cache: a bulletin never
    changes once published, and its PDF costs nearly a second of CPU to draw."""
    key = f"pingyi:bulletin:{bulletin.pk}:{bulletin.built_at:%Y%m%d%H%M%S%f}:{fmt}"
    content = cache.get(key)
    if content is None:
        content = render_file(bulletin.data)
        cache.set(key, content, timeout=BULLETIN_FILE_CACHE_SECONDS)
    return content


@console_view
@require_POST
def bulletin_build(request):
    """生成通报: claim the bulletin of the chosen cut-off and build it in the background."""
    campaign_id, _sep, org_id = request.POST.get("target", "").partition(":")
    org = Org.objects.filter(pk=org_id).first() if org_id.isdigit() else None
    if org is None or not _readable_org(request.user, org):
        raise Http404(_("找不到该工会组织，或不在您的管理范围内"))
    if not can_manage(request.user, org):
        raise PermissionDenied(_("您的角色不能生成%(org)s的通报。") % {"org": org.name})
    campaign = campaigns_for_org(org).filter(pk=campaign_id if campaign_id.isdigit() else 0)
    campaign = campaign.first()
    if campaign is None:
        raise Http404(_("找不到该评议活动"))
    raw = request.POST.get("until", "").strip()
    try:
        until = date.fromisoformat(raw)
    except ValueError:
        message = _("统计截至日期“%(value)s”格式不正确，请选择日期，如 2022-11-06")
        messages.error(request, message % {"value": raw})
        return redirect("console:bulletins")
    try:
        bulletin = claim_bulletin(
            campaign=campaign,
            org=org,
            cutoff=cutoff_for_day(until + timedelta(days=1)),
            by=request.user,
        )
    except BulletinRefused as exc:
        messages.error(request, str(exc))
        return redirect("console:bulletins")
    if bulletin.is_published:
        messages.info(request, _("该期通报已发布，无需重复生成。"))
    else:
        # A worker (or, without a broker, a thread of this process) builds it; the page
        # reloads until it is published.
        jobs.start(build_bulletin, bulletin.pk)
    return redirect("console:bulletin", bulletin_id=bulletin.pk)


def _readable_org(user, org: Org) -> bool:
    """In the user's scope or above it (a town admin may read, not build, the city's)."""
    return in_scope(user, org) or any(org.contains(root) for root in scope_roots(user))
