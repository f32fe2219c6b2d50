"""差评处置: the case a negative review opens, its timeline, its appeal and the console's notices.

A case belongs to the union the member evaluated (the evaluation's org at submission). The
`Case` row holds where the case stands now; `CaseEvent` is the timeline, append-only: every
step (who, when, what) is a new row and nothing is ever changed or deleted, so a reply that a
reopened case replaces is still there to read. The evaluation itself is never touched: an
upheld appeal flags the case (`excluded`), and the satisfaction figures leave out the
evaluations `selectors.excluded_from_satisfaction` names.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluations.models import AppendOnly, AppendOnlyQuerySet


class CaseState(models.TextChoices):
    VERIFYING = "verifying", _("待核实")
    RECTIFYING = "rectifying", _("整改答复中")
    APPEALING = "appealing", _("申诉中")
    REPLIED = "replied", _("待会员评价")
    CLOSED = "closed", _("已办结")


OPEN_STATES = (CaseState.VERIFYING, CaseState.RECTIFYING, CaseState.APPEALING, CaseState.REPLIED)


class Outcome(models.TextChoices):
    FIXED = "fixed", _("立行立改")
    BY_DEADLINE = "by_deadline", _("限期整改")
    EXPLAINED = "explained", _("解释说明")


class HandlingRating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class Case(models.Model):
    evaluation = models.OneToOneField(
        "evaluations.Evaluation", on_delete=models.PROTECT, related_name="case"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="cases"
    )
    # The evaluated union (the evaluation's org): its admins act on the case. Indexed by the
    # (org, id) index below.
    org = models.ForeignKey(
        "orgs.Org",
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
        verbose_name=_("被评工会"),
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=CaseState.choices, default=CaseState.VERIFYING
    )
    opened_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    # Last working day (Asia/Shanghai) of each step: overdue once that day has passed.
    verify_due = models.DateField(_("核实时限"))
    rectify_due = models.DateField(_("整改答复时限"))

    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    finding = models.TextField(_("核实情况"), blank=True)

    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices, blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    rectify_by = models.DateField(_("承诺整改完成日期"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Whether the first reply came by rectify_due: 按期整改率 is about the first round.
    replied_on_time = models.BooleanField(null=True, blank=True)
    # 整改台账: a 限期整改 case is done when the admin records the rectification complete.
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    rectified_note = models.TextField(_("整改完成情况"), blank=True)

    visited_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visit_note = models.TextField(_("回访情况"), blank=True)

    handling_rating = models.CharField(
        _("处置评价"), max_length=12, choices=HandlingRating.choices, blank=True
    )
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    reopened_at = models.DateTimeField(_("重办时间"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        "orgs.Org",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_cases",
        verbose_name=_("升级至"),
    )
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    # Set once by the overdue check: running it again finds nothing new to mark.
    verify_overdue_at = models.DateTimeField(_("核实逾期"), null=True, blank=True)
    rectify_overdue_at = models.DateTimeField(_("整改答复逾期"), null=True, blank=True)

    # An upheld appeal: the evaluation is kept and counted for participation, never for
    # satisfaction.
    excluded = models.BooleanField(_("不计入满意度"), default=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("差评处置")
        verbose_name_plural = _("差评处置")
        ordering = ["-opened_at", "-pk"]
        indexes = [
            # The queue's keyset pages of a subtree: ids by union.
            models.Index(fields=["org", "id"], name="case_org_id"),
            models.Index(fields=["campaign", "org"], name="case_campaign_org"),
            # The overdue check reads open cases by deadline.
            models.Index(
                fields=["state", "verify_due"],
                condition=Q(verify_overdue_at__isnull=True),
                name="case_verify_due_open",
            ),
            models.Index(
                fields=["state", "rectify_due"],
                condition=Q(rectify_overdue_at__isnull=True),
                name="case_rectify_due_open",
            ),
            models.Index(
                fields=["campaign"], condition=Q(excluded=True), name="case_excluded_campaign"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="case_state_known"
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(outcome__in=Outcome.values), name="case_outcome_known"
            ),
            models.CheckConstraint(
                condition=Q(handling_rating="") | Q(handling_rating__in=HandlingRating.values),
                name="case_handling_rating_known",
            ),
            models.CheckConstraint(
                condition=Q(verify_due__lte=F("rectify_due")), name="case_deadlines_ordered"
            ),
            # 不满意 reopens a case once; a second 不满意 closes it.
            models.CheckConstraint(condition=Q(reopen_count__lte=1), name="case_reopened_once"),
            models.CheckConstraint(
                condition=Q(reopen_count=0) | Q(reopened_at__isnull=False),
                name="case_reopen_has_time",
            ),
            # 限期整改 carries its own deadline; the other outcomes none.
            models.CheckConstraint(
                condition=(Q(outcome=Outcome.BY_DEADLINE) & Q(rectify_by__isnull=False))
                | (~Q(outcome=Outcome.BY_DEADLINE) & Q(rectify_by__isnull=True)),
                name="case_rectify_by_with_deadline_outcome",
            ),
            models.CheckConstraint(
                condition=Q(replied_at__isnull=True) | (~Q(outcome="") & ~Q(reply="")),
                name="case_reply_has_outcome_and_text",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.VERIFYING) | Q(verified_at__isnull=True),
                name="case_verifying_not_verified",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.REPLIED) | Q(replied_at__isnull=False),
                name="case_replied_has_reply",
            ),
            models.CheckConstraint(
                condition=Q(handling_rating="") | Q(rated_at__isnull=False),
                name="case_rating_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state=CaseState.CLOSED) | Q(closed_at__isnull=True),
                name="case_closed_time_only_when_closed",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.CLOSED) | Q(closed_at__isnull=False),
                name="case_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(excluded=False) | Q(state=CaseState.CLOSED),
                name="case_excluded_is_closed",
            ),
            models.CheckConstraint(
                condition=Q(escalated_to__isnull=True) | ~Q(escalated_to=F("org")),
                name="case_escalates_elsewhere",
            ),
            models.CheckConstraint(
                condition=Q(escalated_to__isnull=True) | Q(escalated_at__isnull=False),
                name="case_escalation_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"差评处置 {self.pk}"

    @property
    def number(self) -> str:
        """The case number an admin quotes: the year and the id (CP2022-000123)."""
        year = timezone.localtime(self.opened_at).year
        return f"CP{year}-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.state != CaseState.CLOSED


class EventKind(models.TextChoices):
    OPENED = "opened", _("受理")
    VERIFIED = "verified", _("核实")
    REPLIED = "replied", _("整改答复")
    RECTIFIED = "rectified", _("整改完成")
    VISITED = "visited", _("回访")
    RATED = "rated", _("会员评价")
    REOPENED = "reopened", _("重办")
    OVERDUE = "overdue", _("逾期")
    ESCALATED = "escalated", _("升级")
    APPEALED = "appealed", _("申诉")
    APPEAL_UPHELD = "appeal_upheld", _("申诉成立")
    APPEAL_REFUSED = "appeal_refused", _("申诉驳回")
    CLOSED = "closed", _("办结")


class CaseEvent(AppendOnly):
    """One step of a case's timeline: who (a user, or the system when null), when, what."""

    refused_change = _("处置记录不可修改")
    refused_delete = _("处置记录不可删除")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("环节"), max_length=16, choices=EventKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    # The org the actor acted for (the union, the parent it was escalated to); null: system.
    actor_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A member acting on their own case (the handling rating): never shown to the union.
    by_member = models.BooleanField(default=False)
    text = models.TextField(_("内容"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("处置记录")
        verbose_name_plural = _("处置记录")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="case_event_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    @property
    def outcome_label(self) -> str:
        outcome = (self.data or {}).get("outcome", "")
        return str(Outcome(outcome).label) if outcome in Outcome.values else ""


class AppealClaim(models.TextChoices):
    MALICIOUS = "malicious", _("恶意评价")
    NOT_OUR_WORK = "not_our_work", _("非本单位工作（如企业工资待遇）")


class AppealDecision(models.TextChoices):
    PENDING = "pending", _("待裁定")
    UPHELD = "upheld", _("申诉成立")
    REFUSED = "refused", _("申诉驳回")


class Appeal(models.Model):
    """申诉: the union claims the review is malicious or not about its work; the parent decides.

    One per case: a refused appeal is final.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="appeal")
    claim = models.CharField(_("申诉理由类型"), max_length=16, choices=AppealClaim.choices)
    reasons = models.TextField(_("申诉理由"))
    filed_at = models.DateTimeField(_("申诉时间"), default=timezone.now)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Where the case stood when the appeal was filed: a refused appeal returns it there.
    from_state = models.CharField(max_length=12, choices=CaseState.choices)
    decision = models.CharField(
        _("裁定"), max_length=10, choices=AppealDecision.choices, default=AppealDecision.PENDING
    )
    decision_reasons = models.TextField(_("裁定理由"), blank=True)
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        constraints = [
            models.CheckConstraint(
                condition=Q(claim__in=AppealClaim.values), name="appeal_claim_known"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=AppealDecision.values), name="appeal_decision_known"
            ),
            models.CheckConstraint(condition=~Q(reasons=""), name="appeal_has_reasons"),
            models.CheckConstraint(
                condition=(
                    Q(decision=AppealDecision.PENDING)
                    & Q(decided_at__isnull=True)
                    & Q(decided_by__isnull=True)
                )
                | (
                    ~Q(decision=AppealDecision.PENDING)
                    & Q(decided_at__isnull=False)
                    & Q(decided_by__isnull=False)
                    & ~Q(decision_reasons="")
                ),
                name="appeal_decided_with_reasons",
            ),
        ]

    def __str__(self) -> str:
        return f"申诉 {self.case_id}"


class NotificationKind(models.TextChoices):
    VERIFY_OVERDUE = "verify_overdue", _("核实逾期")
    RECTIFY_OVERDUE = "rectify_overdue", _("整改答复逾期")
    REOPENED = "reopened", _("会员不满意，转上级重办")
    APPEAL = "appeal", _("待裁定的申诉")


class Notification(models.Model):
    """A notice in the console for the admins of one org (an escalation, an appeal to decide).

    It names the case and the union, never the member.
    """

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+", db_index=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    # The case's reopen_count when noticed: a reopened case late again is noticed again.
    round = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("处置提醒")
        verbose_name_plural = _("处置提醒")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["org", "read_at"], name="case_notice_org_read"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="case_notice_kind_known"
            ),
            # The overdue check's idempotence, in the database too: one notice of a kind per
            # case and org.
            models.UniqueConstraint(
                fields=["case", "org", "kind", "round"], name="case_notice_once_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.message
