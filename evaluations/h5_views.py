"""Member pages (H5) of 评议: 工作评议 (the campaigns and the form) and 我的评议记录.

Thin views: who may evaluate and when is evaluations.rules, storing is submit_evaluation,
reads are evaluations.selectors. The form posts normally; its script only enhances it.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.throttle import client_address
from campaigns.models import Campaign
from cases.models import Case, HandlingRating
from cases.selectors import member_cases
from cases.services import CaseError, rate_handling
from members.h5_views import member_view

from .forms_h5 import (
    DEVICE_COOKIE,
    TOKEN_FIELD,
    Filled,
    form_token,
    item_field,
    keep_device_cookie,
    read_filled,
    read_form_token,
)
from .models import Channel
from .rules import EvaluationError, InvalidAnswers, check_can_evaluate, window_text
from .selectors import answer_rows, campaigns_of_member, evaluation_of, history_of, questionnaire
from .services import submit_evaluation


@member_view
def campaigns(request, member):
    """工作评议: straight to the form when one campaign waits; else what each campaign is at."""
    rows = campaigns_of_member(member)
    to_do = [row for row in rows if row.to_do]
    if len(to_do) == 1 and "all" not in request.GET:
        return redirect("members:evaluate", to_do[0].campaign.pk)
    return render(
        request,
        "evaluations/h5/campaigns.html",
        {"member": member, "to_do": to_do, "others": [row for row in rows if not row.to_do]},
    )


def _show_stored(request, evaluation):
    messages.info(request, _("您已参加过本次评议，以下是您提交的内容"))
    return redirect("members:history_detail", evaluation.pk)


@member_view
def evaluate(request, member, campaign_id: int):
    campaign = get_object_or_404(Campaign.objects.select_related("org"), pk=campaign_id)
    # Asked before the scope: a member who has since moved out still finds what they sent.
    stored = evaluation_of(member, campaign)
    if stored is not None:
        return _show_stored(request, stored)
    if not campaign.org.contains(member.org):
        return render(request, "evaluations/h5/not_covered.html", {"member": member}, status=404)
    if request.method != "POST":
        try:
            check_can_evaluate(member, campaign)
        except EvaluationError as refusal:
            return _refused(request, member, campaign, refusal)
        return keep_device_cookie(request, _form(request, member, campaign, Filled(), token=None))

    filled = read_filled(request.POST, questionnaire(campaign))
    token = read_form_token(request.POST.get(TOKEN_FIELD, ""), member=member, campaign=campaign)
    try:
        done = submit_evaluation(
            member=member,
            campaign=campaign,
            answers=filled.answers(),
            channel=Channel.H5,
            request_key=token.request_key if token else "",
            address=client_address(request) or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            device_id=request.COOKIES.get(DEVICE_COOKIE, ""),
            form_opened_at=token.opened_at if token else None,
        )
    except InvalidAnswers as invalid:
        return _form(request, member, campaign, filled, token=token, errors=invalid.errors)
    except EvaluationError as refusal:
        return _refused(request, member, campaign, refusal)
    if not done.created:
        return _show_stored(request, done.evaluation)
    messages.success(request, _("提交成功，感谢您参与评议！"))
    return redirect("members:history_detail", done.evaluation.pk)


def _refused(request, member, campaign, refusal: EvaluationError):
    return render(
        request,
        "evaluations/h5/refused.html",
        {
            "member": member,
            "campaign": campaign,
            "window": window_text(campaign),
            "refusal": refusal,
        },
    )


def _form(request, member, campaign, filled: Filled, *, token, errors=None):
    errors = errors or {}
    questions = questionnaire(campaign)
    scale = campaign.scale  # 5..1, best first

    def rated(key: str, question, chosen, *, required: bool) -> dict:
        return {
            "key": key,
            "question": question,
            "chosen": chosen,
            "required": required,
            "error": errors.get(key, ""),
            "levels": [
                {"value": value, "label": label, "checked": chosen == value}
                for value, label in scale
            ],
        }

    return render(
        request,
        "evaluations/h5/evaluate.html",
        {
            "member": member,
            "campaign": campaign,
            "window": window_text(campaign),
            "overall": rated("overall", questions.overall, filled.overall, required=True),
            "items": [
                rated(item_field(q), q, filled.ratings.get(q.pk), required=False)
                for q in questions.items
            ],
            "suggestion": questions.suggestion,
            "suggestion_error": errors.get("suggestion", ""),
            "filled": filled,
            "errors": errors,
            "token_field": TOKEN_FIELD,
            "token": token.value if token else form_token(member=member, campaign=campaign),
        },
    )


@member_view
def history(request, member):
    return render(
        request,
        "evaluations/h5/history.html",
        {"member": member, "evaluations": list(history_of(member))},
    )


@member_view
def history_detail(request, member, evaluation_id: int):
    evaluation = get_object_or_404(history_of(member), pk=evaluation_id)
    case = member_cases([evaluation.pk]).get(evaluation.pk) if evaluation.is_negative else None
    rating_error, status = "", 200
    if request.method == "POST" and case is not None:
        # 差评处置: the member rates how the union handled their negative review.
        try:
            rate_handling(
                case=Case(pk=case.id),
                member=member,
                rating=request.POST.get("handling_rating", ""),
            )
        except CaseError as refusal:
            rating_error, status = refusal.message, refusal.status
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect("members:history_detail", evaluation.pk)
    return render(
        request,
        "evaluations/h5/history_detail.html",
        {
            "member": member,
            "evaluation": evaluation,
            "answers": answer_rows(evaluation),
            "case": case,
            "handling_ratings": HandlingRating.choices,
            "rating_error": rating_error,
        },
        status=status,
    )
