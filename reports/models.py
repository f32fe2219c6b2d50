"""The weekly bulletin (每周通报), a frozen snapshot of a campaign's progress at a cut-off, and the
annual assessment (年度考核): a campaign's scoring scheme and, once published, its frozen result."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from orgs.models import Org, OrgKind


class BulletinStatus(models.TextChoices):
    BUILDING = "building", _("生成中")
    PUBLISHED = "published", _("已发布")
    FAILED = "failed", _("生成失败")


class Bulletin(models.Model):
    """One issue (第N期) of an org's bulletin in a campaign, counted to `cutoff`.

    `data` holds every figure and name the web page, .docx, .xlsx and .pdf show, rounded as
    shown, so every format of one bulletin agrees and later evaluations change nothing. A row
    becomes `published` only at the end of a successful build; a build that fails or dies stays
    `failed`/`building` and a rebuild of the same cut-off reuses the row.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="bulletins", verbose_name=_("评议活动")
    )
    # The org whose direct sub-units are ranked (the campaign's own org for the weekly build).
    org = models.ForeignKey(
        Org, on_delete=models.CASCADE, related_name="bulletins", verbose_name=_("通报单位")
    )
    number = models.PositiveIntegerField(_("期数"), null=True, blank=True)
    # The exclusive end of what is counted: Monday 00:00 = Sunday 24:00 (Asia/Shanghai).
    cutoff = models.DateTimeField(_("统计截止"))
    status = models.CharField(
        _("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.BUILDING
    )
    error = models.TextField(_("失败原因"), blank=True)
    started_at = models.DateTimeField(_("开始生成"), default=timezone.now)
    built_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    # None: built by the weekly schedule (or a command).
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("生成人"),
    )
    data = models.JSONField(_("通报内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("每周通报")
        verbose_name_plural = _("每周通报")
        ordering = ["-cutoff", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "org", "cutoff"], name="one_bulletin_per_cutoff"
            ),
            models.UniqueConstraint(
                fields=["campaign", "org", "number"],
                condition=Q(status="published"),
                name="one_bulletin_per_number",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(number__isnull=False, built_at__isnull=False),
                name="published_bulletin_is_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "org", "cutoff"], name="bulletin_status_org_cutoff"),
        ]

    def __str__(self) -> str:
        return self.data.get("title") or f"{self.org} {self.cutoff:%Y-%m-%d}"

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED


# ------------------------------------------------------------------ 年度考核 · the assessment


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class IndicatorKey(models.TextChoices):
    """The five indicators of the assessment, in the order every page and sheet shows them."""

    COMPLETION = "completion", _("完成率")
    PARTICIPATION = "participation", _("参评率")
    SATISFACTION = "satisfaction", _("满意度指数")
    ON_TIME = "on_time", _("按期整改率")
    HANDLING = "handling", _("整改满意率")


class MissingPolicy(models.TextChoices):
    """What a unit earns on an indicator it has no value for (no target, 样本不足, no cases)."""

    FULL = "full", _("得满分")
    ZERO = "zero", _("得零分")
    RESCALE = "rescale", _("不计入，其余按比例折算")


# Kinds a scheme may score: any kind of unit below a federation.
SCORABLE_KINDS = [k for k in OrgKind.values if k != OrgKind.FEDERATION]


class AssessmentScheme(models.Model):
    """How a campaign's units are scored in the annual assessment (年度工会目标考核), and, once
    published, the frozen result.

    The scored units are the direct sub-units of the campaign's org whose kind is among
    `kinds`; each indicator has a weight (分值), a cap (the value that earns the full weight)
    and a policy for a missing value. A draft is computed afresh on every read; publishing
    writes every figure, score and rank into `result`, rounded as shown (reports/assessment.py),
    after which neither the scheme nor the result changes (the service refuses).
    """

    campaign = models.OneToOneField(
        Campaign,
        on_delete=models.CASCADE,
        related_name="assessment_scheme",
        verbose_name=_("评议活动"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # None when published by the command.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发布人"),
    )
    result = models.JSONField(_("考核结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("考核评分方案")
        verbose_name_plural = _("考核评分方案")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AssessmentStatus.values), name="assessment_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status=AssessmentStatus.DRAFT) | Q(published_at__isnull=False),
                name="published_assessment_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_status_display()}"

    @property
    def is_published(self) -> bool:
        return self.status == AssessmentStatus.PUBLISHED


class AssessmentIndicator(models.Model):
    """One indicator of a scheme: score = weight × min(value ÷ cap, 1).

    Values and caps are on the indicator's own scale: percentage points for the four rates
    (a cap of 70 means 70%), 0–100 for the satisfaction index.
    """

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="indicators"
    )
    key = models.CharField(_("指标"), max_length=16, choices=IndicatorKey.choices)
    weight = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    cap = models.DecimalField(_("满分标准"), max_digits=6, decimal_places=2)
    missing = models.CharField(
        _("无数据时"), max_length=10, choices=MissingPolicy.choices, default=MissingPolicy.RESCALE
    )

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "key"], name="one_indicator_per_key"),
            models.CheckConstraint(
                condition=Q(key__in=IndicatorKey.values), name="assessment_indicator_key_known"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=1000),
                name="assessment_weight_0_to_1000",
            ),
            models.CheckConstraint(
                condition=Q(cap__gt=0) & Q(cap__lte=1000), name="assessment_cap_positive"
            ),
            models.CheckConstraint(
                condition=Q(missing__in=MissingPolicy.values),
                name="assessment_missing_policy_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} {self.weight}"


class AssessmentKind(models.Model):
    """A kind of unit the scheme scores (镇, 园区, …); units of other kinds are left out."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="scored_kinds"
    )
    kind = models.CharField(_("单位类型"), max_length=16, choices=OrgKind.choices)

    class Meta:
        verbose_name = _("参加考核的单位类型")
        verbose_name_plural = _("参加考核的单位类型")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind"], name="one_scored_kind_per_scheme"),
            models.CheckConstraint(
                condition=Q(kind__in=SCORABLE_KINDS), name="assessment_kind_below_federation"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
