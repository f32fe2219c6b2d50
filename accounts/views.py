"""Console pages where admins open, reset and close accounts of their sub-units' admins."""

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orgs.scoping import can_manage, orgs_in_scope, restrict_to_scope, role_kinds
from pingyi.console import console_view

from . import throttle
from .admin_forms import NewAdminForm
from .models import Role, RoleKind
from .roles import grantable_kinds
from .services import grant_role


def _new_password() -> str:
    # Readable in a phone call or a chat message: no 0/O or 1/l.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _i in range(12))


def _kinds_or_403(user) -> list[str]:
    # A superuser grants as a federation admin would.
    held = {RoleKind.FEDERATION_ADMIN} if user.is_superuser else role_kinds(user)
    kinds = grantable_kinds(held)
    if not kinds:
        raise PermissionDenied(_("您的角色不能管理账号。"))
    return kinds


@console_view
def admin_list(request):
    kinds = _kinds_or_403(request.user)
    roles = (
        restrict_to_scope(Role.objects.select_related("user", "org"), request.user)
        .exclude(user=request.user)
        .order_by("org__path", "kind")
    )
    return render(
        request,
        "accounts/admin_list.html",
        {"roles": roles[:500], "kinds": kinds, "nav": "admins"},
    )


@console_view
def admin_new(request):
    kinds = _kinds_or_403(request.user)
    form = NewAdminForm(
        request.POST or None, kinds=kinds, orgs_in_scope=orgs_in_scope(request.user)
    )
    if request.method == "POST" and form.is_valid():
        org = form.cleaned_data["org_code"]
        if not can_manage(request.user, org):
            raise PermissionDenied(_("您只能为本级及下级组织开通账号。"))
        password = _new_password()
        role = grant_role(
            username=form.cleaned_data["username"],
            org=org,
            kind=form.cleaned_data["kind"],
            password=password,
            display_name=form.cleaned_data["display_name"],
        )
        return render(
            request,
            "accounts/admin_password.html",
            {"role": role, "password": password, "created": True, "nav": "admins"},
        )
    return render(request, "accounts/admin_new.html", {"form": form, "nav": "admins"})


def _role_in_scope(request, role_id: int) -> Role:
    kinds = _kinds_or_403(request.user)
    role = (
        restrict_to_scope(Role.objects.select_related("user", "org"), request.user)
        .exclude(user=request.user)
        .filter(pk=role_id)
        .first()
    )
    if role is None:
        raise Http404(_("找不到该账号，或不在您的管理范围内"))
    if role.kind not in kinds:
        raise PermissionDenied(_("不能管理比自己权限更高的账号。"))
    return role


@console_view
@require_POST
def admin_reset_password(request, role_id: int):
    role = _role_in_scope(request, role_id)
    password = _new_password()
    role.user.set_password(password)
    role.user.save(update_fields=["password"])
    throttle.clear_failures(username=role.user.username)  # a locked-out admin can log in now
    return render(
        request,
        "accounts/admin_password.html",
        {"role": role, "password": password, "created": False, "nav": "admins"},
    )


@console_view
@require_POST
def admin_revoke(request, role_id: int):
    role = _role_in_scope(request, role_id)
    with transaction.atomic():
        role.delete()
    messages.success(
        request,
        _("已撤销 %(username)s 在“%(org)s”的%(role)s角色。")
        % {"username": role.user.username, "org": role.org.name, "role": role.get_kind_display()},
    )
    return redirect("accounts:admins")
