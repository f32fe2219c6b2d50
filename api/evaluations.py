"""API routes for members' evaluations: their campaigns, the questionnaire, submit, history.

The rules are those of the H5 form: evaluations.services.submit_evaluation decides, and a
second attempt (a double tap, a retry with the same Idempotency-Key, a concurrent request)
answers with the evaluation already stored, never with a second row.
"""

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Header, Router, Schema, Status

from accounts.throttle import client_address
from campaigns.models import Campaign
from cases.models import Case
from cases.selectors import MemberCase, member_cases
from cases.services import CaseError, rate_handling
from evaluations.forms_h5 import form_token, read_form_token
from evaluations.models import Channel, Evaluation
from evaluations.rules import EvaluationError, InvalidAnswers, window_text
from evaluations.selectors import answer_rows, campaigns_of_member, history_of, questionnaire
from evaluations.services import REQUEST_KEY_MAX, Answers, submit_evaluation
from members.models import Member

from .auth import token_or_session
from .errors import ApiRefusal
from .members import current_member

router = Router(tags=[gettext_lazy("评议")], auth=token_or_session)


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    errors: dict[str, str] | list | None = None


class RefusalOut(Schema):
    code: str
    message: str


class MemberCampaignOut(Schema):
    id: int
    name: str
    org: str  # the organising org
    starts_at: datetime
    ends_at: datetime
    window: str  # 2022年9月1日至11月30日
    status: str  # upcoming / open / closed
    to_do: bool  # 待参与: open and not yet evaluated
    can_evaluate: bool
    refusal: RefusalOut | None  # why the member may not evaluate now, if they may not
    evaluation_id: int | None


class CampaignBriefOut(Schema):
    id: int
    name: str
    window: str
    status: str


class RatingLevelOut(Schema):
    rating: int
    label: str


class OverallQuestionOut(Schema):
    id: int
    label: str
    required: bool = True


class ItemQuestionOut(Schema):
    id: int
    label: str
    position: int


class SuggestionQuestionOut(Schema):
    id: int
    label: str
    max_length: int


class QuestionnaireOut(Schema):
    campaign: CampaignBriefOut
    scale: list[RatingLevelOut]  # best first: 5 非常满意 … 1 非常不满意
    overall: OverallQuestionOut
    items: list[ItemQuestionOut]
    suggestion: SuggestionQuestionOut | None
    # Signed with the member, the campaign and when it was issued: send it back with the
    # evaluation (form_token) so that the time spent on the form is known to integrity review.
    form_token: str


class ItemRatingIn(Schema):
    question_id: int
    rating: int | None = None  # 1..5, or null when left unrated


class EvaluationIn(Schema):
    overall: int | None = None  # required; null or absent is refused with invalid_answers
    items: list[ItemRatingIn] = []
    suggestion: str = ""
    return_visit: bool = False
    form_token: str = ""  # the questionnaire's form_token, as it was received


class RefOut(Schema):
    id: int
    name: str


class ItemAnswerOut(Schema):
    question_id: int
    label: str
    rating: int | None  # null: not rated
    rating_label: str | None


class ReplyOut(Schema):
    at: datetime
    org: str  # the union that replied (or the parent org, for a case reopened there)
    outcome: str  # fixed 立行立改 / by_deadline 限期整改 / explained 解释说明
    outcome_label: str
    measures: str
    text: str
    rectify_by: date | None  # 限期整改: the promised date


class HandlingOut(Schema):
    id: int
    state: str  # verifying / rectifying / appealing / replied / closed
    state_label: str  # 处理中 / 已答复，请评价处理情况 / 已办结
    can_rate: bool  # true once the union has replied and the member has not yet rated
    rating: str  # "", satisfied, basically, dissatisfied
    rating_label: str


class HandlingRatingIn(Schema):
    rating: str  # satisfied 满意 / basically 基本满意 / dissatisfied 不满意


class EvaluationOut(Schema):
    id: int
    campaign: RefOut
    union: RefOut  # the member's union when they submitted; a later transfer does not move it
    overall: int
    overall_label: str
    items: list[ItemAnswerOut]
    suggestion: str
    return_visit: bool
    submitted_at: datetime
    replies: list[ReplyOut] = Field(
        default_factory=list,
        description="工会对差评的答复，最早的在前；不是差评或尚未答复时为空列表",
    )
    handling: HandlingOut | None = Field(
        None, description="差评处置的进度与会员对处理情况的评价；不是差评时为 null"
    )


class SubmitOut(Schema):
    created: bool  # false: the member had already evaluated; this is the stored evaluation
    evaluation: EvaluationOut


def refusal(error: EvaluationError) -> ApiRefusal:
    """A refusal of the evaluation rules as the API answers it."""
    extra = {}
    if error.field:
        extra["field"] = error.field
    if isinstance(error, InvalidAnswers):
        extra["errors"] = error.errors
    return ApiRefusal(error.status, error.code, error.message, **extra)


def campaign_of(member: Member, campaign_id: int) -> Campaign:
    """A campaign covering the member's union, or one they evaluated in before moving away."""
    campaign = Campaign.objects.select_related("org").filter(pk=campaign_id).first()
    if campaign is not None and not campaign.org.contains(member.org):
        campaign = None
    if campaign is None:
        evaluation = history_of(member).filter(campaign_id=campaign_id).first()
        campaign = evaluation.campaign if evaluation else None
    if campaign is None:
        raise ApiRefusal(404, "not_found", _("找不到该评议活动，或您所在的工会不在其范围内"))
    return campaign


def evaluation_out(
    evaluation: Evaluation,
    *,
    items: list | None = None,
    ratings: dict | None = None,
    case: MemberCase | None = None,
) -> EvaluationOut:
    campaign = evaluation.campaign
    return EvaluationOut(
        id=evaluation.pk,
        campaign=RefOut(id=campaign.pk, name=campaign.name),
        union=RefOut(id=evaluation.org_id, name=evaluation.org.name),
        overall=evaluation.overall,
        overall_label=evaluation.overall_label,
        items=[
            ItemAnswerOut(
                question_id=row.question.pk,
                label=row.question.label,
                rating=row.rating,
                rating_label=row.label or None,
            )
            for row in answer_rows(evaluation, items=items, ratings=ratings)
        ],
        suggestion=evaluation.suggestion,
        return_visit=evaluation.return_visit,
        submitted_at=evaluation.submitted_at,
        replies=[ReplyOut(**vars(r)) for r in case.replies] if case else [],
        handling=(
            HandlingOut(
                id=case.id,
                state=case.state,
                state_label=case.state_label,
                can_rate=case.can_rate,
                rating=case.rating,
                rating_label=case.rating_label,
            )
            if case
            else None
        ),
    )


def _with_case(evaluation: Evaluation, **kwargs) -> EvaluationOut:
    case = member_cases([evaluation.pk]).get(evaluation.pk) if evaluation.is_negative else None
    return evaluation_out(evaluation, case=case, **kwargs)


_ERRORS = frozenset({401, 403, 404, 409, 422})


@router.get(
    "/me/campaigns",
    response={200: list[MemberCampaignOut], frozenset({401, 403}): ErrorOut},
    summary=gettext_lazy("我的评议活动：待参与、已参与与已结束"),
)
def my_campaigns(request: HttpRequest):
    member = current_member(request)
    return [
        MemberCampaignOut(
            id=row.campaign.pk,
            name=row.campaign.name,
            org=row.campaign.org.name,
            starts_at=row.campaign.starts_at,
            ends_at=row.campaign.ends_at,
            window=row.window,
            status=row.status,
            to_do=row.to_do,
            can_evaluate=row.can_evaluate,
            refusal=(
                RefusalOut(code=row.refusal.code, message=row.refusal.message)
                if row.refusal
                else None
            ),
            evaluation_id=row.evaluation.pk if row.evaluation else None,
        )
        for row in campaigns_of_member(member)
    ]


@router.get(
    "/campaigns/{campaign_id}/questionnaire",
    response={200: QuestionnaireOut, frozenset({401, 403, 404}): ErrorOut},
    summary=gettext_lazy("评议问卷：评分等级、总体满意度、分项与建议"),
)
def campaign_questionnaire(request: HttpRequest, campaign_id: int):
    member = current_member(request)
    campaign = campaign_of(member, campaign_id)
    form = questionnaire(campaign)
    return QuestionnaireOut(
        form_token=form_token(member=member, campaign=campaign),
        campaign=CampaignBriefOut(
            id=campaign.pk,
            name=campaign.name,
            window=window_text(campaign),
            status=campaign.status(),
        ),
        scale=[RatingLevelOut(rating=r, label=label) for r, label in campaign.scale],
        overall=OverallQuestionOut(id=form.overall.pk, label=form.overall.label),
        items=[ItemQuestionOut(id=q.pk, label=q.label, position=q.position) for q in form.items],
        suggestion=(
            SuggestionQuestionOut(
                id=form.suggestion.pk,
                label=form.suggestion.label,
                max_length=form.suggestion.max_length,
            )
            if form.suggestion
            else None
        ),
    )


@router.post(
    "/campaigns/{campaign_id}/evaluation",
    response={201: SubmitOut, 200: SubmitOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("提交评议（每个活动一次；重复提交返回已存的评议）"),
    description=gettext_lazy(
        "新评议返回 201；会员已评议过（或以同一 Idempotency-Key 重试）返回 200 与已存的评议，"
        "created 为 false。Idempotency-Key 最长 64 个字符，用于另一活动时返回 409。"
        "form_token 为获取问卷时收到的 form_token，X-Device-Id 为客户端的安装标识；"
        "二者仅用于核查异常评议，可不传。"
    ),
)
def submit(
    request: HttpRequest,
    campaign_id: int,
    payload: EvaluationIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="客户端为本次提交生成的唯一标识（最长 64 个字符），重试时原样带上",
    ),
    device_id: str | None = Header(
        None,
        alias="X-Device-Id",
        description="客户端安装标识（同一台手机不变）；仅以摘要保存，用于核查异常评议",
    ),
):
    member = current_member(request)
    request_key = (idempotency_key or "").strip()
    if len(request_key) > REQUEST_KEY_MAX:
        raise ApiRefusal(
            422,
            "invalid",
            _("Idempotency-Key 最长 %(max)s 个字符，请换一个较短的标识。")
            % {"max": REQUEST_KEY_MAX},
            field="Idempotency-Key",
        )
    if not request_key.isprintable():  # stored with the evaluation: PostgreSQL refuses a NUL
        raise ApiRefusal(
            422,
            "invalid",
            _("Idempotency-Key 只能由可见字符组成，请换一个标识（例如 UUID）。"),
            field="Idempotency-Key",
        )
    campaign = campaign_of(member, campaign_id)
    token = read_form_token(payload.form_token[:500], member=member, campaign=campaign)
    ratings: dict[int, int | None] = {}
    for item in payload.items:
        if item.question_id in ratings:
            key = f"item_{item.question_id}"
            message = _("分项（编号 %(id)s）出现了不止一次，每个分项只能评一次。") % {
                "id": item.question_id
            }
            raise ApiRefusal(422, "invalid_answers", message, field=key, errors={key: message})
        ratings[item.question_id] = item.rating
    try:
        done = submit_evaluation(
            member=member,
            campaign=campaign,
            answers=Answers(
                overall=payload.overall,
                ratings=ratings,
                suggestion=payload.suggestion,
                return_visit=payload.return_visit,
            ),
            channel=Channel.API,
            request_key=request_key,
            address=client_address(request),
            user_agent=request.headers.get("User-Agent", ""),
            device_id=device_id or "",
            form_opened_at=token.opened_at if token else None,
        )
    except EvaluationError as error:
        raise refusal(error) from None
    if done.created:  # shown from what the request holds, without reading it back
        shown = _with_case(done.evaluation, items=done.items, ratings=done.ratings)
    else:
        shown = _with_case(history_of(member).get(pk=done.evaluation.pk))
    return Status(201 if done.created else 200, SubmitOut(created=done.created, evaluation=shown))


@router.get(
    "/me/evaluations",
    response={200: list[EvaluationOut], frozenset({401, 403}): ErrorOut},
    summary=gettext_lazy("我的评议记录（最新的在前）"),
)
def my_evaluations(request: HttpRequest):
    evaluations = list(history_of(current_member(request)))
    cases = member_cases([e.pk for e in evaluations if e.is_negative])
    return [evaluation_out(e, case=cases.get(e.pk)) for e in evaluations]


@router.get(
    "/me/evaluations/{evaluation_id}",
    response={200: EvaluationOut, frozenset({401, 403, 404}): ErrorOut},
    summary=gettext_lazy("我的一条评议"),
)
def my_evaluation(request: HttpRequest, evaluation_id: int):
    evaluation = history_of(current_member(request)).filter(pk=evaluation_id).first()
    if evaluation is None:
        raise ApiRefusal(404, "not_found", _("找不到这条评议记录"))
    return _with_case(evaluation)


@router.post(
    "/me/evaluations/{evaluation_id}/handling-rating",
    response={200: EvaluationOut, _ERRORS: ErrorOut},
    summary=gettext_lazy("评价工会对差评的处理（满意 / 基本满意 / 不满意）"),
    description=gettext_lazy(
        "工会答复后（handling.can_rate 为 true）可评价一次；“不满意”将转上级工会重办（仅一次），"
        "重办答复后可再评价。未答复、已办结时返回 409 case_refused。"
    ),
)
def rate_my_handling(request: HttpRequest, evaluation_id: int, payload: HandlingRatingIn):
    member = current_member(request)
    evaluation = history_of(member).filter(pk=evaluation_id).first()
    case = member_cases([evaluation.pk]).get(evaluation.pk) if evaluation else None
    if case is None:
        raise ApiRefusal(404, "not_found", _("找不到这条差评的处置记录"))
    try:
        rate_handling(case=Case(pk=case.id), member=member, rating=payload.rating)
    except CaseError as error:
        extra = {"field": error.field} if error.field else {}
        raise ApiRefusal(error.status, error.code, error.message, **extra) from None
    return _with_case(evaluation)
