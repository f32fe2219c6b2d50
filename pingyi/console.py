"""What every console view needs: the admin check and the 403 it answers otherwise."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from orgs.scoping import is_console_user


def console_view(view):
    """Only users holding a role (or superusers) reach the console."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_console_user(request.user):
            raise PermissionDenied(_("您的账号没有管理角色，请联系上级工会管理员开通。"))
        return view(request, *args, **kwargs)

    return wrapped


def int_or_none(value) -> int | None:
    """A query-string or form id as an int; None for anything else (so a lookup can 404)."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
