"""Rules that change accounts: creating admins and granting them roles at orgs."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from orgs.models import Org

from .models import Role, RoleKind, User


@transaction.atomic
def grant_role(
    *, username: str, org: Org, kind: str, password: str | None = None, display_name: str = ""
) -> Role:
    """Give a user (created when new) a role at an org; the role reaches the org's subtree."""
    if kind not in RoleKind.values:
        raise ValueError(
            _("未知角色“%(kind)s”，可选：%(choices)s")
            % {"kind": kind, "choices": pgettext("list separator", "、").join(RoleKind.values)}
        )
    user, created = User.objects.get_or_create(
        username=username, defaults={"display_name": display_name}
    )
    if created or password:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    role, _created = Role.objects.get_or_create(user=user, org=org, kind=kind)
    return role


def revoke_role(*, username: str, org: Org, kind: str) -> bool:
    deleted, _per_model = Role.objects.filter(user__username=username, org=org, kind=kind).delete()
    return bool(deleted)
