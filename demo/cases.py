"""The demo's 差评处置: a case for every negative review of 2022, in every state a case can be in.

Most cases were handled in 2022 and closed (on time or late, with each outcome, a return visit
where the member agreed, the member's rating); some wait for the member's rating, some were
verified and never answered, some never verified, a few were reopened after 不满意 and sit
at the town, some were appealed (pending, upheld, refused). The cases of 真州中心小学工会 (the
demo's grassroots admin, zz_xiaoxue) go round every state, so that login shows them all. The
overdue check then runs as of today: what was left open in 2022 is overdue, escalated, and
noticed in the parents' consoles.

Rows are written in bulk (bulk_update, bulk_create): the services check and lock one case at
a time, right for an admin and too slow for a load of thousands.
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from cases.models import (
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
from cases.services import _notice_message, check_overdue_cases, deadlines
from cases.workdays import add_working_days
from evaluations.models import Evaluation
from orgs.models import Org

from .roster import DEMO_UNION

SHANGHAI = ZoneInfo("Asia/Shanghai")

# What became of the demo's cases, by weight.
FATES = {
    "closed": 70,
    "reopened_closed": 6,
    "replied": 7,
    "rectifying": 5,
    "verifying": 4,
    "reopened_open": 2,
    "appeal_pending": 2,
    "appeal_upheld": 2,
    "appeal_refused": 2,
}
OUTCOMES = ((Outcome.FIXED, 5), (Outcome.BY_DEADLINE, 2), (Outcome.EXPLAINED, 3))
FINDINGS = [
    "经核实，会员反映的情况基本属实，工会活动组织偏少。",
    "经与会员所在班组了解，反映问题属实，已列入整改。",
    "经核实，会员反映的主要是单位工资待遇问题，已转单位行政。",
    "与工会委员逐项核对，部分情况属实。",
]
MEASURES = {
    Outcome.FIXED: [
        "已召开工会委员会专题研究，本月起每月组织一次职工活动。",
        "已在职工之家增设意见箱，每周开箱。",
    ],
    Outcome.BY_DEADLINE: ["年底前完成职工书屋建设。", "下季度召开职工代表大会审议相关事项。"],
    Outcome.EXPLAINED: [""],
}
REPLIES = {
    Outcome.FIXED: "感谢您的意见！我们已立即整改：{measures}欢迎继续监督。",
    Outcome.BY_DEADLINE: "感谢您的意见！我们已制定整改计划：{measures}届时将向您反馈。",
    Outcome.EXPLAINED: (
        "感谢您的意见！经核实，您反映的情况属于单位行政管理事项，工会已向单位转达，并将持续跟进。"
    ),
}


def demo_cases_missing(campaign: Campaign) -> bool:
    return (
        not Case.objects.filter(campaign=campaign).exists()
        and campaign.evaluations.filter(is_negative=True).exists()
    )


@transaction.atomic
def add_demo_cases(*, campaign: Campaign, seed: int = 2022) -> int:
    """Open and walk the demo campaign's cases; the number of cases. Nothing when present.

    Each case is built in memory, opened as of its submission and walked to its fate, then
    written once: one INSERT per batch, no UPDATE.
    """
    if not demo_cases_missing(campaign):
        return 0
    rng = random.Random(f"cases:{seed}")
    negatives = list(
        Evaluation.objects.filter(campaign=campaign, is_negative=True)
        .order_by("pk")
        .values_list("pk", "org_id", "submitted_at", "return_visit")
    )
    orgs = {o.pk: o for o in Org.objects.filter(pk__in={row[1] for row in negatives})}
    parents = {
        o.path: o for o in Org.objects.filter(path__in={o.parent_path for o in orgs.values()})
    }
    users = {u.username: u for u in User.objects.filter(username__in=("zz_xiaoxue", "zhenzhou"))}
    walker = _Walker(rng, parents, users)
    fates = list(FATES)
    weights = list(FATES.values())
    showcase = 0
    due_cache = {}
    cases = []
    for evaluation_id, org_id, submitted_at, return_visit in negatives:
        day = timezone.localdate(submitted_at)
        if day not in due_cache:
            due_cache[day] = deadlines(campaign, day)
        verify_due, rectify_due = due_cache[day]
        case = Case(
            evaluation_id=evaluation_id,
            campaign=campaign,
            org=orgs[org_id],
            opened_at=submitted_at,
            verify_due=verify_due,
            rectify_due=rectify_due,
        )
        case.return_visit_agreed = return_visit
        walker.opened(case)
        if case.org.name == DEMO_UNION:  # every state for the demo's grassroots admin
            fate = fates[showcase % len(fates)]
            showcase += 1
        else:
            fate = rng.choices(fates, weights=weights)[0]
        walker.walk(case, fate)
        cases.append(case)

    Case.objects.bulk_create(cases, batch_size=1000)
    CaseEvent.objects.bulk_create(walker.events, batch_size=2000)
    Appeal.objects.bulk_create(walker.appeals, batch_size=500)
    Notification.objects.bulk_create(walker.notices(), batch_size=500, ignore_conflicts=True)
    # As of today: what 2022 left open is overdue, escalated and noticed upstairs.
    check_overdue_cases(now=timezone.now())
    return len(cases)


class _Walker:
    """Sets a case's fields and collects its events, appeal and notices for one bulk write."""

    def __init__(self, rng: random.Random, parents: dict, users: dict):
        self.rng = rng
        self.parents = parents
        self.users = users
        self.events: list[CaseEvent] = []
        self.appeals: list[Appeal] = []
        # (case, org, kind, round, due, created_at, read): messages need the stored case's number.
        self.pending_notices: list[tuple] = []

    def opened(self, case: Case) -> None:
        self._event(case, EventKind.OPENED, case.opened_at, text="收到差评，受理并转被评工会核实")

    def notices(self) -> list[Notification]:
        return [
            Notification(
                org=org,
                case=case,
                kind=kind,
                round=round_,
                message=_notice_message(kind, union=case.org.name, number=case.number, due=due),
                created_at=at,
                read_at=at + timedelta(days=1) if read else None,
            )
            for case, org, kind, round_, due, at, read in self.pending_notices
        ]

    def _actor(self, org: Org):
        if org.name == DEMO_UNION:
            return self.users.get("zz_xiaoxue")
        if org.name == "真州镇":
            return self.users.get("zhenzhou")
        return None

    def _event(self, case, kind, at, *, org=None, by_member=False, text="", **data):
        self.events.append(
            CaseEvent(
                case=case,
                kind=kind,
                at=at,
                actor=self._actor(org) if org is not None else None,
                actor_org=org,
                by_member=by_member,
                text=text,
                data=data,
            )
        )

    def _later(self, moment: datetime, low_hours: float, high_hours: float) -> datetime:
        later = moment + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        # Admins work in office hours: pushed into 9–17 o'clock of that day or the next.
        local = later.astimezone(SHANGHAI)
        if local.hour < 9:
            local = local.replace(hour=9 + self.rng.randrange(3))
        elif local.hour >= 17:
            local = (local + timedelta(days=1)).replace(hour=9 + self.rng.randrange(6))
        return local

    def walk(self, case: Case, fate: str) -> None:
        parent = self.parents.get(case.org.parent_path)
        if fate == "verifying":
            return
        self._verify(case)
        if fate in ("appeal_pending", "appeal_upheld", "appeal_refused"):
            self._appeal(case, parent, fate)
            if fate != "appeal_refused":
                return
        if fate == "rectifying":
            return
        late = self.rng.random() < 0.12
        self._reply(case, case.org, late=late)
        if fate == "replied":
            return
        self._visit(case)
        if fate in ("reopened_closed", "reopened_open") and parent is not None:
            self._rate(case, HandlingRating.DISSATISFIED)
            self._reopen(case, parent)
            if fate == "reopened_open":
                return
            self._reply(case, parent, late=False)
            self._rate(
                case,
                self.rng.choice(
                    [HandlingRating.BASICALLY_SATISFIED] * 3 + [HandlingRating.DISSATISFIED]
                ),
            )
            self._close(case, case.rated_at)
            return
        rating = self.rng.choices(
            [HandlingRating.SATISFIED, HandlingRating.BASICALLY_SATISFIED],
            weights=(6, 4),
        )[0]
        self._rate(case, rating)
        self._close(case, case.rated_at)

    def _verify(self, case: Case) -> None:
        case.verified_at = self._later(case.opened_at, 1, 30)
        case.verified_by = self._actor(case.org)
        case.finding = self.rng.choice(FINDINGS)
        case.state = CaseState.RECTIFYING
        self._event(case, EventKind.VERIFIED, case.verified_at, org=case.org, text=case.finding)

    def _reply(self, case: Case, org: Org, *, late: bool) -> None:
        start = case.reopened_at or getattr(case, "resumed_at", None) or case.verified_at
        due = datetime.combine(case.rectify_due, datetime.min.time(), tzinfo=SHANGHAI)
        span = max(24.0, (due - start).total_seconds() / 3600)
        hours = (
            self.rng.uniform(span * 1.05, span * 1.6) if late else self.rng.uniform(8, span * 0.9)
        )
        at = self._later(start, hours, hours + 2)
        outcome = self.rng.choices([o for o, _w in OUTCOMES], weights=[w for _o, w in OUTCOMES])[0]
        measures = self.rng.choice(MEASURES[outcome])
        case.outcome, case.measures = outcome, measures
        case.reply = REPLIES[outcome].format(measures=measures)
        case.rectify_by = (
            add_working_days(timezone.localdate(at), 40) if outcome == Outcome.BY_DEADLINE else None
        )
        if outcome == Outcome.BY_DEADLINE and self.rng.random() < 0.7:
            case.rectified_at = self._later(at, 24 * 20, 24 * 50)
            case.rectified_note = "已按计划完成整改。"
        case.replied_at, case.replied_by = at, self._actor(org)
        if case.replied_on_time is None:
            case.replied_on_time = timezone.localdate(at) <= case.rectify_due
        case.state = CaseState.REPLIED
        self._event(
            case,
            EventKind.REPLIED,
            at,
            org=org,
            text=case.reply,
            outcome=outcome,
            measures=measures,
            rectify_by=case.rectify_by.isoformat() if case.rectify_by else None,
            round=case.reopen_count,
        )
        if case.rectified_at:
            self._event(
                case, EventKind.RECTIFIED, case.rectified_at, org=org, text=case.rectified_note
            )

    def _visit(self, case: Case) -> None:
        if not case.return_visit_agreed or self.rng.random() < 0.2:
            return
        case.visited_at = self._later(case.replied_at, 2, 30)
        case.visited_by = self._actor(case.org)
        case.visit_note = self.rng.choice(
            [
                "电话回访，会员表示理解。",
                "上门回访，会员对整改措施表示认可。",
                "电话回访，会员希望继续跟进。",
            ]
        )
        self._event(case, EventKind.VISITED, case.visited_at, org=case.org, text=case.visit_note)

    def _rate(self, case: Case, rating: str) -> None:
        at = self._later(max(case.replied_at, case.visited_at or case.replied_at), 4, 72)
        case.handling_rating, case.rated_at = rating, at
        self._event(
            case,
            EventKind.RATED,
            at,
            by_member=True,
            text=str(HandlingRating(rating).label),
            rating=rating,
        )

    def _reopen(self, case: Case, parent: Org) -> None:
        at = case.rated_at
        case.state = CaseState.RECTIFYING
        case.reopen_count, case.reopened_at = 1, at
        case.escalated_to, case.escalated_at = parent, at
        case.rectify_due = add_working_days(timezone.localdate(at), case.campaign.rectify_days)
        self._event(
            case,
            EventKind.REOPENED,
            at,
            org=None,
            text=f"会员对处理不满意，转{parent.name}重办",
            rectify_due=case.rectify_due.isoformat(),
        )
        self.events[-1].actor_org = parent
        self.pending_notices.append(
            (case, parent, NotificationKind.REOPENED, 1, case.rectify_due, at, True)
        )

    def _appeal(self, case: Case, parent: Org | None, fate: str) -> None:
        if parent is None:
            return
        filed_at = self._later(case.verified_at, 2, 20)
        claim = self.rng.choice(AppealClaim.values)
        reasons = (
            "该会员在一天内多次以相同内容提交差评，且拒绝沟通。"
            if claim == AppealClaim.MALICIOUS
            else "会员反映的是企业工资待遇问题，不属于工会工作范围。"
        )
        appeal = Appeal(
            case=case,
            claim=claim,
            reasons=reasons,
            filed_at=filed_at,
            filed_by=self._actor(case.org) or self.users.get("zz_xiaoxue"),
            from_state=CaseState.RECTIFYING,
        )
        self._event(case, EventKind.APPEALED, filed_at, org=case.org, text=reasons, claim=claim)
        self.appeals.append(appeal)
        if appeal.filed_by is None:  # the demo's admins were not created (a trimmed load)
            self.appeals.pop()
            self.events.pop()
            return
        if fate == "appeal_pending":
            case.state = CaseState.APPEALING
            self.pending_notices.append(
                (case, parent, NotificationKind.APPEAL, 0, None, filed_at, False)
            )
            return
        decided_at = self._later(filed_at, 20, 60)
        upheld = fate == "appeal_upheld"
        appeal.decision = AppealDecision.UPHELD if upheld else AppealDecision.REFUSED
        appeal.decision_reasons = (
            "经核实，申诉理由成立，该评议不计入满意度。"
            if upheld
            else "评价反映的问题有事实依据，申诉不予支持，请继续整改。"
        )
        appeal.decided_at, appeal.decided_org = decided_at, parent
        appeal.decided_by = self._actor(parent) or self.users.get("zhenzhou") or appeal.filed_by
        self._event(
            case,
            EventKind.APPEAL_UPHELD if upheld else EventKind.APPEAL_REFUSED,
            decided_at,
            org=parent,
            text=appeal.decision_reasons,
        )
        if upheld:
            case.excluded = True
            self._close(case, decided_at, text="申诉成立，该评议不计入满意度")
        else:
            case.resumed_at = decided_at  # the reply comes after the decision

    def _close(self, case: Case, at: datetime, text: str = "会员评价后办结") -> None:
        case.state, case.closed_at = CaseState.CLOSED, at
        self._event(case, EventKind.CLOSED, at, text=text)
