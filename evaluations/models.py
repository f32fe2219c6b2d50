"""Evaluations (评议): one member's submission in one campaign, its answers, and the counters.

An evaluation is append-only: once stored, its answers, its union and its time never change.
Later steps (a case, an upheld appeal, an exclusion for review) live in their own tables and
point at it. The network address and device hint kept for integrity review live apart too
(`SubmissionTrace`), so they can be purged when the campaign's retention ends without
touching the evaluation.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Question, Rating


class AppendOnlyError(Exception):
    """An attempt to change or delete a stored evaluation or answer."""


class AppendOnly(models.Model):
    """Rows that may be created, never updated or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("评议提交后不可修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("评议提交后不可删除"))


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
