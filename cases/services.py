"""差评处置 steps: open, verify, reply, ledger, return visit, the member's rating, appeal, overdue.

Each step checks where the case stands and who is acting, changes the case under a row lock,
and appends its event to the timeline in the same transaction; a wrong step raises CaseError
with a message for the person who tried it. Views, the API, commands and the Celery task call
these functions and nothing else.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from evaluations.models import Evaluation
from orgs.models import Org
from pingyi.formatting import cn_date

from . import permissions
from .models import (
    Appeal,
    AppealClaim,
    AppealDecision,
    Case,
    CaseEvent,
    CaseState,
    EventKind,
    HandlingRating,
    Notification,
    NotificationKind,
    Outcome,
)
from .workdays import add_working_days

logger = logging.getLogger(__name__)

TEXT_MAX = 2000


class CaseError(Exception):
    """A step refused; str() is the Chinese message for the admin or member."""

    status = 409
    code = "case_refused"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class CaseNotAllowed(CaseError):
    status = 403
    code = "forbidden"


class CaseInvalid(CaseError):
    """What was filled in is refused (a field missing, too long, a value not offered)."""

    status = 422
    code = "invalid"


# ---------------------------------------------------------------- opening


def deadlines(campaign: Campaign, opened_on: date) -> tuple[date, date]:
    """(verify_due, rectify_due): the campaign's working days counted from the day after."""
    verify_due = add_working_days(opened_on, campaign.verify_days)
    rectify_due = add_working_days(opened_on, max(campaign.rectify_days, campaign.verify_days))
    return verify_due, rectify_due


def open_case(*, evaluation: Evaluation, now: datetime | None = None) -> Case:
    """Open the case of a negative review; called inside the submission's transaction."""
    opened_at = now or evaluation.submitted_at
    verify_due, rectify_due = deadlines(evaluation.campaign, timezone.localdate(opened_at))
    case = Case.objects.create(
        evaluation=evaluation,
        campaign_id=evaluation.campaign_id,
        org_id=evaluation.org_id,
        opened_at=opened_at,
        verify_due=verify_due,
        rectify_due=rectify_due,
    )
    CaseEvent.objects.create(
        case=case, kind=EventKind.OPENED, at=opened_at, text=_("收到差评，受理并转被评工会核实")
    )
    return case


def open_missing_cases(*, campaign: Campaign | None = None, batch: int = 2000) -> int:
    """Open the cases of negative evaluations that have none (stored before cases existed, or
    loaded in bulk); the number opened. Opened as of the submission time."""
    evaluations = Evaluation.objects.filter(is_negative=True, case__isnull=True)
    if campaign is not None:
        evaluations = evaluations.filter(campaign=campaign)
    campaigns: dict[int, Campaign] = {}
    due_cache: dict[tuple[int, date], tuple[date, date]] = {}
    opened = 0
    rows = evaluations.order_by("pk").values_list("pk", "campaign_id", "org_id", "submitted_at")
    pending = list(rows[:batch])
    while pending:
        cases = []
        for pk, campaign_id, org_id, submitted_at in pending:
            if campaign_id not in campaigns:
                campaigns[campaign_id] = Campaign.objects.get(pk=campaign_id)
            day = timezone.localdate(submitted_at)
            key = (campaign_id, day)
            if key not in due_cache:
                due_cache[key] = deadlines(campaigns[campaign_id], day)
            verify_due, rectify_due = due_cache[key]
            cases.append(
                Case(
                    evaluation_id=pk,
                    campaign_id=campaign_id,
                    org_id=org_id,
                    opened_at=submitted_at,
                    verify_due=verify_due,
                    rectify_due=rectify_due,
                )
            )
        with transaction.atomic():
            Case.objects.bulk_create(cases)
            ids = Case.objects.filter(evaluation_id__in=[c.evaluation_id for c in cases])
            CaseEvent.objects.bulk_create(
                CaseEvent(
                    case_id=case_id,
                    kind=EventKind.OPENED,
                    at=at,
                    text=_("收到差评，受理并转被评工会核实"),
                )
                for case_id, at in ids.values_list("pk", "opened_at")
            )
        opened += len(cases)
        pending = list(rows.filter(pk__gt=pending[-1][0])[:batch])
    return opened


# ---------------------------------------------------------------- steps


def _locked(case: Case) -> Case:
    """The case read afresh under a row lock, so two admins' steps never interleave."""
    fresh = (
        Case.objects.select_for_update(of=("self",))
        .select_related("org", "escalated_to", "campaign", "evaluation")
        .get(pk=case.pk)
    )
    return fresh


def _refuse_closed(case: Case) -> None:
    if case.state == CaseState.CLOSED:
        raise CaseError(_("该差评处置已办结，不能再办理。"))


def _text(value: str | None, *, field: str, label: str, required: bool = True) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if required and not text:
        raise CaseInvalid(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > TEXT_MAX:
        raise CaseInvalid(
            _("%(label)s最多 %(max)s 字，您写了 %(count)s 字。")
            % {"label": label, "max": TEXT_MAX, "count": len(text)},
            field=field,
        )
    return text


def _event(
    case: Case,
    kind: str,
    *,
    at: datetime,
    actor=None,
    actor_org=None,
    by_member: bool = False,
    text: str = "",
    **data,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        at=at,
        actor=actor,
        actor_org=actor_org,
        by_member=by_member,
        text=text,
        data=data,
    )


def _check_handler(case: Case, by) -> None:
    if not permissions.can_handle(by, case):
        if case.reopen_count:
            raise CaseNotAllowed(
                _("该差评已因会员不满意转%(org)s重办，由其管理员办理。")
                % {"org": permissions.handler_org(case).name}
            )
        raise CaseNotAllowed(_("您没有办理该差评处置的权限。"))


def verify_case(*, case: Case, by, finding: str, now: datetime | None = None) -> Case:
    """核实: the union admin records what the rating and suggestion turned out to be about."""
    now = now or timezone.now()
    finding = _text(finding, field="finding", label=_("核实情况"))
    with transaction.atomic():
        case = _locked(case)
        _check_handler(case, by)
        _refuse_closed(case)
        if case.state == CaseState.APPEALING:
            raise CaseError(_("申诉正在等待上级裁定，裁定前不能办理。"))
        if case.state != CaseState.VERIFYING:
            raise CaseError(_("该差评已核实，请进行整改答复。"))
        case.state = CaseState.RECTIFYING
        case.verified_at, case.verified_by, case.finding = now, by, finding
        case.save()
        _event(
            case,
            EventKind.VERIFIED,
            at=now,
            actor=by,
            actor_org=permissions.handler_org(case),
            text=finding,
            on_time=timezone.localdate(now) <= case.verify_due,
        )
    return case


def reply_case(
    *,
    case: Case,
    by,
    outcome: str,
    measures: str,
    reply: str,
    rectify_by: date | None = None,
    now: datetime | None = None,
) -> Case:
    """整改答复: the outcome, the measures and the reply the member reads."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if outcome not in Outcome.values:
        raise CaseInvalid(_("请选择处理结果：立行立改、限期整改或解释说明。"), field="outcome")
    measures = _text(
        measures, field="measures", label=_("整改措施"), required=outcome != Outcome.EXPLAINED
    )
    reply = _text(reply, field="reply", label=_("给会员的答复"))
    if outcome == Outcome.BY_DEADLINE:
        if rectify_by is None:
            raise CaseInvalid(_("限期整改请填写承诺整改完成日期。"), field="rectify_by")
        if rectify_by < today:
            raise CaseInvalid(
                _("承诺整改完成日期（%(day)s）不能早于今天。") % {"day": _cn(rectify_by)},
                field="rectify_by",
            )
    else:
        rectify_by = None
    with transaction.atomic():
        case = _locked(case)
        _check_handler(case, by)
        _refuse_closed(case)
        if case.state == CaseState.VERIFYING:
            raise CaseError(_("请先核实，再整改答复。"))
        if case.state == CaseState.APPEALING:
            raise CaseError(_("申诉正在等待上级裁定，裁定前不能办理。"))
        if case.state == CaseState.REPLIED:
            raise CaseError(_("已答复会员，正在等待会员评价。"))
        case.state = CaseState.REPLIED
        case.outcome, case.measures, case.reply, case.rectify_by = (
            outcome,
            measures,
            reply,
            rectify_by,
        )
        case.replied_at, case.replied_by = now, by
        if case.replied_on_time is None:
            case.replied_on_time = today <= case.rectify_due
        case.save()
        _event(
            case,
            EventKind.REPLIED,
            at=now,
            actor=by,
            actor_org=permissions.handler_org(case),
            text=reply,
            outcome=outcome,
            measures=measures,
            rectify_by=rectify_by.isoformat() if rectify_by else None,
            round=case.reopen_count,
        )
    return case


def complete_rectification(*, case: Case, by, note: str, now: datetime | None = None) -> Case:
    """整改台账: a 限期整改 is recorded done (also after the member has rated the handling:
    the promise is kept or broken whatever the rating)."""
    now = now or timezone.now()
    note = _text(note, field="note", label=_("整改完成情况"))
    with transaction.atomic():
        case = _locked(case)
        _check_handler(case, by)
        if case.outcome != Outcome.BY_DEADLINE or case.replied_at is None:
            raise CaseError(_("只有限期整改的差评需要登记整改完成。"))
        if case.rectified_at is not None:
            raise CaseError(_("该限期整改已登记完成。"))
        case.rectified_at, case.rectified_note = now, note
        case.save()
        _event(
            case,
            EventKind.RECTIFIED,
            at=now,
            actor=by,
            actor_org=permissions.handler_org(case),
            text=note,
            on_time=timezone.localdate(now) <= case.rectify_by,
        )
    return case


def record_return_visit(*, case: Case, by, note: str, now: datetime | None = None) -> Case:
    """回访: only for a member who agreed to it, once per round of handling."""
    now = now or timezone.now()
    note = _text(note, field="visit_note", label=_("回访情况"))
    with transaction.atomic():
        case = _locked(case)
        _check_handler(case, by)
        _refuse_closed(case)
        if not case.evaluation.return_visit:
            raise CaseError(_("该会员未同意接受回访，不能登记回访。"))
        if case.state not in (CaseState.RECTIFYING, CaseState.REPLIED):
            raise CaseError(_("请先核实，再登记回访。"))
        if case.visited_at is not None and (
            case.reopened_at is None or case.visited_at >= case.reopened_at
        ):
            raise CaseError(_("本轮办理已登记过回访。"))
        case.visited_at, case.visited_by, case.visit_note = now, by, note
        case.save()
        _event(
            case,
            EventKind.VISITED,
            at=now,
            actor=by,
            actor_org=permissions.handler_org(case),
            text=note,
        )
    return case


def rate_handling(*, case: Case, member, rating: str, now: datetime | None = None) -> Case:
    """The member rates the handling. 不满意 reopens the case once, at the parent org."""
    now = now or timezone.now()
    if rating not in HandlingRating.values:
        raise CaseInvalid(_("请选择满意、基本满意或不满意。"), field="rating")
    with transaction.atomic():
        case = _locked(case)
        if case.evaluation.member_id != member.pk:
            raise CaseNotAllowed(_("只能评价自己的评议的处理情况。"))
        _refuse_closed(case)
        if case.state != CaseState.REPLIED:
            raise CaseError(_("工会还未答复，答复后才能评价处理情况。"))
        case.handling_rating, case.rated_at = rating, now
        label = HandlingRating(rating).label
        _event(case, EventKind.RATED, at=now, by_member=True, text=str(label), rating=rating)
        parent = permissions.parent_org(case)
        if rating == HandlingRating.DISSATISFIED and case.reopen_count == 0 and parent:
            case.state = CaseState.RECTIFYING
            case.reopen_count, case.reopened_at = 1, now
            if case.escalated_to_id is None:
                case.escalated_to, case.escalated_at = parent, now
            case.rectify_due = add_working_days(
                timezone.localdate(now), max(case.campaign.rectify_days, 1)
            )
            case.rectify_overdue_at = None  # the new round has its own deadline
            case.save()
            _event(
                case,
                EventKind.REOPENED,
                at=now,
                actor_org=parent,
                text=_("会员对处理不满意，转%(org)s重办，答复时限%(day)s")
                % {"org": parent.name, "day": _cn(case.rectify_due)},
                rectify_due=case.rectify_due.isoformat(),
            )
            _notify(case, parent, NotificationKind.REOPENED, now)
        else:
            case.state, case.closed_at = CaseState.CLOSED, now
            case.save()
            _event(case, EventKind.CLOSED, at=now, text=_("会员评价后办结"))
    return case


def file_appeal(*, case: Case, by, claim: str, reasons: str, now: datetime | None = None) -> Appeal:
    """申诉: the union claims the review is malicious or not about its work."""
    now = now or timezone.now()
    if claim not in AppealClaim.values:
        raise CaseInvalid(_("请选择申诉理由：恶意评价或非本单位工作。"), field="claim")
    reasons = _text(reasons, field="reasons", label=_("申诉理由"))
    with transaction.atomic():
        case = _locked(case)
        if not permissions.can_appeal(by, case):
            raise CaseNotAllowed(_("申诉由被评工会提出，上级工会负责裁定。"))
        _refuse_closed(case)
        if Appeal.objects.filter(case=case).exists():
            raise CaseError(_("该差评已申诉过，每条差评只能申诉一次。"))
        if case.reopen_count:
            raise CaseError(_("会员不满意转上级重办的差评不能再申诉。"))
        if case.state not in (CaseState.VERIFYING, CaseState.RECTIFYING):
            raise CaseError(_("已答复会员的差评不能再申诉。"))
        parent = permissions.parent_org(case)
        if parent is None:
            raise CaseError(_("该工会没有上级工会，无法申诉。"))
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    case=case,
                    claim=claim,
                    reasons=reasons,
                    filed_at=now,
                    filed_by=by,
                    from_state=case.state,
                )
        except IntegrityError as exc:
            raise CaseError(_("该差评已申诉过，每条差评只能申诉一次。")) from exc
        case.state = CaseState.APPEALING
        case.save()
        _event(
            case,
            EventKind.APPEALED,
            at=now,
            actor=by,
            actor_org=case.org,
            text=reasons,
            claim=claim,
        )
        _notify(case, parent, NotificationKind.APPEAL, now)
    return appeal


def decide_appeal(
    *, case: Case, by, upheld: bool, reasons: str, now: datetime | None = None
) -> Appeal:
    """The parent org decides. Upheld: the case closes, the evaluation is kept (and counted for
    participation) but left out of satisfaction figures. Refused: the case goes on where it
    was, its deadlines unchanged."""
    now = now or timezone.now()
    reasons = _text(reasons, field="decision_reasons", label=_("裁定理由"))
    with transaction.atomic():
        case = _locked(case)
        if not permissions.can_decide_appeal(by, case):
            raise CaseNotAllowed(_("申诉由被评工会的上级工会裁定。"))
        appeal = Appeal.objects.select_for_update().filter(case=case).first()
        if appeal is None or case.state != CaseState.APPEALING:
            raise CaseError(_("该差评没有待裁定的申诉。"))
        if appeal.decision != AppealDecision.PENDING:
            raise CaseError(_("该申诉已裁定。"))
        parent = permissions.parent_org(case)
        appeal.decision = AppealDecision.UPHELD if upheld else AppealDecision.REFUSED
        appeal.decision_reasons, appeal.decided_at, appeal.decided_by = reasons, now, by
        appeal.decided_org = parent
        appeal.save()
        if upheld:
            case.state, case.closed_at, case.excluded = CaseState.CLOSED, now, True
        else:
            case.state = appeal.from_state
        case.save()
        _event(
            case,
            EventKind.APPEAL_UPHELD if upheld else EventKind.APPEAL_REFUSED,
            at=now,
            actor=by,
            actor_org=parent,
            text=reasons,
        )
        if upheld:
            _event(case, EventKind.CLOSED, at=now, text=_("申诉成立，该评议不计入满意度"))
        Notification.objects.filter(
            case=case, kind=NotificationKind.APPEAL, read_at__isnull=True
        ).update(read_at=now, read_by=by)
    return appeal


# ---------------------------------------------------------------- notices


def _cn(day: date) -> str:
    return cn_date(day)


def _notice_message(kind: str, *, union: str, number: str, due: date | None) -> str:
    # Built lazily per call so the active language applies; never names the member.
    template = {
        NotificationKind.VERIFY_OVERDUE: _(
            "%(union)s的差评处置 %(number)s 核实逾期（时限%(due)s），已升级至本单位督办"
        ),
        NotificationKind.RECTIFY_OVERDUE: _(
            "%(union)s的差评处置 %(number)s 整改答复逾期（时限%(due)s），已升级至本单位督办"
        ),
        NotificationKind.REOPENED: _(
            "%(union)s的差评处置 %(number)s 会员对处理不满意，转本单位重办（时限%(due)s）"
        ),
        NotificationKind.APPEAL: _("%(union)s对差评处置 %(number)s 提出申诉，请裁定"),
    }[kind]
    return (template % {"union": union, "number": number, "due": _cn(due) if due else ""})[:300]


def _notify(case: Case, org: Org, kind: str, now: datetime) -> None:
    due = case.rectify_due if kind != NotificationKind.VERIFY_OVERDUE else case.verify_due
    Notification.objects.bulk_create(
        [
            Notification(
                org=org,
                case=case,
                kind=kind,
                round=case.reopen_count,
                message=_notice_message(kind, union=case.org.name, number=case.number, due=due),
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- overdue


@dataclass
class OverdueReport:
    verify: int = 0
    rectify: int = 0
    escalated: int = 0


def check_overdue_cases(*, now: datetime | None = None, batch: int = 500) -> OverdueReport:
    """Mark cases whose verify or reply deadline has passed, escalate them to the union's parent
    and notify its admins. Idempotent: a case is marked once per round, so a second run (or two
    concurrent runs) changes nothing. Cases under appeal wait for the decision."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = OverdueReport()
    verify_late = Case.objects.filter(
        state=CaseState.VERIFYING, verify_overdue_at__isnull=True, verify_due__lt=today
    )
    rectify_late = Case.objects.filter(
        state__in=(CaseState.VERIFYING, CaseState.RECTIFYING),
        rectify_overdue_at__isnull=True,
        rectify_due__lt=today,
    )
    for queryset, stage in ((verify_late, "verify"), (rectify_late, "rectify")):
        while True:
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            marked, escalated = _mark_overdue(ids, stage=stage, now=now)
            setattr(report, stage, getattr(report, stage) + marked)
            report.escalated += escalated
            if marked == 0:  # another run took them all meanwhile
                break
    if report.verify or report.rectify:
        logger.info(
            "差评处置逾期检查：核实逾期 %s 件，整改答复逾期 %s 件，新升级 %s 件",
            report.verify,
            report.rectify,
            report.escalated,
        )
    return report


def _mark_overdue(ids: list[int], *, stage: str, now: datetime) -> tuple[int, int]:
    field = f"{stage}_overdue_at"
    kind = (
        NotificationKind.VERIFY_OVERDUE if stage == "verify" else NotificationKind.RECTIFY_OVERDUE
    )
    with transaction.atomic():
        # Locked and filtered again: a concurrent run, or a step taken meanwhile, wins.
        cases = list(
            Case.objects.select_for_update(of=("self",))
            .select_related("org", "escalated_to")
            .filter(pk__in=ids, **{f"{field}__isnull": True})
        )
        if stage == "verify":
            cases = [c for c in cases if c.state == CaseState.VERIFYING]
        else:
            cases = [c for c in cases if c.state in (CaseState.VERIFYING, CaseState.RECTIFYING)]
        if not cases:
            return 0, 0
        parents = {
            o.path: o for o in Org.objects.filter(path__in={c.org.parent_path for c in cases})
        }
        by_parent: dict[int, list[int]] = defaultdict(list)
        events, notices = [], []
        escalated = 0
        for case in cases:
            parent = parents.get(case.org.parent_path)
            due = case.verify_due if stage == "verify" else case.rectify_due
            label = _("核实") if stage == "verify" else _("整改答复")
            events.append(
                CaseEvent(
                    case=case,
                    kind=EventKind.OVERDUE,
                    at=now,
                    text=_("%(stage)s逾期（时限%(due)s）") % {"stage": label, "due": _cn(due)},
                    data={"stage": stage, "due": due.isoformat()},
                )
            )
            if parent is None:
                continue
            if case.escalated_to_id is None:
                by_parent[parent.pk].append(case.pk)
                escalated += 1
                events.append(
                    CaseEvent(
                        case=case,
                        kind=EventKind.ESCALATED,
                        at=now,
                        actor_org=parent,
                        text=_("逾期升级至%(org)s督办") % {"org": parent.name},
                    )
                )
            notices.append(
                Notification(
                    org=parent,
                    case=case,
                    kind=kind,
                    round=case.reopen_count,
                    message=_notice_message(kind, union=case.org.name, number=case.number, due=due),
                    created_at=now,
                )
            )
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(**{field: now})
        for parent_id, case_ids in by_parent.items():
            Case.objects.filter(pk__in=case_ids, escalated_to__isnull=True).update(
                escalated_to_id=parent_id, escalated_at=now
            )
        CaseEvent.objects.bulk_create(events)
        Notification.objects.bulk_create(notices, ignore_conflicts=True)
    return len(cases), escalated


def mark_notices_read(*, notices, by, now: datetime | None = None) -> int:
    return notices.filter(read_at__isnull=True).update(read_at=now or timezone.now(), read_by=by)


@dataclass
class Contact:
    name: str
    phone_masked: str


def return_visit_contact(*, case: Case, by, address: str = "") -> Contact | None:
    """The member's name and masked phone for the return visit they agreed to, or None.

    Only a member who ticked 愿意接受回访 is named, only to those who handle the case, and each
    look is written to the identity audit log (members.audit) with who and when.
    """
    from members.audit import record_audit
    from members.models import AuditAction

    if not permissions.can_see_contact(by, case):
        return None
    member = case.evaluation.member
    record_audit(
        action=AuditAction.REVEALED,
        actor=by,
        member=member,
        org=case.org,
        note=_("差评处置 %(number)s：查看回访对象") % {"number": case.number},
        address=address,
    )
    return Contact(name=member.name, phone_masked=member.phone_masked)
