"""Console pages of 提醒与宣传 (reminders, the unit's link and poster) and the link's H5 landing.

Thin views: the rules are members.reminders and members.promotion. Every console read goes
through the admin's scope (another unit answers 404); sending needs a managing role (403).
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_org, current_campaign
from evaluations.rules import window_text
from orgs.models import Org
from orgs.scoping import can_manage, get_org_in_scope_or_404, in_scope, scope_roots
from orgs.selectors import ancestors_of, children_of
from pingyi.console import console_view, int_or_none

from . import promotion, reminders
from .models import ReminderKind
from .registration import member_of

PAGE_SIZE = 50
UNITS_PAGE_SIZE = 100


def _campaign_for(request, org: Org) -> Campaign:
    """?campaign=<id> among the campaigns the unit takes part in, else the current one."""
    wanted = int_or_none(request.GET.get("campaign") or request.POST.get("campaign"))
    if wanted is not None:
        campaign = campaigns_for_org(org).filter(pk=wanted).first()
    else:
        campaign = current_campaign(org)
    if campaign is None:
        raise Http404(_("该单位没有参加任何评议活动"))
    return campaign


def _unit_context(request, org: Org, campaign: Campaign) -> dict:
    return {
        "org": org,
        "campaign": campaign,
        "campaigns": list(campaigns_for_org(org).order_by("-starts_at", "-pk")),
        "chain": _visible_chain(request.user, org),
        "window": window_text(campaign),
        "nav": "outreach",
    }


def _visible_chain(user, org: Org) -> list[Org]:
    """The org's ancestors the admin may open: the breadcrumb links nowhere it would 404."""
    return [a for a in ancestors_of(org) if in_scope(user, a)]


# The units of the admin's scope -------------------------------------------------------------


@console_view
def unit_index(request):
    """提醒与宣传: the admin's units, a level at a time, with links to reminders and posters."""
    parent = None
    if int_or_none(request.GET.get("org")) is not None:
        parent = get_org_in_scope_or_404(request.user, pk=int_or_none(request.GET.get("org")))
        units = children_of(parent)
    else:
        units = Org.objects.filter(pk__in=[o.pk for o in scope_roots(request.user)])
    page = Paginator(units.order_by("seq", "path"), UNITS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "members/outreach/unit_index.html",
        {
            "parent": parent,
            "chain": _visible_chain(request.user, parent) if parent else [],
            "page": page,
            "nav": "outreach",
        },
    )


# Reminders ---------------------------------------------------------------------------------


@console_view
def member_list(request, org_id: int):
    """The union's active members: 已注册? 已评议? filtered and paged, and the send form."""
    union = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = _campaign_for(request, union)
    show = request.GET.get("show", "all")
    if show not in reminders.FILTER_KEYS:
        show = "all"
    members = reminders.union_members(union=union, campaign=campaign, show=show)
    after = int_or_none(request.GET.get("after"))
    page = reminders.page_of_members(members, after=after, size=PAGE_SIZE)
    history = reminders.reminder_history(campaign=campaign, member_ids=[m.pk for m in page["rows"]])
    for member in page["rows"]:
        member.reminded = history.get(member.pk)
    facts = reminders.union_facts(union=union, campaign=campaign)
    kind = reminders.KIND_OF_FILTER.get(show)
    context = _unit_context(request, union, campaign)
    context.update(
        {
            "show": show,
            "filters": [
                (key, label, _filter_count(facts, key)) for key, label in reminders.FILTERS
            ],
            "page": page,
            "facts": facts,
            "kind": kind,
            "kind_label": ReminderKind(kind).label if kind else "",
            "matching": _filter_count(facts, show),
            "counts": reminders.reminder_counts(union=union, campaign=campaign),
            "can_send": can_manage(request.user, union),
            "is_open": campaign.status() == "open",
            "query": urlencode({"campaign": campaign.pk, "show": show}),
            "has_children": not facts.active and children_of(union).exists(),
            "interval": settings.PINGYI_REMINDER_MEMBER_INTERVAL_HOURS,
            "member_max": settings.PINGYI_REMINDER_MEMBER_MAX,
            "daily": settings.PINGYI_REMINDER_DAILY_LIMIT,
        }
    )
    return render(request, "members/outreach/member_list.html", context)


def _filter_count(facts: reminders.UnionFacts, key: str) -> int:
    return {
        "all": facts.active,
        "unregistered": facts.unregistered,
        "pending": facts.pending,
        "evaluated": facts.evaluated,
    }[key]


@console_view
@require_POST
def send(request, org_id: int):
    """发送提醒 to the selected members, or to every member the filter matches."""
    union = get_org_in_scope_or_404(request.user, pk=org_id)
    if not can_manage(request.user, union):
        raise PermissionDenied(_("您的角色不能发送提醒。"))
    campaign = _campaign_for(request, union)
    kind = request.POST.get("kind")
    if kind not in ReminderKind.values:
        raise Http404(_("未知的提醒类型"))
    show = {v: k for k, v in reminders.KIND_OF_FILTER.items()}[kind]
    back = (
        reverse("outreach:members", args=[union.pk])
        + "?"
        + urlencode({"campaign": campaign.pk, "show": show})
    )
    if request.POST.get("target") == "all":
        member_ids = None
    else:
        member_ids = [i for i in map(int_or_none, request.POST.getlist("member")) if i is not None]
        if not member_ids:
            messages.error(request, _("请先勾选要提醒的会员，或选择“提醒全部”。"))
            return redirect(back)
    try:
        result = reminders.send_reminders(
            union=union,
            campaign=campaign,
            kind=kind,
            sent_by=request.user,
            link=promotion.unit_url(request, org=union, campaign=campaign),
            member_ids=member_ids,
        )
    except reminders.ReminderRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    level = messages.success if not result.failed and not result.skipped else messages.warning
    level(request, result.summary())
    return redirect(back)


@console_view
def reminder_log(request, org_id: int):
    """The union's reminders in a campaign: who sent, when, to whom (masked), kind, status."""
    union = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = _campaign_for(request, union)
    page = Paginator(reminders.union_log(union=union, campaign=campaign), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _unit_context(request, union, campaign)
    context.update(
        {
            "page": page,
            "counts": reminders.reminder_counts(union=union, campaign=campaign),
            "query": urlencode({"campaign": campaign.pk}),
        }
    )
    return render(request, "members/outreach/reminder_log.html", context)


# The unit's link and poster ----------------------------------------------------------------


@console_view
def poster(request, org_id: int):
    """The printable A4 poster: title, unit, the QR code of the signed link, steps, contacts."""
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = _campaign_for(request, org)
    url = promotion.unit_url(request, org=org, campaign=campaign)
    context = _unit_context(request, org, campaign)
    context.update(
        {
            "url": url,
            # qrcode writes the element from the URL alone: nothing of the request goes in raw.
            "qr_svg": mark_safe(promotion.qr_svg(url)),
            "steps": promotion.STEPS,
            "contacts": _contacts(),
        }
    )
    return render(request, "members/outreach/poster.html", context)


@console_view
def poster_png(request, org_id: int):
    org = get_org_in_scope_or_404(request.user, pk=org_id)
    campaign = _campaign_for(request, org)
    url = promotion.unit_url(request, org=org, campaign=campaign)
    response = HttpResponse(promotion.qr_png(url), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="qrcode-{org.code}-{campaign.pk}.png"'
    return response


def _contacts() -> list[dict]:
    return [c for c in settings.PINGYI_SERVICE_CONTACTS if c.get("value")]


# The link's landing page (H5) --------------------------------------------------------------


@never_cache
def unit_link(request, token: str):
    """/m/u/<token>/: the unit and campaign of a signed link, the steps, 实名注册 and 登录评议."""
    try:
        link = promotion.read_unit_token(token)
    except promotion.InvalidLink:
        return render(request, "members/outreach/link_invalid.html", status=404)
    promotion.remember_invitation(request.session, link)
    member = member_of(request.user)
    evaluate_url = reverse("members:evaluate", args=[link.campaign.pk])
    return render(
        request,
        "members/outreach/unit_landing.html",
        {
            "org": link.org,
            "campaign": link.campaign,
            "window": window_text(link.campaign),
            "status": link.campaign.status(),
            "steps": promotion.STEPS,
            "member": member,
            "evaluate_url": evaluate_url,
            "login_url": reverse("members:login") + "?" + urlencode({"next": evaluate_url}),
        },
    )
