"""异常核查: the federation's review of fabricated evaluations.

An org's page lists its flagged sub-units (drill down to a union); a union's page shows its
findings with their evidence and its flagged evaluations, where the reviewer excludes or
restores them with a reason, and records a conclusion. Only admins with a federation role reach
these pages, within their roles' subtrees; another unit's org answers 404 as everywhere.
The rules live in evaluations.integrity, .exclusions and .review; this module parses and renders.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.throttle import client_address
from campaigns.models import Campaign
from campaigns.selectors import campaign_choice, visible_campaigns
from members.audit import record_audit
from members.models import AuditAction
from orgs.models import Org
from orgs.scoping import can_run_campaigns, get_org_in_scope_or_404
from orgs.selectors import ancestors_of, children_of
from pingyi.console import console_view, int_or_none
from pingyi.xlsx import office_xlsx, xlsx_download

from .exclusions import ExclusionError, exclude_evaluations, restore_evaluations
from .forms_review import IntegritySettingsForm
from .integrity import latest_run, settings_for, start_scan
from .models import ReviewRunStatus, UnitReview, UnitVerdict
from .review import (
    flagged_count,
    listed_ids,
    may_review,
    overview,
    review_log,
    reviewable_evaluations,
    reviewer_roots,
    subtree_flagged_ids,
    union_detail,
)
from .review_exports import flagged_sheet

NOT_A_REVIEWER = _("只有总工会管理员可以核查异常评议。")


def _reviewer(user) -> None:
    if not reviewer_roots(user):
        raise PermissionDenied(NOT_A_REVIEWER)


def _org(request, org_id: int) -> Org:
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    if not may_review(request.user, org):
        raise PermissionDenied(NOT_A_REVIEWER)
    return org


def _campaign(request, org: Org) -> tuple[Campaign | None, list[Campaign]]:
    wanted = request.POST.get("campaign") or request.GET.get("campaign", "")
    return campaign_choice(request.user, org, wanted)


def _org_and_campaign(request, org_id: int) -> tuple[Org, Campaign]:
    """For the actions on a union: its org (404 outside, 403 to a non-reviewer), its campaign."""
    org = _org(request, org_id)
    campaign, _campaigns = _campaign(request, org)
    if campaign is None:
        raise Http404(_("还没有评议活动"))
    return org, campaign


def _crumbs(user, org: Org) -> list[Org]:
    return [a for a in ancestors_of(org) if may_review(user, a)]


def _page_url(org: Org, campaign: Campaign, **query) -> str:
    kept = {"campaign": campaign.pk, **{k: v for k, v in query.items() if v}}
    return reverse("integrity:unit", args=[org.pk]) + "?" + urlencode(kept)


@console_view
def start(request):
    """异常核查 in the nav: the reviewer's own org, or a choice when they hold several."""
    roots = reviewer_roots(request.user)
    if not roots:
        raise PermissionDenied(NOT_A_REVIEWER)
    if len(roots) == 1:
        return redirect("integrity:unit", org_id=roots[0].pk)
    return render(request, "evaluations/review/roots.html", {"roots": roots, "nav": "integrity"})


@console_view
def unit(request, org_id: int):
    org = _org(request, org_id)
    campaign, campaigns = _campaign(request, org)
    context = {
        "org": org,
        "campaign": campaign,
        "campaigns": campaigns,
        "crumbs": _crumbs(request.user, org),
        "nav": "integrity",
        "can_scan": campaign is not None and can_run_campaigns(request.user, campaign.org),
    }
    if campaign is None:
        return render(request, "evaluations/review/overview.html", context)
    if not children_of(org).exists():  # a grassroots union: its findings and evaluations
        detail = union_detail(
            campaign=campaign,
            union=org,
            finding_id=int_or_none(request.GET.get("finding")),
            show=request.GET.get("show", ""),
            page=int_or_none(request.GET.get("page")) or 1,
        )
        if any(row.address or row.device for row in detail.rows):
            # Network addresses and device keys are personal data: who read them, and when. Logged
            # at the campaign's org, so the union under review does not read it in its own log.
            record_audit(
                action=AuditAction.TRACES_VIEWED,
                actor=request.user,
                org=campaign.org,
                note=_("异常核查：%(union)s，%(n)s 条评议的网络地址与设备标识")
                % {"union": org.name, "n": len(detail.rows)},
                address=client_address(request) or "",
            )
        context.update(
            detail=detail,
            verdicts=UnitVerdict.choices,
            status=_run_status(campaign),
            query={
                "finding": detail.chosen.pk if detail.chosen else "",
                "show": detail.show if detail.show != "flagged" else "",
            },
        )
        return render(request, "evaluations/review/union.html", context)
    context.update(view=overview(campaign=campaign, org=org), status=_run_status(campaign))
    return render(request, "evaluations/review/overview.html", context)


def _run_status(campaign: Campaign) -> dict:
    newest = latest_run(campaign)
    done = latest_run(campaign, status=ReviewRunStatus.DONE)
    return {
        "newest": newest,
        "done": done,
        "busy": newest is not None
        and newest.status in (ReviewRunStatus.QUEUED, ReviewRunStatus.RUNNING),
        "failed": newest
        if newest is not None and newest.status == ReviewRunStatus.FAILED
        else None,
        "settings": settings_for(campaign),
    }


@console_view
@require_POST
def scan(request):
    """重新核查: start a scan of the campaign (its federation's admins only)."""
    _reviewer(request.user)
    campaign_id = int_or_none(request.POST.get("campaign"))
    campaign = visible_campaigns(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
    if not can_run_campaigns(request.user, campaign.org):
        raise PermissionDenied(_("只有发起该活动的总工会管理员可以启动核查。"))
    run = start_scan(campaign=campaign, user=request.user)
    if run.status == ReviewRunStatus.DONE:
        messages.success(request, _("核查已完成。"))
    else:
        messages.info(request, _("已开始核查，完成后本页显示最新结果。"))
    back = get_org_in_scope_or_404(
        request.user, pk=int_or_none(request.POST.get("org")) or campaign.org_id
    )
    return redirect(_page_url(back, campaign))


def _chosen_evaluations(request, org: Org, campaign: Campaign):
    """The evaluations a decision is about: the ticked ones, or all that the page lists."""
    evaluations = reviewable_evaluations(request.user, campaign, org)
    if request.POST.get("all") == "1":
        listed = listed_ids(
            campaign=campaign,
            union=org,
            run=latest_run(campaign, status=ReviewRunStatus.DONE),
            finding_id=int_or_none(request.POST.get("finding")),
            show=request.POST.get("show", ""),
        )
        return evaluations.filter(pk__in=listed)
    ids = [i for i in (int_or_none(v) for v in request.POST.getlist("evaluation")) if i]
    return evaluations.filter(pk__in=ids)


@console_view
@require_POST
def decide(request, org_id: int):
    """剔除 / 恢复 the chosen evaluations of a union, with the reviewer's reason."""
    org, campaign = _org_and_campaign(request, org_id)
    action = request.POST.get("action")
    if action not in ("exclude", "restore"):
        messages.error(request, _("请选择“剔除”或“恢复”。"))
    else:
        operation = exclude_evaluations if action == "exclude" else restore_evaluations
        try:
            done = operation(
                campaign=campaign,
                evaluations=_chosen_evaluations(request, org, campaign),
                actor=request.user,
                reason=request.POST.get("reason", ""),
                address=client_address(request) or "",
            )
        except ExclusionError as error:
            messages.error(request, str(error))
        else:
            if action == "exclude":
                messages.success(
                    request,
                    _("已剔除 %(n)s 条评议：不再计入完成率、参评率、满意度和考核得分。")
                    % {"n": done}
                    if done
                    else _("所选评议均已剔除，未作改动。"),
                )
            else:
                messages.success(
                    request,
                    _("已恢复 %(n)s 条评议：重新计入各项数字。") % {"n": done}
                    if done
                    else _("所选评议均未被剔除，未作改动。"),
                )
    return redirect(
        _page_url(
            org,
            campaign,
            finding=request.POST.get("finding", ""),
            show=request.POST.get("show", ""),
        )
    )


@console_view
@require_POST
def verdict(request, org_id: int):
    """The reviewer's conclusion on a flagged union (已核查：未发现造假 / 确认存在异常)."""
    org, campaign = _org_and_campaign(request, org_id)
    kind = request.POST.get("verdict", "")
    note = (request.POST.get("note") or "").replace("\x00", "").strip()
    if kind not in UnitVerdict.values:
        messages.error(request, _("请选择核查结论。"))
    elif not note:
        messages.error(request, _("请填写核查说明：核实了什么、怎样核实的。"))
    elif len(note) > 500:
        messages.error(request, _("核查说明最多 500 字，您写了 %(n)s 字。") % {"n": len(note)})
    else:
        run = latest_run(campaign, status=ReviewRunStatus.DONE)
        flagged = flagged_count(campaign=campaign, union=org, run=run)
        try:
            with transaction.atomic():
                UnitReview.objects.update_or_create(
                    campaign=campaign,
                    org=org,
                    defaults={
                        "verdict": kind,
                        "note": note,
                        "flagged": flagged,
                        "reviewed_by": request.user,
                        "reviewed_at": timezone.now(),
                    },
                )
        except IntegrityError:  # two reviewers at once: the other's stands
            messages.error(request, _("另一位管理员刚刚记录了结论，请刷新后查看。"))
        else:
            messages.success(request, _("已记录核查结论。"))
    return redirect(_page_url(org, campaign))


@console_view
def settings_page(request, campaign_id: int):
    """核查设置: the thresholds of the campaign's scan (its federation's admins only)."""
    _reviewer(request.user)
    campaign = visible_campaigns(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
    if not can_run_campaigns(request.user, campaign.org):
        raise PermissionDenied(_("只有发起该活动的总工会管理员可以修改核查设置。"))
    stored = settings_for(campaign)
    form = IntegritySettingsForm(request.POST or None, instance=stored)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        start_scan(campaign=campaign, user=request.user)
        messages.success(request, _("核查设置已保存，已按新设置重新核查。"))
        return redirect(_page_url(campaign.org, campaign))
    return render(
        request,
        "evaluations/review/settings.html",
        {"form": form, "campaign": campaign, "nav": "integrity"},
    )


@console_view
def export(request, org_id: int):
    """导出 Excel: every flagged evaluation under the org, with its evidence (audit-logged:
    it carries network addresses)."""
    org = _org(request, org_id)
    campaign, _campaigns = _campaign(request, org)
    if campaign is None:
        raise Http404(_("还没有评议活动，无可导出的核查结果"))
    run = latest_run(campaign, status=ReviewRunStatus.DONE)
    ids = subtree_flagged_ids(run=run, org=org)
    sheet = flagged_sheet(campaign=campaign, org=org, run=run, ids=ids)
    record_audit(
        action=AuditAction.EXPORTED,
        actor=request.user,
        org=campaign.org,  # not the units under review: their admins read their own log
        note=_("导出异常评议核查结果（%(org)s，%(n)s 条）")
        % {"org": org.name, "n": len(sheet.rows)},
        address=client_address(request) or "",
    )
    filename = f"{org.name}-{campaign.name}-异常评议核查-{timezone.localdate():%Y%m%d}.xlsx"
    return xlsx_download(office_xlsx(sheet), filename)


@console_view
def log(request):
    """核查记录: every exclusion and restoration of the reviewer's scope, newest first."""
    _reviewer(request.user)
    campaign = None
    wanted = int_or_none(request.GET.get("campaign"))
    if wanted is not None:
        campaign = visible_campaigns(request.user).filter(pk=wanted).first()
        if campaign is None:
            raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
    events = review_log(request.user, campaign=campaign)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluations/review/log.html",
        {"page": page, "campaign": campaign, "nav": "integrity"},
    )
