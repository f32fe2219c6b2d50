"""Campaigns (评议活动): window, questionnaire, negative-review rule, deadlines and targets."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import Org, OrgKind


class Rating(models.IntegerChoices):
    """The five levels, best first, stored as 5..1 (DESIGN.md)."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# Lazy: a campaign stores its labels in the language active when it is created.
DEFAULT_SCALE_LABELS = {str(r.value): r.label for r in Rating}


class NegativeRule(models.TextChoices):
    OVERALL = "overall", _("工作总体满意度为不满意或非常不满意")
    OVERALL_OR_ITEM = "overall_or_item", _("总体或任一分项为不满意或非常不满意")


DEFAULT_TRACE_RETENTION_DAYS = 180


class Campaign(models.Model):
    """One round of evaluation run by an org for its whole subtree."""

    org = models.ForeignKey(
        Org,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("组织单位"),
        help_text=_("发起评议的工会；其下所有基层工会的会员参加"),
    )
    name = models.CharField(_("活动名称"), max_length=100)
    year = models.PositiveSmallIntegerField(
        _("统计年度"), help_text=_("取哪一年的年报工会会员人数")
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    scale_labels = models.JSONField(_("评分等级名称"), default=dict, blank=True)
    negative_rule = models.CharField(
        _("差评规则"), max_length=20, choices=NegativeRule.choices, default=NegativeRule.OVERALL
    )
    verify_days = models.PositiveSmallIntegerField(
        _("核实时限(工作日)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    rectify_days = models.PositiveSmallIntegerField(
        _("整改答复时限(工作日)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    # Network addresses and device hints of the submissions are kept for integrity review only,
    # and only this long after the window closes (evaluations.retention purges them).
    trace_retention_days = models.PositiveSmallIntegerField(
        _("提交痕迹保留天数"),
        default=DEFAULT_TRACE_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("评议结束后，网络地址和设备标识仅为核查异常评议保留这么多天，到期删除"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评议活动")
        verbose_name_plural = _("评议活动")
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="campaign_name_unique_per_org"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="campaign_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(trace_retention_days__gte=1) & Q(trace_retention_days__lte=730),
                name="campaign_trace_retention_1_to_730",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def label_for(self, rating: int) -> str:
        labels = self.scale_labels or DEFAULT_SCALE_LABELS
        return str(labels.get(str(rating), DEFAULT_SCALE_LABELS[str(rating)]))

    @property
    def scale(self) -> list[tuple[int, str]]:
        return [(r.value, self.label_for(r.value)) for r in Rating]

    def status(self, now=None) -> str:
        now = now or timezone.now()
        if now < self.starts_at:
            return "upcoming"
        if now >= self.ends_at:
            return "closed"
        return "open"

    def get_status_display(self) -> str:
        return {"upcoming": _("未开始"), "open": _("进行中"), "closed": _("已结束")}[self.status()]


class QuestionKind(models.TextChoices):
    OVERALL = "overall", _("工作总体满意度")
    ITEM = "item", _("分项工作")
    SUGGESTION = "suggestion", _("工作建议")


class Question(models.Model):
    """A question of a campaign's questionnaire; the campaign owns its wording and order."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("类型"), max_length=12, choices=QuestionKind.choices)
    label = models.CharField(_("题目"), max_length=100)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    required = models.BooleanField(_("必填"), default=False)
    max_length = models.PositiveSmallIntegerField(
        _("最多字数"), default=500, help_text=_("仅用于工作建议")
    )

    class Meta:
        verbose_name = _("评议题目")
        verbose_name_plural = _("评议题目")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(kind="overall"),
                name="one_overall_question_per_campaign",
            ),
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(kind="suggestion"),
                name="one_suggestion_question_per_campaign",
            ),
            models.CheckConstraint(
                condition=~Q(kind="overall") | Q(required=True), name="overall_question_required"
            ),
            models.CheckConstraint(condition=~Q(label=""), name="question_label_not_empty"),
        ]

    def __str__(self) -> str:
        return self.label


class TargetRate(models.Model):
    """The target rule: a rate of reported members per org kind, rounded half up."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="target_rates")
    org_kind = models.CharField(_("组织类型"), max_length=16, choices=OrgKind.choices)
    rate = models.DecimalField(
        _("参评比例"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )

    class Meta:
        verbose_name = _("目标比例")
        verbose_name_plural = _("目标比例")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "org_kind"], name="one_rate_per_kind"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="target_rate_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_org_kind_display()} {self.rate:.0%}"


class TargetSource(models.TextChoices):
    IMPORT = "import", _("任务分解表导入")
    MANUAL = "manual", _("手工设置")


class Target(models.Model):
    """参评目标 set for one org in one campaign; it wins over the rule."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="targets")
    value = models.PositiveIntegerField(_("参评目标工会会员数"))
    source = models.CharField(max_length=10, choices=TargetSource.choices)
    task_import = models.ForeignKey(
        "TaskTableImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("参评目标")
        verbose_name_plural = _("参评目标")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "org"], name="one_target_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.value}"


class TaskTableImport(models.Model):
    """A record of one committed task-table (任务分解表) import, with what it said and did."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="task_imports")
    parent = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    sum_reported = models.PositiveIntegerField(default=0)
    sum_target = models.PositiveIntegerField(default=0)
    stated_reported = models.PositiveIntegerField(null=True, blank=True)
    stated_target = models.PositiveIntegerField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    refused = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("任务分解表导入记录")
        verbose_name_plural = _("任务分解表导入记录")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} → {self.parent} ({self.created_at:%Y-%m-%d})"


class Rollup(models.Model):
    """An org's reported members and target in a campaign, its whole subtree included.

    Kept current by campaigns.rollups whenever a figure, a target, a rate or a kind changes,
    so that a unit table reads one row per sub-unit instead of walking 150,000 orgs. Only
    orgs with a figure have a row; `manage.py rebuild_rollups` recomputes them from scratch.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rollups")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="rollups")
    reported = models.PositiveIntegerField(null=True)
    reported_own = models.BooleanField(default=False)
    target = models.PositiveIntegerField(null=True)
    target_source = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("目标汇总")
        verbose_name_plural = _("目标汇总")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "org"], name="one_rollup_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id}: {self.reported} / {self.target}"
