"""评议进度: the progress table of an org's sub-units with charts, drill-down and .xlsx export.

Figures come from reports/figures.py (the stored counters and rollups); this module only parses
the request (campaign, 截至 date, sort, pace), checks the admin's scope and renders.
"""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.selectors import campaign_choice, visible_campaigns
from orgs.models import Org
from orgs.scoping import get_org_in_scope_or_404, in_scope, scope_roots
from orgs.selectors import ancestors_of
from pingyi.console import console_view
from pingyi.formatting import percent
from pingyi.xlsx import xlsx_download

from .charts import Bar, completion_chart, cumulative_chart
from .exports import progress_subtitle, progress_title, progress_xlsx
from .figures import ProgressTable, UnitProgress, cumulative_series, progress_table, window_days

# sort key → (value of a row, direction when first clicked)
SORTS = {
    "seq": (None, "asc"),
    "name": (lambda u: u.org.name, "asc"),
    "reported": (lambda u: u.reported, "desc"),
    "target": (lambda u: u.target, "desc"),
    "registered": (lambda u: u.registered, "desc"),
    "evaluated": (lambda u: u.evaluated, "desc"),
    "excluded": (lambda u: u.excluded, "desc"),
    "completion": (lambda u: u.completion, "desc"),
    "participation": (lambda u: u.participation, "desc"),
    "registration": (lambda u: u.registration_rate, "desc"),
    "week_new": (lambda u: u.week_new, "desc"),
    "rank": (lambda u: u.rank, "asc"),
}
PACE_DEFAULT, PACE_MIN, PACE_MAX = 100, 1, 200


@dataclass
class Options:
    """What the request asked for, validated; `warnings` say (in Chinese) what was ignored."""

    campaign: Campaign | None
    campaigns: list[Campaign]
    until: date | None = None
    until_given: bool = False
    pace: int = PACE_DEFAULT
    sort: str = "seq"
    direction: str = "asc"
    warnings: list[str] = field(default_factory=list)

    def query(self, **changes) -> str:
        """The query string of this view with some options changed; defaults left out."""
        values = {
            "campaign": self.campaign.pk if self.campaign else None,
            "until": self.until.isoformat() if self.until_given and self.until else None,
            "pace": self.pace if self.pace != PACE_DEFAULT else None,
            "sort": self.sort if self.sort != "seq" else None,
            "dir": self.direction if self.sort != "seq" else None,
        }
        values.update(changes)
        if values.get("sort") in (None, "seq"):
            values["sort"] = values["dir"] = None
        if values.get("pace") == PACE_DEFAULT:
            values["pace"] = None
        kept = {k: v for k, v in values.items() if v is not None}
        return "?" + urlencode(kept) if kept else ""

    def drill_query(self) -> str:
        """Links to another unit keep the campaign, the date and the pace, not the sort."""
        return self.query(sort=None, dir=None)


def _options(request, org: Org) -> Options:
    campaign, campaigns = campaign_choice(request.user, org, request.GET.get("campaign", ""))
    options = Options(campaign=campaign, campaigns=campaigns)

    pace = request.GET.get("pace", "").strip().rstrip("%")
    if pace:
        if pace.isdigit() and PACE_MIN <= int(pace) <= PACE_MAX:
            options.pace = int(pace)
        else:
            options.warnings.append(
                _(
                    "进度系数“%(value)s”无效：应为 %(low)s 至 %(high)s 之间的整数（百分比），"
                    "已按 100%% 计算"
                )
                % {"value": pace[:20], "low": PACE_MIN, "high": PACE_MAX}
            )

    until = request.GET.get("until", "").strip()
    if until and campaign is not None:
        try:
            day = date.fromisoformat(until)
        except ValueError:
            options.warnings.append(
                _("截至日期“%(value)s”无效：应写作 2022-11-06，已按今天统计")
                % {"value": until[:20]}
            )
        else:
            last = min(window_days(campaign)[1], timezone.localdate())
            options.until, options.until_given = min(day, last), True

    sort = request.GET.get("sort", "seq")
    if sort in SORTS:
        options.sort = sort
        direction = request.GET.get("dir", SORTS[sort][1])
        options.direction = direction if direction in ("asc", "desc") else SORTS[sort][1]
    return options


def sorted_rows(rows: list[UnitProgress], sort: str, direction: str) -> list[UnitProgress]:
    """Rows in the asked order; rows without the figure (no target…) last either way."""
    key = SORTS[sort][0]
    if key is None:
        return list(reversed(rows)) if direction == "desc" else list(rows)
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    return sorted(known, key=key, reverse=direction == "desc") + unknown


@console_view
def progress_start(request):
    """评议进度 in the nav: the admin's own org, or a choice when they hold several."""
    roots = scope_roots(request.user)
    wanted = request.GET.get("campaign", "").strip()
    if wanted.isdigit():
        # From a campaign's page: its org when the admin reads it, else their part of it.
        campaign = visible_campaigns(request.user).filter(pk=int(wanted)).first()
        if campaign is None:
            raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
        if in_scope(request.user, campaign.org):
            org = campaign.org
        else:
            org = next((r for r in roots if campaign.org.contains(r)), None)
            if org is None:
                raise Http404(_("找不到该评议活动，或不在您的管理范围内"))
        return redirect(reverse("console:progress", args=[org.pk]) + f"?campaign={campaign.pk}")
    if len(roots) == 1:
        return redirect("console:progress", org_id=roots[0].pk)
    return render(request, "reports/progress_roots.html", {"roots": roots, "nav": "progress"})


def _table(request, org_id: int) -> tuple[Org, Options, ProgressTable | None]:
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    options = _options(request, org)
    if options.campaign is None:
        return org, options, None
    table = progress_table(
        campaign=options.campaign, parent=org, until=options.until, pace=options.pace / 100
    )
    options.until = table.until
    return org, options, table


def _headers(options: Options, *, excluded: bool = False) -> list[dict]:
    labels = [
        ("seq", _("序号"), True),
        ("name", _("名称"), False),
        ("reported", _("年报工会会员人数(人)"), True),
        ("target", _("参评目标工会会员数(人)"), True),
        ("registered", _("已注册(人)"), True),
        ("evaluated", _("已评议(人)"), True),
        *([("excluded", _("已剔除(条)"), True)] if excluded else []),
        ("completion", _("完成率"), True),
        ("participation", _("参评率"), True),
        ("registration", _("注册率"), True),
        ("week_new", _("本周新增(人)"), True),
        ("rank", _("排名"), True),
    ]
    headers = []
    for key, label, numeric in labels:
        active = options.sort == key
        flipped = "desc" if options.direction == "asc" else "asc"
        next_dir = flipped if active else SORTS[key][1]
        headers.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "active": active,
                "aria_sort": ("ascending" if options.direction == "asc" else "descending")
                if active
                else "none",
                "arrow": ("▲" if options.direction == "asc" else "▼") if active else "",
                "href": options.query(sort=key, dir=next_dir),
            }
        )
    return headers


@console_view
def progress(request, org_id: int):
    org, options, table = _table(request, org_id)
    ancestors = [a for a in ancestors_of(org) if in_scope(request.user, a)]
    context = {
        "org": org,
        "ancestors": ancestors,
        "options": options,
        "table": table,
        "nav": "progress",
    }
    if table is not None:
        campaign = options.campaign
        first, last = window_days(campaign)
        rows = sorted_rows(table.rows, options.sort, options.direction)
        show_excluded = bool(table.total.excluded)
        context.update(
            {
                "rows": rows,
                "show_excluded": show_excluded,
                "headers": _headers(options, excluded=show_excluded),
                "title": progress_title(table),
                "subtitle": progress_subtitle(table),
                "expected_text": percent(table.expected, 1),
                "elapsed_text": percent(table.elapsed_share, 1),
                "cumulative_chart": cumulative_chart(
                    series=cumulative_series(campaign=campaign, org=org, until=table.until),
                    first=first,
                    last=last,
                    target=table.total.target,
                    pace=table.pace,
                    title=_("%(org)s 累计评议人数") % {"org": org.name},
                ),
                "completion_chart": completion_chart(
                    bars=[
                        Bar(u.org.name, u.completion, u.behind)
                        for u in table.rows
                        if u.completion is not None
                    ],
                    expected=table.expected,
                    title=_("%(org)s 各单位完成率") % {"org": org.name},
                )
                if any(u.completion is not None for u in table.rows)
                else None,
                "pace_choices": [100, 90, 80, 70],
            }
        )
    return render(request, "reports/progress.html", context)


@console_view
def progress_export(request, org_id: int):
    """导出 Excel: the table as on the page (same date, pace and sort)."""
    org, options, table = _table(request, org_id)
    if table is None:
        raise Http404(_("还没有评议活动，无可导出的进度"))
    rows = sorted_rows(table.rows, options.sort, options.direction)
    data = progress_xlsx(table, rows)
    filename = f"{org.name}-{options.campaign.name}-评议进度-{table.until:%Y%m%d}.xlsx"
    return xlsx_download(data, filename)
