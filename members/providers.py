"""Third-party login (WeChat, Alipay…): an interface, with no provider switched on.

A provider is a LoginProvider subclass named in PINGYI_LOGIN_PROVIDERS (dotted paths; empty by
default). It sends the member to the provider's authorization page and, on the way back, turns
the callback's parameters into the provider's stable id of the person (its subject). A member
binds a provider once while logged in by phone; afterwards the provider alone logs them in. A
subject bound to no member logs no one in: registration always goes through the roster.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .models import ProviderIdentity


class ProviderError(Exception):
    """The provider refused or the callback is not valid; str() is the message for the member."""

    code = "provider_failed"
    field = None


class ProviderNotBound(ProviderError):
    code = "provider_not_bound"


class LoginProvider(ABC):
    key: str = ""  # in URLs and ProviderIdentity.provider: "wechat", "alipay"
    label: str = ""  # on the button: 微信登录

    @abstractmethod
    def authorization_url(self, state: str) -> str:
        """Where to send the member; the provider sends `state` back to the callback."""

    @abstractmethod
    def identity_from_callback(self, params: Mapping[str, str]) -> str:
        """The subject (openid, user_id) the callback proves; raise ProviderError if none."""


def enabled_providers() -> list[LoginProvider]:
    return [import_string(path)() for path in settings.PINGYI_LOGIN_PROVIDERS]


def get_provider(key: str) -> LoginProvider | None:
    return next((p for p in enabled_providers() if p.key == key), None)


def user_for_subject(*, provider: LoginProvider, subject: str):
    """The active user bound to this provider subject; ProviderNotBound when none."""
    bound = (
        ProviderIdentity.objects.select_related("user")
        .filter(provider=provider.key, subject=subject, user__is_active=True)
        .first()
    )
    if bound is None:
        raise ProviderNotBound(
            _("该%(provider)s账号尚未绑定会员，请先用手机号验证码登录，再在“我的”中绑定")
            % {"provider": provider.label}
        )
    return bound.user


def bind_subject(*, user, provider: LoginProvider, subject: str) -> ProviderIdentity:
    """Bind a provider subject to a logged-in member's user (again: no change)."""
    existing = ProviderIdentity.objects.filter(provider=provider.key, subject=subject).first()
    if existing is not None and existing.user_id != user.pk:
        raise ProviderError(_("该%(provider)s账号已绑定其他会员") % {"provider": provider.label})
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ProviderIdentity.objects.create(
                user=user, provider=provider.key, subject=subject
            )
    except IntegrityError:
        raise ProviderError(
            _("您已绑定过另一个%(provider)s账号") % {"provider": provider.label}
        ) from None
