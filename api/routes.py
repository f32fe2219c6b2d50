"""API routes for admins: the union tree and campaign targets, scoped like the console."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org, subtree_figures
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


@router.get("/orgs", response=list[OrgOut], summary="我管理的顶层工会组织")
def my_orgs(request: HttpRequest):
    return [_org_out(org) for org in scope_roots(request.user)]


@router.get("/orgs/{org_id}/children", response=list[OrgOut], summary="下级工会组织")
def org_children(request: HttpRequest, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    return [_org_out(child) for child in children_of(org)]


@router.get(
    "/campaigns/{campaign_id}/orgs/{org_id}/units",
    response=list[UnitFiguresOut],
    summary="下级单位的年报会员人数与参评目标",
)
def unit_figures(request: HttpRequest, campaign_id: int, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = _campaign_for(request, campaign_id, org)
    figures = subtree_figures(campaign=campaign, root=org)
    return [
        UnitFiguresOut(
            id=child.pk,
            code=child.code,
            name=child.name,
            kind=child.kind,
            reported_members=figures[child.pk].reported,
            target=figures[child.pk].target,
            target_source=figures[child.pk].target_source,
        )
        for child in children_of(org)
    ]


def _campaign_for(request: HttpRequest, campaign_id: int, org: Org) -> Campaign:
    return get_object_or_404(campaigns_for_org(org), pk=campaign_id)
