"""Reads of evaluations that member pages, the API and the console share."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from campaigns.models import Campaign, Question, QuestionKind
from campaigns.selectors import campaigns_for_org

from .models import Answer, Evaluation
from .rules import EvaluationError, check_can_evaluate, window_text


@dataclass
class Questionnaire:
    campaign: Campaign
    overall: Question
    items: list[Question]
    suggestion: Question | None


# The questions of each campaign as last saved, read once per process: every change of a
# questionnaire saves its campaign (updated_at), and each request reads the campaign afresh.
_QUESTIONS: dict[tuple[int, datetime], list[Question]] = {}


def campaign_questions(campaign: Campaign) -> list[Question]:
    key = (campaign.pk, campaign.updated_at)
    questions = _QUESTIONS.get(key)
    if questions is None:
        questions = list(campaign.questions.all())
        if len(_QUESTIONS) > 1000:
            _QUESTIONS.clear()
        _QUESTIONS[key] = questions
    return questions


def questionnaire(campaign: Campaign) -> Questionnaire:
    questions = campaign_questions(campaign)
    return Questionnaire(
        campaign=campaign,
        overall=next(q for q in questions if q.kind == QuestionKind.OVERALL),
        items=[q for q in questions if q.kind == QuestionKind.ITEM],
        suggestion=next((q for q in questions if q.kind == QuestionKind.SUGGESTION), None),
    )


@dataclass
class MemberCampaign:
    """A campaign as one member sees it: its window, its state and their evaluation, if any."""

    campaign: Campaign
    status: str  # upcoming / open / closed
    window: str
    evaluation: Evaluation | None
    refusal: EvaluationError | None = field(default=None)

    @property
    def can_evaluate(self) -> bool:
        return self.evaluation is None and self.refusal is None

    @property
    def to_do(self) -> bool:
        """待参与: open and not yet evaluated."""
        return self.status == "open" and self.evaluation is None and self.refusal is None


def campaigns_of_member(member, now=None) -> list[MemberCampaign]:
    """Campaigns covering the member's union, newest first; with what they may do in each."""
    now = now or timezone.now()
    campaigns = list(campaigns_for_org(member.org).order_by("-starts_at", "-pk"))
    done = {
        e.campaign_id: e
        for e in Evaluation.objects.filter(member=member, campaign__in=campaigns).select_related(
            "org"
        )
    }
    rows = []
    for campaign in campaigns:
        refusal = None
        try:
            check_can_evaluate(member, campaign, now)
        except EvaluationError as error:
            refusal = error
        rows.append(
            MemberCampaign(
                campaign=campaign,
                status=campaign.status(now),
                window=window_text(campaign),
                evaluation=done.get(campaign.pk),
                refusal=refusal,
            )
        )
    return rows


def open_to_do(member, now=None) -> list[MemberCampaign]:
    """待参与: the open campaigns the member has not yet evaluated."""
    return [row for row in campaigns_of_member(member, now) if row.to_do]


def evaluation_of(member, campaign: Campaign) -> Evaluation | None:
    return history_of(member).filter(campaign=campaign).first()


def history_of(member) -> QuerySet[Evaluation]:
    """The member's evaluations over all campaigns, newest first, with answers and questions."""
    return (
        Evaluation.objects.filter(member=member)
        .select_related("campaign", "campaign__org", "org")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question").order_by(
                    "question__position", "question_id"
                ),
            )
        )
        .order_by("-submitted_at", "-pk")
    )


@dataclass
class AnswerRow:
    question: Question
    rating: int | None
    label: str


def answer_rows(
    evaluation: Evaluation,
    *,
    items: list[Question] | None = None,
    ratings: dict[int, int] | None = None,
) -> list[AnswerRow]:
    """Every item of the campaign in order, with the member's rating or None (not rated).

    `items` and `ratings`, when the caller holds them (a submission just made), save reading.
    """
    if ratings is None:
        ratings = {a.question_id: a.rating for a in evaluation.answers.all()}
    given = ratings
    campaign = evaluation.campaign
    if items is None:
        items = questionnaire(campaign).items
    return [
        AnswerRow(
            question=q,
            rating=given.get(q.pk),
            label=campaign.label_for(given[q.pk]) if q.pk in given else "",
        )
        for q in sorted(items, key=lambda q: (q.position, q.pk))
    ]
