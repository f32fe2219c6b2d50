"""Analysis (数据分析): the rules that sort suggestions into needs, and the runs that apply them.

Satisfaction figures are computed on demand from evaluations and answers (grouped SQL, cached);
only the heavy pass over free text — segmentation and need categories — is stored, per run,
so pages aggregate it by unit with one grouped query.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A category index is stored between commas (",0,3,") so that one grouped query counts every
# category per unit with a filtered COUNT each; an int bitmask would need bit operators that
# SQLite and PostgreSQL spell alike only through raw SQL.
MAX_CATEGORIES = 30


class NeedRule(models.Model):
    """A need category (文体活动, 福利普惠 …) and the keywords that put a suggestion in it.

    Rules without an org are the defaults every campaign starts from; an org that edits them
    gets its own copy (`org`), used by the campaigns it runs. 其他 is no rule: it is what a
    suggestion matching none of them falls to.
    """

    org = models.ForeignKey(
        "orgs.Org",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="need_rules",
        verbose_name=_("所属工会"),
        help_text=_("为空时为系统默认规则"),
    )
    name = models.CharField(_("需求类别"), max_length=20)
    keywords = models.TextField(_("关键词"), help_text=_("以空格、逗号或顿号分隔"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("需求分类规则")
        verbose_name_plural = _("需求分类规则")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="need_rule_name_unique_per_org"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(org__isnull=True), name="need_rule_default_name_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="need_rule_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class RunKind(models.TextChoices):
    NEEDS = "needs", _("会员需求分析")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在分析")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class AnalysisRun(models.Model):
    """One pass of the heavy analysis over a campaign; pages read the latest finished one.

    `source_key` says what it was computed from (the campaign's evaluation count from the
    counters and a fingerprint of the rules): when either changes, the run is stale.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="analysis_runs"
    )
    kind = models.CharField(max_length=12, choices=RunKind.choices, default=RunKind.NEEDS)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("0–100"))
    source_key = models.CharField(max_length=100)
    # The rules as applied (names in category-index order, keywords), and the totals.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分析任务")
        verbose_name_plural = _("分析任务")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two admins opening the page at once start one run, not two.
            models.UniqueConstraint(
                fields=["campaign", "kind"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_analysis_run",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="run_progress_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.kind}: {self.status} {self.progress}%"

    @property
    def category_names(self) -> list[str]:
        return [rule["name"] for rule in self.result.get("rules", [])]


class AnalysedSuggestion(models.Model):
    """One suggestion as a run read it: its union, its need categories and its keywords."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="suggestions")
    evaluation = models.ForeignKey(
        "evaluations.Evaluation", on_delete=models.CASCADE, related_name="+"
    )
    # The evaluation's union at submission, copied so a unit's rows are one join to Org.
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    categories = models.CharField(max_length=100, help_text=_("类别序号，以逗号包围，如 ,0,3,"))
    terms = models.TextField(blank=True, help_text=_("分词后保留的关键词，以空格分隔"))

    class Meta:
        verbose_name = _("已分析的建议")
        verbose_name_plural = _("已分析的建议")
        indexes = [models.Index(fields=["run", "org"], name="analysed_suggestion_run_org")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.evaluation_id}"
