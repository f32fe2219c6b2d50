"""API routes of the analysis (read-only, for admins): satisfaction, pain points, needs.

Scoped like the console (an org outside the caller's scope answers 404), and under the same
anonymity rule: a breakdown of fewer than 5 evaluations carries `sample: "样本不足"` and no
figures.
"""

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema

from analysis.needs import needs
from analysis.selectors import INSUFFICIENT, THRESHOLD, Figures, pain_points, satisfaction
from analysis.services import ensure_needs_run
from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org, visible_campaigns
from orgs.models import OrgKind
from orgs.scoping import get_org_in_scope_or_404

router = Router(tags=[gettext_lazy("数据分析")])


class FiguresOut(Schema):
    sample: str | None = None  # "样本不足" when the breakdown is too small; figures are null
    evaluations: int | None = None
    satisfied_rate: float | None = None
    good_rate: float | None = None
    bad_rate: float | None = None
    index: float | None = None


class ItemOut(Schema):
    question_id: int
    label: str
    figures: FiguresOut


class UnitOut(Schema):
    org_id: int
    name: str
    kind: str
    overall: FiguresOut
    items: list[ItemOut]
    previous_index: float | None = None


class SatisfactionOut(Schema):
    campaign_id: int
    org_id: int
    kind: str
    threshold: int
    previous_campaign_id: int | None
    overall: FiguresOut
    items: list[ItemOut]
    units: list[UnitOut]


class PainItemOut(Schema):
    label: str
    index: float
    bad_rate: float
    gap: float | None


class PainOut(Schema):
    org_id: int
    name: str
    sample: str | None = None
    lowest_index: list[PainItemOut] = []
    most_negative: list[PainItemOut] = []
    below_parent: list[PainItemOut] = []


class CategoryCountOut(Schema):
    category: str
    count: int | None  # null with sample "样本不足"
    sample: str | None = None


class NeedUnitOut(Schema):
    org_id: int
    name: str
    suggestions: int | None
    sample: str | None = None
    categories: list[CategoryCountOut]


class NeedsOut(Schema):
    campaign_id: int
    org_id: int
    status: str  # done / running
    progress: int
    analysed_at: str | None = None
    total: NeedUnitOut | None = None
    units: list[NeedUnitOut] = []
    keywords: list[tuple[str, int]] = []
    phrases: list[tuple[str, int]] = []
    samples: dict[str, list[str]] = {}


def _pick(request: HttpRequest, campaign_id: int, org_id: int, kind: str):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    try:
        campaign = (
            campaigns_for_org(org)
            .filter(pk__in=visible_campaigns(request.user).values("pk"))
            .get(pk=campaign_id)
        )
    except Campaign.DoesNotExist as exc:
        raise Http404(_("找不到该评议活动，或不在您的管理范围内")) from exc
    return org, campaign, kind if kind in dict(OrgKind.choices) else ""


def _figures(figures: Figures) -> FiguresOut:
    if not figures.sufficient:
        return FiguresOut(sample=str(INSUFFICIENT))
    return FiguresOut(
        evaluations=figures.n,
        satisfied_rate=round(figures.satisfied_rate, 4),
        good_rate=round(figures.good_rate, 4),
        bad_rate=round(figures.bad_rate, 4),
        index=round(figures.index, 2),
    )


@router.get(
    "/analysis/campaigns/{campaign_id}/orgs/{org_id}/satisfaction",
    response=SatisfactionOut,
    summary=gettext_lazy("满意度：总体、各单位与各分项"),
)
def satisfaction_figures(request: HttpRequest, campaign_id: int, org_id: int, kind: str = ""):
    org, campaign, kind = _pick(request, campaign_id, org_id, kind)
    report = satisfaction(campaign=campaign, org=org, kind=kind)

    def items(unit) -> list[ItemOut]:
        return [
            ItemOut(question_id=q.pk, label=q.label, figures=_figures(unit.item(q.pk)))
            for q in report.items
        ]

    units = []
    for unit in report.units:
        before = report.previous_unit(unit.org.pk)
        units.append(
            UnitOut(
                org_id=unit.org.pk,
                name=unit.org.name,
                kind=unit.org.kind,
                overall=_figures(unit.overall),
                items=items(unit),
                previous_index=(
                    round(before.overall.index, 2)
                    if before and before.overall.sufficient and unit.overall.sufficient
                    else None
                ),
            )
        )
    return SatisfactionOut(
        campaign_id=campaign.pk,
        org_id=org.pk,
        kind=kind,
        threshold=THRESHOLD,
        previous_campaign_id=report.previous.campaign.pk if report.previous else None,
        overall=_figures(report.total.overall),
        items=items(report.total),
        units=units,
    )


@router.get(
    "/analysis/campaigns/{campaign_id}/orgs/{org_id}/pain-points",
    response=list[PainOut],
    summary=gettext_lazy("堵点痛点：各单位最薄弱的分项"),
)
def pain_point_list(request: HttpRequest, campaign_id: int, org_id: int, kind: str = ""):
    org, campaign, kind = _pick(request, campaign_id, org_id, kind)
    out = []
    for p in pain_points(satisfaction(campaign=campaign, org=org, kind=kind)):

        def items(points) -> list[PainItemOut]:
            return [
                PainItemOut(
                    label=x.question.label,
                    index=round(x.figures.index, 2),
                    bad_rate=round(x.figures.bad_rate, 4),
                    gap=round(x.gap, 2) if x.gap is not None else None,
                )
                for x in points
            ]

        if not p.sufficient:
            out.append(
                PainOut(org_id=p.unit.org.pk, name=p.unit.org.name, sample=str(INSUFFICIENT))
            )
            continue
        out.append(
            PainOut(
                org_id=p.unit.org.pk,
                name=p.unit.org.name,
                lowest_index=items(p.lowest_index),
                most_negative=items(p.most_negative),
                below_parent=items(p.below_parent),
            )
        )
    return out


@router.get(
    "/analysis/campaigns/{campaign_id}/orgs/{org_id}/needs",
    response=NeedsOut,
    summary=gettext_lazy("会员需求：分类统计、关键词与建议摘录（分析未完成时返回进度）"),
)
def member_needs(request: HttpRequest, campaign_id: int, org_id: int, kind: str = ""):
    org, campaign, kind = _pick(request, campaign_id, org_id, kind)
    done, active = ensure_needs_run(campaign=campaign)
    if done is None:
        return NeedsOut(
            campaign_id=campaign.pk,
            org_id=org.pk,
            status="running",
            progress=active.progress if active else 0,
        )
    report = needs(run=done, org=org, kind=kind)

    def unit(row) -> NeedUnitOut:
        if not row.sufficient:
            return NeedUnitOut(
                org_id=row.org.pk,
                name=row.org.name,
                suggestions=None,
                sample=str(INSUFFICIENT),
                categories=[],
            )
        return NeedUnitOut(
            org_id=row.org.pk,
            name=row.org.name,
            suggestions=row.suggestions,
            categories=[
                CategoryCountOut(category=name, count=n)
                if n >= THRESHOLD
                else CategoryCountOut(category=name, count=None, sample=str(INSUFFICIENT))
                for name, n in zip(report.categories, row.categories, strict=True)
            ],
        )

    return NeedsOut(
        campaign_id=campaign.pk,
        org_id=org.pk,
        status="running" if active else "done",
        progress=active.progress if active else 100,
        analysed_at=done.finished_at.isoformat() if done.finished_at else None,
        total=unit(report.total),
        units=[unit(u) for u in report.units],
        keywords=report.words,
        phrases=report.phrases,
        samples={report.categories[i]: texts for i, texts in report.samples.items()},
    )
