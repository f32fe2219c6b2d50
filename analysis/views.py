"""数据分析 pages: satisfaction, pain points, members' needs (with the word cloud), need rules.

Each page reads one org of the admin's scope (404 outside it) and one campaign that org takes
part in, optionally only the sub-units of one kind; `?format=xlsx` exports what the page shows.
The figures and the 样本不足 rule live in selectors/needs/tables; this module parses and renders.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from campaigns.models import Campaign
from campaigns.selectors import campaign_choice
from orgs.models import Org, OrgKind
from orgs.scoping import can_manage, get_org_in_scope_or_404, in_scope, scope_roots
from orgs.selectors import ancestors_of
from pingyi.console import console_view
from pingyi.fonts import FontMissing
from pingyi.xlsx import office_xlsx, xlsx_download

from . import charts
from .cloud import word_cloud_png
from .needs import needs
from .selectors import CACHE_SECONDS, THRESHOLD, pain_points, satisfaction
from .services import RuleError, effective_rules, ensure_needs_run, save_rules
from .tables import (
    as_sheet,
    item_table,
    needs_table,
    pain_table,
    satisfaction_table,
    subtitle,
)

PAGES = [
    ("satisfaction", _("满意度")),
    ("pain_points", _("堵点痛点")),
    ("needs", _("会员需求")),
    ("rules", _("需求分类规则")),
]


@dataclass
class Selection:
    org: Org
    campaign: Campaign | None
    campaigns: list[Campaign]
    kind: str
    kinds: list[tuple[str, str]]
    crumbs: list[Org]

    @property
    def kind_label(self) -> str:
        return str(dict(OrgKind.choices).get(self.kind, "")) if self.kind else ""

    def query(self, **changes) -> str:
        values = {"campaign": self.campaign.pk if self.campaign else None, "kind": self.kind}
        values.update(changes)
        kept = {k: v for k, v in values.items() if v}
        return "?" + urlencode(kept) if kept else ""

    @property
    def drill_query(self) -> str:
        """Links to a sub-unit keep the campaign; the kind filter belongs to this level."""
        return self.query(kind=None)


def _selection(request, org_id: int) -> Selection:
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign, campaigns = campaign_choice(request.user, org, request.GET.get("campaign", ""))
    kind = request.GET.get("kind", "").strip()
    kinds = [(k, label) for k, label in OrgKind.choices]
    if kind not in dict(kinds):
        kind = ""
    crumbs = [
        o for o in ancestors_of(org) if in_scope(request.user, o)
    ]  # up to the top of the admin's own scope
    return Selection(
        org=org, campaign=campaign, campaigns=campaigns, kind=kind, kinds=kinds, crumbs=crumbs
    )


def _xlsx(table, selection: Selection, name: str):
    sheet = as_sheet(table, subtitle(selection.campaign, selection.org, selection.kind_label))
    filename = f"{selection.org.name}-{selection.campaign.name}-{name}.xlsx"
    return xlsx_download(office_xlsx(sheet), filename)


def _render(request, template: str, selection: Selection, page: str, **context):
    return render(
        request,
        template,
        {
            "sel": selection,
            "page": page,
            "pages": PAGES,
            "nav": "analysis",
            "threshold": THRESHOLD,
            **context,
        },
    )


@console_view
def start(request):
    """数据分析 in the nav: the admin's own org, or a choice when they hold several."""
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("analysis:satisfaction", org_id=roots[0].pk)
    return render(request, "analysis/roots.html", {"roots": roots, "nav": "analysis"})


@console_view
def satisfaction_page(request, org_id: int):
    sel = _selection(request, org_id)
    if sel.campaign is None:
        return _render(request, "analysis/satisfaction.html", sel, "satisfaction")
    report = satisfaction(campaign=sel.campaign, org=sel.org, kind=sel.kind)
    units = satisfaction_table(report)
    items = item_table(report)
    if request.GET.get("format") == "xlsx":
        if request.GET.get("table") == "items":
            return _xlsx(items, sel, _("分项满意度"))
        return _xlsx(units, sel, _("满意度分析"))
    labels = dict(sel.campaign.scale)
    ranking = [(u.org.name, u.overall.index) for u in report.ranking]
    return _render(
        request,
        "analysis/satisfaction.html",
        sel,
        "satisfaction",
        report=report,
        units=units,
        items=items,
        unit_orgs=[u.org for u in report.units],
        distribution=(
            charts.distribution_svg(report.total.overall, labels)
            if report.total.overall.sufficient
            else None
        ),
        ranking=charts.ranking_svg(ranking) if ranking else None,
        blocked=len(report.units) - len(ranking),
    )


@console_view
def pain_points_page(request, org_id: int):
    sel = _selection(request, org_id)
    if sel.campaign is None:
        return _render(request, "analysis/pain_points.html", sel, "pain_points")
    report = satisfaction(campaign=sel.campaign, org=sel.org, kind=sel.kind)
    points = pain_points(report)
    table = pain_table(points)
    if request.GET.get("format") == "xlsx":
        return _xlsx(table, sel, _("堵点痛点"))
    return _render(
        request,
        "analysis/pain_points.html",
        sel,
        "pain_points",
        table=table,
        points=points,
        unit_orgs=[u.org for u in report.units],
    )


@console_view
def needs_page(request, org_id: int):
    sel = _selection(request, org_id)
    if sel.campaign is None:
        return _render(request, "analysis/needs.html", sel, "needs")
    done, active = ensure_needs_run(campaign=sel.campaign)
    report = needs(run=done, org=sel.org, kind=sel.kind) if done else None
    table = needs_table(report) if report else None
    if request.GET.get("format") == "xlsx":
        if table is None:
            messages.info(request, _("分析尚未完成，请稍后再导出。"))
            return redirect(request.path + sel.query())
        return _xlsx(table, sel, _("会员需求"))
    category_bars = None
    if report and report.total.sufficient:
        category_bars = charts.bars_svg(
            [
                (name, n)
                for name, n in zip(report.categories, report.total.categories, strict=True)
                if n >= THRESHOLD
            ],
        )
    samples = []
    if report:
        samples = [
            (report.categories[i], texts) for i, texts in sorted(report.samples.items()) if texts
        ]
    return _render(
        request,
        "analysis/needs.html",
        sel,
        "needs",
        done=done,
        active=active,
        report=report,
        table=table,
        unit_orgs=[u.org for u in report.units] if report else [],
        category_bars=category_bars,
        samples=samples,
        refresh=active is not None,
    )


@console_view
def word_cloud(request, org_id: int):
    sel = _selection(request, org_id)
    if sel.campaign is None:
        raise Http404(_("没有评议活动"))
    done, _active = ensure_needs_run(campaign=sel.campaign)
    if done is None:
        raise Http404(_("分析尚未完成"))
    key = f"analysis:cloud:{done.pk}:{sel.org.pk}:{sel.kind}"
    png = cache.get(key)
    if png is None:
        report = needs(run=done, org=sel.org, kind=sel.kind)
        if not report.words:
            raise Http404(str(_("样本不足")))
        try:
            png = word_cloud_png(report.words)
        except FontMissing as exc:
            raise Http404(str(exc)) from exc
        cache.set(key, png, CACHE_SECONDS)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@console_view
@require_http_methods(["GET", "POST"])
def rules_page(request, org_id: int):
    """The need categories and keywords of the campaign's org; its admins edit them."""
    sel = _selection(request, org_id)
    if sel.campaign is None:
        return _render(request, "analysis/rules.html", sel, "rules", rules=[])
    owner = sel.campaign.org
    may_edit = can_manage(request.user, owner)
    rules = effective_rules(owner)
    rows = [(r.name, r.keywords) for r in rules]
    error = ""
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(
                _("只有%(org)s的管理员可以修改需求分类规则") % {"org": owner.name}
            )
        names = request.POST.getlist("name")
        keywords = request.POST.getlist("keywords")
        rows = list(zip(names, keywords, strict=False))
        try:
            save_rules(org=owner, rows=rows)
        except RuleError as exc:
            error = str(exc)
        else:
            messages.success(request, _("需求分类规则已保存，会员需求将按新规则重新分析。"))
            return redirect(request.path + sel.query())
    return _render(
        request,
        "analysis/rules.html",
        sel,
        "rules",
        rows=[*rows, ("", "")],
        owner=owner,
        may_edit=may_edit,
        own_rules=bool(rules) and rules[0].org_id == owner.pk,
        error=error,
    )
