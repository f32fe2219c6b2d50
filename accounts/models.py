"""Accounts and the roles admins hold at orgs of the union tree."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login. Admins reach the console through their roles; members arrive in a later app."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleKind(models.TextChoices):
    FEDERATION_ADMIN = "federation_admin", _("总工会管理员")
    UNIT_ADMIN = "unit_admin", _("单位工会管理员")
    GRASSROOTS_ADMIN = "grassroots_admin", _("基层工会管理员")
    VIEWER = "viewer", _("结果查看员")
    SERVICE = "service", _("客服")


# Roles that may change data in their subtree (orgs, targets, imports).
MANAGING_ROLES = frozenset(
    {RoleKind.FEDERATION_ADMIN, RoleKind.UNIT_ADMIN, RoleKind.GRASSROOTS_ADMIN}
)
# Roles that may create and configure campaigns for their org.
CAMPAIGN_ROLES = frozenset({RoleKind.FEDERATION_ADMIN})


class Role(models.Model):
    """A user's role at an org; it reaches the org's whole subtree and nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles"
    )
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("角色"), max_length=20, choices=RoleKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "org", "kind"], name="role_once_per_org"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RoleKind.values), name="role_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} · {self.org}"
