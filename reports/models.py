"""The weekly bulletin (每周通报): a frozen snapshot of a campaign's progress at a cut-off."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from orgs.models import Org


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
