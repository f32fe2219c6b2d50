"""The union tree: organisations of any depth and their yearly reported membership."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class OrgKind(models.TextChoices):
    FEDERATION = "federation", _("市总工会")
    TOWN = "town", _("镇工会")
    PARK = "park", _("园区工会")
    SECTOR = "sector", _("系统(行业)工会")
    DIRECT = "direct", _("直属工会")
    AGENCY = "agency", _("机关/事业单位工会")
    ENTERPRISE = "enterprise", _("企业工会")
    GRASSROOTS = "grassroots", _("基层工会")


class Org(MP_Node):
    """A node of the union tree.

    The materialized path (treebeard's MP_Node) makes a subtree one indexed prefix scan,
    which is what every scoped admin read needs.
    """

    steplen = 4

    code = models.CharField(_("组织代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    seq = models.PositiveIntegerField(_("序号"), default=0, help_text=_("在上级中的排列顺序"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("工会组织")
        verbose_name_plural = _("工会组织")
        indexes = [models.Index(fields=["depth", "path"], name="org_depth_path_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="org_name_not_empty"),
            models.CheckConstraint(condition=~Q(code=""), name="org_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, other: "Org") -> bool:
        """True when other is this org or lies below it."""
        return other.path.startswith(self.path)

    @property
    def parent_path(self) -> str:
        return self.path[: -self.steplen]


class ReportedMembers(models.Model):
    """年报工会会员人数: the membership an org reported in the annual statistics of a year."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="reported")
    year = models.PositiveSmallIntegerField(_("年度"))
    count = models.PositiveIntegerField(_("年报工会会员人数"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年报会员人数")
        verbose_name_plural = _("年报会员人数")
        constraints = [
            models.UniqueConstraint(fields=["org", "year"], name="reported_members_once_a_year"),
            models.CheckConstraint(condition=Q(year__gte=2000), name="reported_members_year_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.year}: {self.count}"
