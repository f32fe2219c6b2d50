"""Evaluations (评议): one member's submission in one campaign, its answers, and the counters.

An evaluation is append-only: once stored, its answers, its union and its time never change.
Later steps (a case, an upheld appeal, an exclusion for review) live in their own tables and
point at it. The network address and device hint kept for integrity review live apart too
(`SubmissionTrace`), so they can be purged when the campaign's retention ends without
touching the evaluation.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Question, Rating


class AppendOnlyError(Exception):
    """An attempt to change or delete a stored evaluation or answer."""


class AppendOnly(models.Model):
    """Rows that may be created, never updated or deleted through the ORM; each model says in
    its own words why not."""

    refused_change = _("评议提交后不可修改")
    refused_delete = _("评议提交后不可删除")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(self.refused_change)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(self.refused_delete)


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk changes too, so that a log's rows cannot be rewritten around save()."""

    def update(self, **kwargs):
        raise AppendOnlyError(self.model.refused_change)

    def delete(self):
        raise AppendOnlyError(self.model.refused_delete)


class Channel(models.TextChoices):
    H5 = "h5", _("网页")
    API = "api", _("移动端接口")
    DEMO = "demo", _("演示数据")


class Evaluation(AppendOnly):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("评议活动")
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("会员"),
    )
    # The member's grassroots union when they submitted: a later transfer does not move it.
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("所在工会")
    )
    overall = models.PositiveSmallIntegerField(_("工作总体满意度"), choices=Rating.choices)
    suggestion = models.TextField(_("工作建议"), blank=True)
    return_visit = models.BooleanField(
        _("愿意接受回访"),
        default=False,
        help_text=_("会员同意后，工会可看到其姓名与联系方式以便回访"),
    )
    # By the campaign's rule at submission time (DESIGN.md 差评); cases start from it.
    is_negative = models.BooleanField(_("差评"), default=False)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    channel = models.CharField(_("提交方式"), max_length=8, choices=Channel.choices)
    # Set by the client (API Idempotency-Key, or the H5 form's token): a retry of the same
    # request answers with this evaluation.
    request_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("评议")
        verbose_name_plural = _("评议")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"], name="one_evaluation_per_member_per_campaign"
            ),
            models.UniqueConstraint(
                fields=["member", "request_key"],
                condition=~Q(request_key=""),
                name="one_evaluation_per_request_key",
            ),
            models.CheckConstraint(
                condition=Q(overall__gte=1) & Q(overall__lte=5), name="evaluation_overall_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "org"], name="evaluation_campaign_org"),
            models.Index(fields=["campaign", "submitted_at"], name="evaluation_campaign_time"),
            models.Index(fields=["member", "submitted_at"], name="evaluation_member_time"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id}: {self.overall}"

    @property
    def overall_label(self) -> str:
        return self.campaign.label_for(self.overall)


class Answer(AppendOnly):
    """A rated work item of an evaluation; items left unrated have no row."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    rating = models.PositiveSmallIntegerField(_("评分"), choices=Rating.choices)

    class Meta:
        verbose_name = _("分项评分")
        verbose_name_plural = _("分项评分")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "question"], name="one_answer_per_item"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="answer_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["question", "rating"], name="answer_question_rating")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.rating}"


class SubmissionTrace(models.Model):
    """Where and how an evaluation was submitted: kept for integrity review only."""

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.CASCADE, primary_key=True, related_name="trace"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=32, blank=True, help_text=_("浏览器标识的摘要"))
    # A keyed digest of the browser's device cookie (H5) or the app's install id (API): the same
    # phone or browser whoever logs in on it. Empty when the client sent none.
    device_key = models.CharField(max_length=32, blank=True)
    form_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("提交痕迹")
        verbose_name_plural = _("提交痕迹")

    def __str__(self) -> str:
        return f"{self.evaluation_id}"


class DailyCount(models.Model):
    """Evaluations per org (its subtree included) per local day, split over a few shards.

    A submission adds one to a row of its union and of every ancestor up to the campaign's
    org, in a shard picked at random among `PINGYI_COUNTER_SHARDS`, so that a province's
    submissions do not all queue on the root's row. Reads sum the shards.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_counts")
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("每日评议数")
        verbose_name_plural = _("每日评议数")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "org", "day", "shard"], name="one_count_per_org_day_shard"
            ),
        ]
        # Reads sum every shard of an org's days: on PostgreSQL the count rides in the index,
        # so the sum of a province's root (days × shards rows) is an index-only scan.
        indexes = [
            models.Index(
                fields=["campaign", "org", "day"], include=["count"], name="daily_count_covering"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_id} {self.day}: {self.count}"


def counter_shards() -> int:
    return max(1, int(getattr(settings, "PINGYI_COUNTER_SHARDS", 8)))


# ---------------------------------------------------------------- integrity review (核查)
#
# Units are scored on their counts, so fabricated evaluations are the main threat (DESIGN.md).
# A scan (evaluations.integrity) reads the evaluations with their traces and stores what it finds
# as findings, each with its evidence and its evaluations; a reviewer of the federation then
# excludes evaluations with a reason, or restores them. An exclusion never touches the evaluation:
# it is a row of its own, every decision is an append-only event, and the exclusion counters
# (per org and day of submission, like DailyCount) take excluded evaluations out of completion.


class Sensitivity(models.TextChoices):
    """How unlikely, by chance, a unit's concentration of a signal must be to be flagged."""

    LOW = "low", _("宽松（只标出极显著的集中）")
    STANDARD = "standard", _("标准")
    HIGH = "high", _("灵敏（标出更多，需更多人工核查）")


SENSITIVITY_ALPHA = {Sensitivity.LOW: 1e-9, Sensitivity.STANDARD: 1e-6, Sensitivity.HIGH: 1e-4}


class IntegritySettings(models.Model):
    """The thresholds of a campaign's integrity scan; made with these defaults on first use."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="integrity_settings"
    )
    burst_minutes = models.PositiveSmallIntegerField(
        _("集中提交的时间窗(分钟)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    burst_address_min = models.PositiveSmallIntegerField(
        _("同一网络地址在时间窗内至少提交(条)"),
        default=10,
        validators=[MinValueValidator(3), MaxValueValidator(1000)],
    )
    device_minutes = models.PositiveSmallIntegerField(
        _("同一设备的时间窗(分钟)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    burst_device_min = models.PositiveSmallIntegerField(
        _("同一设备在时间窗内至少提交(个账号)"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(100)],
    )
    quick_seconds = models.PositiveSmallIntegerField(
        _("注册即评：注册后几秒内提交"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(3600)],
    )
    fast_seconds = models.PositiveSmallIntegerField(
        _("秒填一致：打开评议页后几秒内提交"),
        default=20,
        validators=[MinValueValidator(3), MaxValueValidator(600)],
    )
    straight_min_items = models.PositiveSmallIntegerField(
        _("秒填一致：至少评了几个分项且与总体评分相同"),
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
    )
    identical_min = models.PositiveSmallIntegerField(
        _("建议雷同：同一工会至少几条相同建议"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
    )
    identical_min_length = models.PositiveSmallIntegerField(
        _("建议雷同：建议至少几个字"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )
    unit_min = models.PositiveSmallIntegerField(
        _("一个工会至少几条同类迹象才标出"),
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
    )
    sensitivity = models.CharField(
        _("灵敏度"), max_length=10, choices=Sensitivity.choices, default=Sensitivity.STANDARD
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # When the campaign's network addresses and device hints were deleted (retention over).
    traces_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("核查设置")
        verbose_name_plural = _("核查设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(burst_address_min__gte=3), name="integrity_burst_address_min_3"
            ),
            models.CheckConstraint(
                condition=Q(burst_device_min__gte=2), name="integrity_burst_device_min_2"
            ),
            models.CheckConstraint(condition=Q(unit_min__gte=2), name="integrity_unit_min_2"),
            models.CheckConstraint(
                condition=Q(sensitivity__in=Sensitivity.values), name="integrity_sensitivity_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}"

    @property
    def alpha(self) -> float:
        return SENSITIVITY_ALPHA[Sensitivity(self.sensitivity)]


class ReviewRunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在核查")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ReviewRun(models.Model):
    """One integrity scan of a campaign; pages read the campaign's latest finished one."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="review_runs")
    status = models.CharField(
        max_length=8, choices=ReviewRunStatus.choices, default=ReviewRunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("0–100"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The thresholds it used, and what it read and found: {"evaluations": …, "traced": …}.
    thresholds = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("核查批次")
        verbose_name_plural = _("核查批次")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_review_run_per_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"


class FindingKind(models.TextChoices):
    BURST_ADDRESS = "burst_address", _("同一网络地址集中提交")
    BURST_DEVICE = "burst_device", _("同一设备多个账号提交")
    QUICK_REGISTER = "quick_register", _("注册即评")
    IDENTICAL_TEXT = "identical_text", _("建议雷同")
    FAST_STRAIGHT = "fast_straight", _("秒填一致")


class Finding(models.Model):
    """A pattern found in one grassroots union, with its evidence and its evaluations."""

    run = models.ForeignKey(ReviewRun, on_delete=models.CASCADE, related_name="findings")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    # The evaluated union (the evaluations' org at submission).
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("迹象"), max_length=16, choices=FindingKind.choices)
    count = models.PositiveIntegerField(_("涉及评议(条)"))
    first_at = models.DateTimeField(_("最早提交"))
    last_at = models.DateTimeField(_("最晚提交"))
    # What a reviewer reads: the address or device, the window, the shares and their chance.
    evidence = models.JSONField(default=dict, blank=True)
    evaluations = models.ManyToManyField(
        Evaluation, through="FindingEvaluation", related_name="findings"
    )

    class Meta:
        verbose_name = _("异常迹象")
        verbose_name_plural = _("异常迹象")
        ordering = ["first_at", "pk"]
        indexes = [models.Index(fields=["run", "org"], name="finding_run_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FindingKind.values), name="finding_kind_known"
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="finding_has_evaluations"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.org_id} · {self.count}"


class FindingEvaluation(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="links")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "evaluation"], name="one_link_per_finding_evaluation"
            ),
        ]
        indexes = [models.Index(fields=["evaluation"], name="finding_link_evaluation")]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.evaluation_id}"


class Exclusion(models.Model):
    """An evaluation a reviewer excluded: kept, flagged, out of completion, satisfaction and
    scores. Present while excluded; restoring deletes it (the events keep the history)."""

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, primary_key=True, related_name="exclusion"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="exclusions")
    # The evaluation's union, for scoping; indexed by (org, evaluation) below.
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+", db_index=False)
    reason = models.TextField(_("剔除理由"))
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    excluded_at = models.DateTimeField(_("剔除时间"), default=timezone.now)

    class Meta:
        verbose_name = _("剔除的评议")
        verbose_name_plural = _("剔除的评议")
        indexes = [models.Index(fields=["org", "evaluation"], name="exclusion_org_evaluation")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="exclusion_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}"


class ExclusionAction(models.TextChoices):
    EXCLUDE = "exclude", _("剔除")
    RESTORE = "restore", _("恢复")


class ExclusionEvent(AppendOnly):
    """Who excluded or restored which evaluation, when and why: the review's audit log."""

    refused_change = _("核查记录不可修改")
    refused_delete = _("核查记录不可删除")

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+", db_index=False)
    action = models.CharField(_("操作"), max_length=8, choices=ExclusionAction.choices)
    reason = models.TextField(_("理由"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    address = models.CharField(_("操作地址"), max_length=45, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("核查记录")
        verbose_name_plural = _("核查记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["org", "id"], name="exclusion_event_org_id"),
            models.Index(fields=["evaluation", "id"], name="exclusion_event_evaluation"),
            models.Index(fields=["campaign", "id"], name="exclusion_event_campaign"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ExclusionAction.values), name="exclusion_event_action_known"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="exclusion_event_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.evaluation_id}"


class ExclusionCount(models.Model):
    """Excluded evaluations per org (its subtree included) and day of SUBMISSION.

    Kept in the excluding (and restoring) transaction for the evaluation's union and every
    ancestor up to the campaign's org, like DailyCount: progress figures subtract it, so an
    excluded evaluation leaves completion from the day it was submitted. Exclusions are a
    reviewer's clicks, not a province's submissions, so the rows are not sharded.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("每日剔除数")
        verbose_name_plural = _("每日剔除数")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "org", "day"], name="one_exclusion_count_per_org_day"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="exclusion_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id} {self.day}: −{self.count}"


class UnitVerdict(models.TextChoices):
    CLEARED = "cleared", _("已核查，未发现造假")
    CONFIRMED = "confirmed", _("已核查，确认存在异常")


class UnitReview(models.Model):
    """A reviewer's conclusion on a flagged union, with how many flagged evaluations it had:
    when a later scan finds more, the union is pending again."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(_("核查结论"), max_length=10, choices=UnitVerdict.choices)
    note = models.TextField(_("核查说明"))
    flagged = models.PositiveIntegerField(_("当时可疑评议数"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("单位核查结论")
        verbose_name_plural = _("单位核查结论")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "org"], name="one_review_per_union"),
            models.CheckConstraint(condition=~Q(note=""), name="unit_review_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id}: {self.verdict}"
