"""Console pages of campaigns: list, create, settings, questionnaire."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluations.review import may_review
from orgs.models import Org
from orgs.scoping import can_run_campaigns, restrict_to_scope, scope_roots
from pingyi.console import console_view
from reports.models import AssessmentScheme, AssessmentStatus

from .forms import CampaignForm
from .models import Campaign, QuestionKind
from .selectors import visible_campaigns
from .services import (
    SEED_TARGET_RATES,
    QuestionnaireLocked,
    create_campaign,
    save_questionnaire,
    set_target_rates,
)


def _get_campaign(user, campaign_id: int) -> Campaign:
    try:
        return visible_campaigns(user).get(pk=campaign_id)
    except Campaign.DoesNotExist as exc:
        raise Http404(_("找不到该评议活动，或不在您的管理范围内")) from exc


@console_view
def campaign_list(request):
    campaigns = visible_campaigns(request.user).order_by("-starts_at")
    can_create = bool(campaign_orgs(request.user))
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": campaigns, "can_create": can_create, "nav": "campaigns"},
    )


def campaign_orgs(user) -> list[Org]:
    return [org for org in scope_roots(user) if can_run_campaigns(user, org)]


@console_view
def campaign_create(request):
    orgs = campaign_orgs(request.user)
    if not orgs:
        raise PermissionDenied(_("只有总工会管理员可以新建评议活动。"))
    org = orgs[0]
    year = timezone.localdate().year
    form = CampaignForm(
        request.POST or None,
        initial={
            "year": year,
            "name": _("%(year)s年会员网上评议") % {"year": year},
            "negative_rule": "overall",
        }
        | {f"rate_{k}": v * 100 for k, v in SEED_TARGET_RATES.items()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        starts_at, ends_at = form.window()
        try:
            with transaction.atomic():
                campaign = create_campaign(
                    org=org,
                    name=data["name"].strip(),
                    year=data["year"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    negative_rule=data["negative_rule"],
                    verify_days=data["verify_days"],
                    rectify_days=data["rectify_days"],
                    trace_retention_days=data["trace_retention_days"],
                    target_rates={k: v for k, v in form.rates().items() if v is not None},
                    created_by=request.user,
                )
        except IntegrityError:
            form.add_error(
                "name",
                _("“%(org)s”已有名为“%(name)s”的评议活动。")
                % {"org": org.name, "name": data["name"]},
            )
        else:
            messages.success(
                request,
                _("已新建评议活动“%(name)s”，问卷已按2022年版生成，可再修改。")
                % {"name": campaign.name},
            )
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "org": org, "title": _("新建评议活动"), "nav": "campaigns"},
    )


@console_view
def campaign_detail(request, campaign_id: int):
    campaign = _get_campaign(request.user, campaign_id)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "questions": campaign.questions.all(),
            "rates": campaign.target_rates.all(),
            "can_edit": can_run_campaigns(request.user, campaign.org),
            # 考核评分: its federation's admins work on the draft; others read it once published.
            "assessment_readable": can_run_campaigns(request.user, campaign.org)
            or AssessmentScheme.objects.filter(
                campaign=campaign, status=AssessmentStatus.PUBLISHED
            ).exists(),
            "can_review": may_review(request.user, campaign.org),
            # A town admin reads the city's campaign, not the other towns' task tables.
            "imports": restrict_to_scope(
                campaign.task_imports.select_related("parent", "imported_by"),
                request.user,
                org_field="parent",
            )[:20],
            "nav": "campaigns",
        },
    )


def _editable_campaign(user, campaign_id: int) -> Campaign:
    campaign = _get_campaign(user, campaign_id)
    if not can_run_campaigns(user, campaign.org):
        raise PermissionDenied(_("只有发起该活动的总工会管理员可以修改活动设置。"))
    return campaign


@console_view
def campaign_edit(request, campaign_id: int):
    campaign = _editable_campaign(request.user, campaign_id)
    # As the form takes them (two decimals): 0.7000 stored → "70.00", which posts back as is.
    rates = {
        r.org_kind: (r.rate * 100).quantize(Decimal("0.01")) for r in campaign.target_rates.all()
    }
    initial = {
        "name": campaign.name,
        "year": campaign.year,
        "start_date": timezone.localtime(campaign.starts_at).date(),
        "end_date": timezone.localtime(campaign.ends_at).date(),
        "negative_rule": campaign.negative_rule,
        "verify_days": campaign.verify_days,
        "rectify_days": campaign.rectify_days,
        "trace_retention_days": campaign.trace_retention_days,
    } | {f"rate_{k}": v for k, v in rates.items()}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign.name = data["name"].strip()
        campaign.year = data["year"]
        campaign.starts_at, campaign.ends_at = form.window()
        campaign.negative_rule = data["negative_rule"]
        campaign.verify_days = data["verify_days"]
        campaign.rectify_days = data["rectify_days"]
        campaign.trace_retention_days = data["trace_retention_days"]
        try:
            with transaction.atomic():
                campaign.save()
                set_target_rates(campaign=campaign, rates=form.rates())
        except IntegrityError:
            form.add_error("name", _("已有名为“%(name)s”的评议活动。") % {"name": campaign.name})
        else:
            messages.success(request, _("活动设置已保存。"))
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    return render(
        request,
        "campaigns/form.html",
        {
            "form": form,
            "org": campaign.org,
            "campaign": campaign,
            "title": _("修改“%(name)s”") % {"name": campaign.name},
            "nav": "campaigns",
        },
    )


@console_view
def questionnaire_edit(request, campaign_id: int):
    campaign = _editable_campaign(request.user, campaign_id)
    questions = list(campaign.questions.all())
    errors: list[str] = []
    if request.method == "POST":
        entries = []
        for q in questions:
            label = request.POST.get(f"label_{q.pk}", "").strip()
            if not label:
                errors.append(
                    _("第 %(number)s 题（原为“%(label)s”）的题目不能为空。")
                    % {"number": q.position + 1, "label": q.label}
                )
            entries.append(
                {
                    "id": q.pk,
                    "label": label,
                    "position": _int(request.POST.get(f"position_{q.pk}"), q.position),
                    "delete": request.POST.get(f"delete_{q.pk}") == "on",
                }
            )
        new_label = request.POST.get("new_label", "").strip()
        if new_label:
            if len(new_label) > 100:
                errors.append(_("新增分项的题目不能超过 100 个字。"))
            last = max((q.position for q in questions), default=0)
            entries.append({"id": None, "label": new_label, "position": last, "delete": False})
        if not errors:
            try:
                save_questionnaire(campaign=campaign, entries=entries)
            except QuestionnaireLocked as refusal:
                errors.append(str(refusal))
            else:
                messages.success(request, _("问卷已保存。"))
                return redirect("campaigns:questionnaire", campaign_id=campaign.pk)
    return render(
        request,
        "campaigns/questionnaire.html",
        {
            "campaign": campaign,
            "questions": questions,
            "errors": errors,
            "item_kind": QuestionKind.ITEM,
            "nav": "campaigns",
        },
    )


def _int(raw, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default
