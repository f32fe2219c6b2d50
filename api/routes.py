"""API routes for admins: the union tree, campaigns and targets, scoped like the console."""

from datetime import datetime

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema

from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org, unit_table, visible_campaigns
from orgs.models import Org
from orgs.scoping import get_org_in_scope_or_404, scope_roots
from orgs.selectors import children_of

router = Router()


class OrgOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    depth: int
    children: int


class UnitFiguresOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    reported_members: int | None
    target: int | None
    target_source: str


class CampaignOut(Schema):
    id: int
    name: str
    org_id: int
    org_name: str
    year: int
    starts_at: datetime
    ends_at: datetime
    status: str


class QuestionOut(Schema):
    id: int
    kind: str
    label: str
    required: bool
    max_length: int | None


class ScaleLevelOut(Schema):
    value: int
    label: str


class CampaignDetailOut(CampaignOut):
    negative_rule: str
    verify_days: int
    rectify_days: int
    scale: list[ScaleLevelOut]
    questions: list[QuestionOut]
    target_rates: dict[str, float]


def _org_out(org: Org) -> OrgOut:
    return OrgOut(
        id=org.pk,
        code=org.code,
        name=org.name,
        kind=org.kind,
        kind_label=str(org.get_kind_display()),
        depth=org.depth,
        children=org.numchild,
    )


def _campaign_fields(campaign: Campaign) -> dict:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "org_id": campaign.org_id,
        "org_name": campaign.org.name,
        "year": campaign.year,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "status": campaign.status(),
    }


@router.get("/orgs", response=list[OrgOut], summary=gettext_lazy("我管理的顶层工会组织"))
def my_orgs(request: HttpRequest):
    return [_org_out(org) for org in scope_roots(request.user)]


@router.get("/orgs/{org_id}/children", response=list[OrgOut], summary=gettext_lazy("下级工会组织"))
def org_children(request: HttpRequest, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    return [_org_out(child) for child in children_of(org)]


@router.get("/campaigns", response=list[CampaignOut], summary=gettext_lazy("我可查看的评议活动"))
def campaigns(request: HttpRequest):
    return [
        CampaignOut(**_campaign_fields(c))
        for c in visible_campaigns(request.user).order_by("-starts_at")
    ]


@router.get(
    "/campaigns/{campaign_id}",
    response=CampaignDetailOut,
    summary=gettext_lazy("评议活动的设置与问卷"),
)
def campaign_detail(request: HttpRequest, campaign_id: int):
    try:
        campaign = visible_campaigns(request.user).get(pk=campaign_id)
    except Campaign.DoesNotExist as exc:
        raise Http404(_("找不到该评议活动，或不在您的管理范围内")) from exc
    return CampaignDetailOut(
        **_campaign_fields(campaign),
        negative_rule=campaign.negative_rule,
        verify_days=campaign.verify_days,
        rectify_days=campaign.rectify_days,
        scale=[ScaleLevelOut(value=v, label=label) for v, label in campaign.scale],
        questions=[
            QuestionOut(
                id=q.pk,
                kind=q.kind,
                label=q.label,
                required=q.required,
                max_length=q.max_length if q.kind == "suggestion" else None,
            )
            for q in campaign.questions.all()
        ],
        target_rates={r.org_kind: float(r.rate) for r in campaign.target_rates.all()},
    )


@router.get(
    "/campaigns/{campaign_id}/orgs/{org_id}/units",
    response=list[UnitFiguresOut],
    summary=gettext_lazy("下级单位的年报会员人数与参评目标"),
)
def unit_figures(request: HttpRequest, campaign_id: int, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = get_object_or_404(campaigns_for_org(org), pk=campaign_id)
    return [
        UnitFiguresOut(
            id=row.org.pk,
            code=row.org.code,
            name=row.org.name,
            kind=row.org.kind,
            reported_members=row.figures.reported,
            target=row.figures.target,
            target_source=row.figures.target_source,
        )
        for row in unit_table(campaign=campaign, parent=org).rows
    ]
