"""考核评分 console pages: the list of assessments, one campaign's result (draft or published),
its .xlsx, the scoring scheme's form and 发布.

Those who run the campaign (federation admins over its org, orgs.scoping.can_run_campaigns)
see the draft, edit the scheme and publish. Once published, the frozen result is read by every
admin whose scope lies in the campaign's tree, as bulletins are (a town reads the city's).
Anyone else gets 404, as for any other unit's data. Figures and rules live in
reports/assessment.py; this module parses, checks who asks and renders.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.models import Campaign
from campaigns.selectors import visible_campaigns
from evaluations.review import may_review, overview
from pingyi.console import console_view, int_or_none
from pingyi.formatting import cn_date
from pingyi.xlsx import xlsx_download

from .assessment import (
    AssessmentRefused,
    compose,
    default_scheme,
    publish_assessment,
    readable_campaigns,
    runs_assessment,
    save_scheme,
    scheme_from,
    scheme_record,
)
from .assessment_exports import assessment_xlsx, notes, page_rows, plain_number, subtitle
from .assessment_forms import SchemeForm
from .models import AssessmentScheme

NOT_FOUND = gettext_lazy("找不到该评议活动的考核结果，或不在您的管理范围内")


@console_view
def assessment_start(request):
    """考核评分 in the nav: the assessments the admin may read; ?campaign= opens one."""
    wanted = request.GET.get("campaign", "").strip()
    if wanted:
        campaign_id = int_or_none(wanted)
        campaign = None
        if campaign_id is not None:
            campaign = visible_campaigns(request.user).filter(pk=campaign_id).first()
        if campaign is None:
            raise Http404(NOT_FOUND)
        url = reverse("console:assessment", args=[campaign.pk])
        kind = request.GET.get("kind", "").strip()
        return redirect(url + ("?" + urlencode({"kind": kind}) if kind else ""))
    return render(
        request,
        "reports/assessment_list.html",
        {"entries": readable_campaigns(request.user), "nav": "assessment"},
    )


def _readable(request, campaign_id: int) -> tuple[Campaign, AssessmentScheme | None, bool]:
    """(campaign, its saved scheme, whether the user runs it); 404 unless the user runs it or
    it is published and the campaign is one they may read."""
    campaign = visible_campaigns(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(NOT_FOUND)
    runs = runs_assessment(request.user, campaign)
    record = scheme_record(campaign)
    if not runs and (record is None or not record.is_published):
        raise Http404(NOT_FOUND)
    return campaign, record, runs


def _result(campaign: Campaign, record: AssessmentScheme | None) -> dict:
    if record is not None and record.is_published:
        return record.result
    scheme = scheme_from(record) if record is not None else default_scheme()
    return compose(campaign=campaign, scheme=scheme)


def _kind(request, result: dict) -> tuple[str, str]:
    """The asked kind if the result scores it, with its label; anything else shows all."""
    kind = request.GET.get("kind", "").strip()
    labels = dict(zip(result["kinds"], result["kind_labels"], strict=True))
    return (kind, labels[kind]) if kind in labels else ("", "")


@console_view
def assessment(request, campaign_id: int):
    campaign, record, runs = _readable(request, campaign_id)
    result = _result(campaign, record)
    kind, kind_label = _kind(request, result)
    published = record is not None and record.is_published
    choices = [c for c, _record, _runs in readable_campaigns(request.user)]
    return render(
        request,
        "reports/assessment.html",
        {
            "campaign": campaign,
            "record": record,
            "published": published,
            "runs": runs,
            "result": result,
            "rows": page_rows(result, kind),
            "indicators": [
                {**i, "weight_text": plain_number(i["weight"])} for i in result["indicators"]
            ],
            "full_marks": plain_number(result["full_marks"]),
            "column_count": 2 * len(result["indicators"]) + 9,
            "notes": notes(result),
            "subtitle": subtitle(result, kind_label),
            "kind": kind,
            "kinds": list(zip(result["kinds"], result["kind_labels"], strict=True)),
            "campaigns": choices,
            "query": "?" + urlencode({"kind": kind}) if kind else "",
            "publish_confirm": _publish_confirm(campaign),
            "review": None if published or not runs else _review_state(request.user, campaign),
            "nav": "assessment",
        },
    )


def _review_state(user, campaign: Campaign) -> dict | None:
    """Whether the integrity review still has work before publishing: never scanned, or
    flagged unions without a conclusion (None when all is reviewed)."""
    if not may_review(user, campaign.org):
        return None
    state = overview(campaign=campaign, org=campaign.org)
    if state.run is None:
        return {"never": True, "pending": 0}
    pending = state.total.pending_unions
    return {"never": False, "pending": pending} if pending else None


def _publish_confirm(campaign: Campaign) -> str:
    question = _(
        "发布后，评分方案和考核结果将冻结，不能再修改；之后的评议或剔除都不会改变已发布的结果。"
    )
    if campaign.status() == "open":
        question += _("评议活动尚未结束（至%(end)s），") % {"end": cn_date(campaign.ends_at)}
    return question + _("确认发布？")


@console_view
def assessment_export(request, campaign_id: int):
    """导出 Excel: the result as on the page (the same kind filter)."""
    campaign, record, _runs = _readable(request, campaign_id)
    result = _result(campaign, record)
    kind, kind_label = _kind(request, result)
    data = assessment_xlsx(result, kind, kind_label)
    state = "" if record is not None and record.is_published else _("（草稿）")
    filename = f"{campaign.org.name}-{campaign.name}-考核评分{state}.xlsx"
    return xlsx_download(data, filename)


def _run(request, campaign_id: int) -> tuple[Campaign, AssessmentScheme | None]:
    """The campaign, for those who run its assessment only (404 for anyone else)."""
    campaign, record, runs = _readable(request, campaign_id)
    if not runs:
        raise Http404(NOT_FOUND)
    return campaign, record


@console_view
@require_http_methods(["GET", "POST"])
def assessment_scheme(request, campaign_id: int):
    """评分方案: scored kinds and each indicator's weight, cap and missing policy."""
    campaign, record = _run(request, campaign_id)
    scheme = scheme_from(record) if record is not None else default_scheme()
    published = record is not None and record.is_published
    form = SchemeForm(request.POST if request.method == "POST" else None, scheme=scheme)
    if request.method == "POST":
        if published:
            messages.error(request, _("考核结果已经发布，评分方案不能再修改。"))
            return redirect("console:assessment", campaign_id=campaign.pk)
        if form.is_valid():
            try:
                save_scheme(campaign=campaign, scheme=form.scheme, by=request.user)
            except AssessmentRefused as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                messages.success(request, _("评分方案已保存，下表按新方案计算。"))
                return redirect("console:assessment", campaign_id=campaign.pk)
    if published:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "reports/assessment_scheme.html",
        {
            "campaign": campaign,
            "record": record,
            "published": published,
            "form": form,
            "full_marks": plain_number(scheme.full_marks),
            "nav": "assessment",
        },
    )


@console_view
@require_POST
def assessment_publish(request, campaign_id: int):
    """发布: compute with the saved scheme (or the defaults) and freeze the result."""
    campaign, _record = _run(request, campaign_id)
    try:
        publish_assessment(campaign=campaign, by=request.user)
    except AssessmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("考核结果已发布并冻结；各单位管理员可查看本活动的考核结果。"))
    return redirect("console:assessment", campaign_id=campaign.pk)
