"""Submitting an evaluation: the one function the H5 form, the API and the demo call."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, NegativeRule, Question, Rating
from cases.services import open_case
from members.crypto import lookup_hash

from . import counters
from .models import Answer, Channel, Evaluation, SubmissionTrace
from .rules import EvaluationError, InvalidAnswers, RequestKeyReused, check_can_evaluate
from .selectors import questionnaire

REQUEST_KEY_MAX = 64


@dataclass
class Submitted:
    """created: False when the member's stored evaluation answers a repeat. For a new one,
    `items` (the campaign's work items) and `ratings` let the caller show it without reading
    it back."""

    evaluation: Evaluation
    created: bool
    items: list[Question] | None = None
    ratings: dict[int, int] | None = None


@dataclass
class Answers:
    """What the member filled in, already read from the form or the JSON body."""

    overall: int | None
    ratings: dict[int, int | None]  # question id → 1..5, or None when left unrated
    suggestion: str = ""
    return_visit: bool = False


def clean_suggestion(text: str | None) -> str:
    """As written, minus what no one typed: surrounding blanks, \\r of \\r\\n, NUL characters."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


@dataclass
class Valid:
    overall: int
    ratings: dict[int, int]
    suggestion: str
    items: list[Question]


def validate_answers(campaign: Campaign, answers: Answers) -> Valid:
    """The answers checked against the campaign's questionnaire, or InvalidAnswers naming
    every field at fault."""
    form = questionnaire(campaign)
    items = {q.pk: q for q in form.items}
    errors: dict[str, str] = {}

    if answers.overall in (None, ""):
        errors["overall"] = _("请选择“%(label)s”。") % {"label": form.overall.label}
    elif answers.overall not in Rating.values:
        errors["overall"] = _("“工作总体满意度”的评分应为 1 至 5 星，收到的是 %(value)s。") % {
            "value": answers.overall
        }

    ratings: dict[int, int] = {}
    for question_id, rating in answers.ratings.items():
        question = items.get(question_id)
        if question is None:
            errors[f"item_{question_id}"] = _("本次评议没有编号为 %(id)s 的分项。") % {
                "id": question_id
            }
        elif rating in (None, ""):
            continue
        elif rating not in Rating.values:
            errors[f"item_{question_id}"] = _(
                "“%(label)s”的评分应为 1 至 5 星，收到的是 %(value)s。"
            ) % {
                "label": question.label,
                "value": rating,
            }
        else:
            ratings[question_id] = rating

    suggestion = clean_suggestion(answers.suggestion)
    limit = form.suggestion.max_length if form.suggestion else 500
    if len(suggestion) > limit:
        errors["suggestion"] = _("建议最多 %(limit)s 字，您写了 %(count)s 字。") % {
            "limit": limit,
            "count": len(suggestion),
        }
    if errors:
        raise InvalidAnswers(errors)
    return Valid(answers.overall, ratings, suggestion, form.items)


def is_negative(campaign: Campaign, overall: int, ratings: dict[int, int]) -> bool:
    """The campaign's rule (DESIGN.md 差评): 不满意 or 非常不满意."""
    if overall <= Rating.DISSATISFIED:
        return True
    if campaign.negative_rule == NegativeRule.OVERALL_OR_ITEM:
        return any(r <= Rating.DISSATISFIED for r in ratings.values())
    return False


def device_hint(user_agent: str) -> str:
    return hashlib.sha256(user_agent.encode()).hexdigest()[:32] if user_agent else ""


DEVICE_ID_MAX = 200


def device_key(device_id: str | None) -> str:
    """A keyed digest of the client's device id (the H5 device cookie, the app's install id):
    the same device gives the same key, and the id itself is never stored."""
    device_id = (device_id or "").strip()[:DEVICE_ID_MAX]
    return lookup_hash("device", device_id)[:32] if device_id else ""


def submit_evaluation(
    *,
    member,
    campaign: Campaign,
    answers: Answers,
    channel: str = Channel.H5,
    request_key: str = "",
    address: str | None = None,
    user_agent: str = "",
    device_id: str = "",
    form_opened_at: datetime | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Store the member's evaluation and count it, or answer with the one already stored.

    A double tap, a retry and a concurrent request all end with one row: the database's
    unique (campaign, member) decides, and a repeat reads the stored evaluation. A request key
    reused for another campaign is refused (unique per member, too). The network address, the
    device and when the form was opened go to the trace, for integrity review only (DESIGN.md);
    the device id is kept as a keyed digest. The stored evaluation is
    looked for only when the insert fails or the answers are refused, so a first submission,
    the common case, pays no extra query.
    """
    now = now or timezone.now()
    request_key = (request_key or "")[:REQUEST_KEY_MAX]
    try:
        check_can_evaluate(member, campaign, now)
        valid = validate_answers(campaign, answers)
    except EvaluationError:
        # A repeat after the window closed, or with other answers, still finds what was sent.
        stored = _stored_for(member=member, campaign=campaign, request_key=request_key)
        if stored is not None:
            return Submitted(stored, created=False)
        raise
    try:
        with transaction.atomic():
            evaluation = _store(
                member=member,
                campaign=campaign,
                valid=valid,
                return_visit=bool(answers.return_visit),
                channel=channel,
                request_key=request_key,
                submitted_at=now,
            )
            SubmissionTrace.objects.create(
                evaluation=evaluation,
                address=address or None,
                device=device_hint(user_agent),
                device_key=device_key(device_id),
                form_opened_at=form_opened_at,
            )
            if evaluation.is_negative:  # 差评处置: the case opens with the submission
                open_case(evaluation=evaluation)
    except IntegrityError:
        # Stored before (a repeat), or just now by a concurrent request of the member.
        stored = _stored_for(member=member, campaign=campaign, request_key=request_key)
        if stored is None:
            raise
        return Submitted(stored, created=False)
    return Submitted(evaluation, created=True, items=valid.items, ratings=valid.ratings)


def _stored_for(*, member, campaign: Campaign, request_key: str) -> Evaluation | None:
    """The member's evaluation in this campaign, or the one this request key already made.

    One query for both; a key that made an evaluation in another campaign is refused.
    """
    matches = Q(campaign=campaign)
    if request_key:
        matches |= Q(request_key=request_key)
    found = list(Evaluation.objects.filter(matches, member=member)[:2])
    keyed = next((e for e in found if request_key and e.request_key == request_key), None)
    if keyed is not None and keyed.campaign_id != campaign.pk:
        raise RequestKeyReused(_("该请求标识已用于另一次评议，请换一个后重试。"))
    return next((e for e in found if e.campaign_id == campaign.pk), None)


def _store(
    *, member, campaign, valid: Valid, return_visit, channel, request_key, submitted_at
) -> Evaluation:
    evaluation = Evaluation.objects.create(
        campaign=campaign,
        member=member,
        org=member.org,
        overall=valid.overall,
        suggestion=valid.suggestion,
        return_visit=return_visit,
        is_negative=is_negative(campaign, valid.overall, valid.ratings),
        submitted_at=submitted_at,
        channel=channel,
        request_key=request_key,
    )
    if valid.ratings:
        Answer.objects.bulk_create(
            [
                Answer(evaluation=evaluation, question_id=q, rating=r)
                for q, r in valid.ratings.items()
            ]
        )
    counters.add_submission(
        campaign=campaign,
        day=counters.local_day(submitted_at),
        paths=counters.chain_paths(campaign, member.org.path),
    )
    return evaluation
