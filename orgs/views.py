"""Console pages of the union tree: drill-down with figures, add and edit a unit."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from campaigns.exports import unit_table_xlsx
from campaigns.rollups import refresh_for_org_change
from campaigns.selectors import campaigns_for_org, current_campaign, unit_table
from campaigns.services import record_reported_members, set_manual_target
from pingyi.console import console_view
from pingyi.xlsx import xlsx_download

from .forms import OrgForm
from .models import Org, ReportedMembers
from .scoping import can_manage, get_org_in_scope_or_404, in_scope, orgs_in_scope, scope_roots
from .selectors import ancestor_paths, ancestors_of, parent_of
from .services import create_child_org, normalize_org_name

SEARCH_LIMIT = 50


@console_view
def tree(request):
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("orgs:detail", org_id=roots[0].pk)
    return render(request, "orgs/roots.html", {"roots": roots, "nav": "orgs"})


def _pick_campaign(request, org):
    campaigns = list(campaigns_for_org(org).order_by("-starts_at"))
    wanted = request.GET.get("campaign")
    for campaign in campaigns:
        if wanted and str(campaign.pk) == wanted:
            return campaign, campaigns
    return current_campaign(org), campaigns


@console_view
def detail(request, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign, campaigns = _pick_campaign(request, org)
    ancestors = [a for a in ancestors_of(org) if in_scope(request.user, a)]
    table = unit_table(campaign=campaign, parent=org)
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "ancestors": ancestors,
            "campaign": campaign,
            "campaigns": campaigns,
            "table": table,
            "can_manage": can_manage(request.user, org),
            "can_edit": _can_edit(request.user, org),
            "nav": "orgs",
        },
    )


@console_view
def units_xlsx(request, org_id: int):
    """The unit table as the office's task-table sheet; it imports again unchanged."""
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign, _campaigns = _pick_campaign(request, org)
    if campaign is None:
        raise Http404(_("还没有评议活动，无可导出的目标"))
    data = unit_table_xlsx(unit_table(campaign=campaign, parent=org))
    filename = f"{org.name}-{campaign.name}-任务分解表.xlsx"
    return xlsx_download(data, filename)


@console_view
def search(request):
    """Find a unit by name or code anywhere in the admin's subtree."""
    query = normalize_org_name(request.GET.get("q", ""))[:50]
    results = []
    if query:
        results = list(
            orgs_in_scope(request.user)
            .filter(Q(name__contains=query) | Q(code=query))
            .order_by("depth", "path")[: SEARCH_LIMIT + 1]
        )
    # Ancestors are named as far up as the admin's own scope, as the page crumbs are.
    roots = scope_roots(request.user)
    paths = {
        p
        for org in results
        for p in ancestor_paths(org)
        if any(p.startswith(root.path) for root in roots)
    }
    names = dict(Org.objects.filter(path__in=paths).values_list("path", "name"))
    hits = [(org, [names[p] for p in ancestor_paths(org) if p in names]) for org in results]
    return render(
        request,
        "orgs/search.html",
        {
            "query": query,
            "hits": hits[:SEARCH_LIMIT],
            "more": len(hits) > SEARCH_LIMIT,
            "nav": "orgs",
        },
    )


@console_view
def add_child(request, org_id: int):
    parent = get_org_in_scope_or_404(request.user, pk=org_id)
    if not can_manage(request.user, parent):
        raise PermissionDenied(_("您的角色只能查看，不能新增下级组织。"))
    campaign, _campaigns = _pick_campaign(request, parent)
    form = OrgForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        child = create_child_org(
            parent=parent, name=data["name"], kind=data["kind"], seq=data["seq"] or 0
        )
        _save_figures(child, campaign, data)
        messages.success(request, _("已新增“%(name)s”。") % {"name": child.name})
        return redirect("orgs:detail", org_id=parent.pk)
    return render(
        request,
        "orgs/form.html",
        {
            "form": form,
            "parent": parent,
            "campaign": campaign,
            "title": _("新增下级组织"),
            "nav": "orgs",
        },
    )


@console_view
def edit(request, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    if not _can_edit(request.user, org):
        raise PermissionDenied(_("本组织的名称、人数和目标由上级工会管理员修改。"))
    parent = parent_of(org)
    campaign, _campaigns = _pick_campaign(request, org)
    initial = {"name": org.name, "kind": org.kind, "seq": org.seq}
    if campaign is not None:
        reported = ReportedMembers.objects.filter(org=org, year=campaign.year).first()
        target = campaign.targets.filter(org=org).first()
        initial |= {
            "reported_members": reported.count if reported else None,
            "target": target.value if target else None,
        }
    form = OrgForm(request.POST or None, parent=parent, instance=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind_changed = org.kind != data["kind"]
        org.name, org.kind, org.seq = data["name"], data["kind"], data["seq"] or 0
        org.save(update_fields=["name", "kind", "seq", "updated_at"])
        if kind_changed:  # the target rule goes by kind
            refresh_for_org_change(org=org)
        _save_figures(org, campaign, data)
        messages.success(request, _("已保存“%(name)s”。") % {"name": org.name})
        return redirect(
            "orgs:detail", org_id=parent.pk if parent and in_scope(request.user, parent) else org.pk
        )
    return render(
        request,
        "orgs/form.html",
        {
            "form": form,
            "parent": parent,
            "org": org,
            "campaign": campaign,
            "title": _("修改“%(name)s”") % {"name": org.name},
            "nav": "orgs",
        },
    )


def _can_edit(user, org) -> bool:
    """A unit's name, figures and target are set from above: its parent's admins may edit it."""
    parent = parent_of(org)
    return parent is not None and can_manage(user, parent)


def _save_figures(org, campaign, data) -> None:
    if campaign is None:
        return
    record_reported_members(org=org, year=campaign.year, count=data.get("reported_members"))
    set_manual_target(campaign=campaign, org=org, value=data.get("target"))
