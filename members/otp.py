"""One-time codes sent by SMS: issued, checked, used once, and rate-limited per phone and address.

A code is 6 digits, lives PINGYI_OTP_TTL_SECONDS (5 minutes), is stored as an HMAC (keyed by the
lookup key, bound to phone and purpose) and dies after PINGYI_OTP_MAX_ATTEMPTS wrong tries. Only
the newest code of a phone and purpose counts. Sending is limited per phone (one a
PINGYI_OTP_RESEND_SECONDS, PINGYI_OTP_MAX_PER_PHONE_PER_DAY a day; counted in the database, so
every app server agrees) and per network address (PINGYI_OTP_MAX_PER_ADDRESS_PER_HOUR, counted
in the cache like the admin login throttle). Failures (wrong codes, refused registrations) are
counted per address too, so one address cannot probe the roster or guess codes without bound.

Wrong tries are written at once (autocommit): call check_code outside a transaction that a
refusal rolls back, or the count is lost.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import crypto
from .identity import mask_mobile
from .models import OneTimeCode

ADDRESS_WINDOW_SECONDS = 3600


class CodeError(Exception):
    """A code cannot be sent or accepted; str() is the message for the member.

    `code` names the reason for the API, `field` the form field it concerns (None: the form).
    """

    code = "code_invalid"
    field: str | None = "code"


class CodeMissing(CodeError):
    code = "code_missing"


class CodeWrong(CodeError):
    code = "code_wrong"


class CodeExpired(CodeError):
    code = "code_expired"


class CodeUsed(CodeError):
    code = "code_used"


class CodeRateLimited(CodeError):
    """Too many codes asked or tried; retry_after is the wait in seconds (0: unknown)."""

    code = "rate_limited"
    field = None

    def __init__(self, message: str, *, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedCode:
    """What the member may be told about a code just issued (never the code itself)."""

    phone_masked: str
    expires_at: datetime
    resend_after: int  # seconds before another code may be asked


def _code_hash(*, phone: str, purpose: str, code: str) -> str:
    return crypto.lookup_hash("otp", f"{purpose}:{phone}:{code}")


def _phone_hash(phone: str) -> str:
    return crypto.lookup_hash("phone", phone)


def _address_key(kind: str, address: str) -> str:
    # Hashed: addresses are not written to the cache in clear.
    return f"otp:{kind}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def _count(key: str, window: int) -> None:
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


def new_code() -> str:
    return f"{secrets.randbelow(10**settings.PINGYI_OTP_LENGTH):0{settings.PINGYI_OTP_LENGTH}d}"


def check_address_send_allowed(address: str) -> None:
    """Raise CodeRateLimited when this address has asked for too many codes this hour."""
    if address and cache.get(_address_key("sent", address), 0) >= (
        settings.PINGYI_OTP_MAX_PER_ADDRESS_PER_HOUR
    ):
        raise CodeRateLimited(
            _("当前网络获取验证码过于频繁，请一小时后再试"), retry_after=ADDRESS_WINDOW_SECONDS
        )


def check_phone_send_allowed(phone: str) -> None:
    """Raise CodeRateLimited when a code went to this phone a moment ago, or too many today."""
    now = timezone.now()
    sent = OneTimeCode.objects.filter(phone_hash=_phone_hash(phone))
    last = sent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None:
        wait = settings.PINGYI_OTP_RESEND_SECONDS - (now - last).total_seconds()
        if wait > 0:
            seconds = math.ceil(wait)
            raise CodeRateLimited(
                _("验证码发送过于频繁，请 %(seconds)d 秒后再获取") % {"seconds": seconds},
                retry_after=seconds,
            )
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if sent.filter(created_at__gte=midnight).count() >= settings.PINGYI_OTP_MAX_PER_PHONE_PER_DAY:
        tomorrow = midnight + timedelta(days=1)
        raise CodeRateLimited(
            _("该手机号今天获取验证码的次数已达上限，请明天再试"),
            retry_after=math.ceil((tomorrow - now).total_seconds()),
        )


def count_send_request(*, address: str) -> None:
    """Count one request for a code against the address (sent or refused alike)."""
    if address:
        _count(_address_key("sent", address), ADDRESS_WINDOW_SECONDS)


def issue_code(*, phone: str, purpose: str, address: str = "") -> tuple[str, OneTimeCode]:
    """A new code for phone and purpose, stored hashed; the caller sends it and forgets it.

    Rate limits are the caller's to check first (check_*_send_allowed).
    """
    code = new_code()
    record = OneTimeCode.objects.create(
        phone_hash=_phone_hash(phone),
        purpose=purpose,
        code_hash=_code_hash(phone=phone, purpose=purpose, code=code),
        expires_at=timezone.now() + timedelta(seconds=settings.PINGYI_OTP_TTL_SECONDS),
        address=address[:45],
    )
    return code, record


def describe(record: OneTimeCode, *, phone: str) -> IssuedCode:
    return IssuedCode(
        phone_masked=mask_mobile(phone),
        expires_at=record.expires_at,
        resend_after=settings.PINGYI_OTP_RESEND_SECONDS,
    )


def check_address_allowed(address: str) -> None:
    """Raise CodeRateLimited when the address has failed too often this hour."""
    if address and cache.get(_address_key("failed", address), 0) >= (
        settings.PINGYI_OTP_MAX_FAILURES_PER_ADDRESS
    ):
        raise CodeRateLimited(_("尝试次数过多，请一小时后再试"), retry_after=ADDRESS_WINDOW_SECONDS)


def record_address_failure(address: str) -> None:
    if address:
        _count(_address_key("failed", address), ADDRESS_WINDOW_SECONDS)


def spend_attempt(record: OneTimeCode, *, address: str = "") -> None:
    """Count one failed use of a code (a wrong code, or a refused registration)."""
    OneTimeCode.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
    record_address_failure(address)


def check_code(*, phone: str, purpose: str, code: str, address: str = "") -> OneTimeCode:
    """The live code record matching code, not yet used; or raise CodeError.

    A wrong code spends one of the code's tries and counts against the address.
    """
    check_address_allowed(address)
    record = (
        OneTimeCode.objects.filter(phone_hash=_phone_hash(phone), purpose=purpose)
        .order_by("-created_at", "-pk")
        .first()
    )
    if record is None:
        record_address_failure(address)
        raise CodeMissing(_("请先获取验证码"))
    if record.used_at is not None:
        raise CodeUsed(_("验证码已使用，请重新获取"))
    if record.attempts >= settings.PINGYI_OTP_MAX_ATTEMPTS:
        raise CodeWrong(_("验证码错误次数过多，请重新获取"))
    if timezone.now() >= record.expires_at:
        raise CodeExpired(_("验证码已过期，请重新获取"))
    # Reserve a try before comparing, in one conditional UPDATE: parallel guesses cannot make
    # more comparisons than the code allows tries, whatever each of them read above.
    tries = OneTimeCode.objects.filter(pk=record.pk)
    if not tries.filter(attempts__lt=settings.PINGYI_OTP_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    ):
        raise CodeWrong(_("验证码错误次数过多，请重新获取"))
    expected = _code_hash(phone=phone, purpose=purpose, code=code.strip())
    if not hmac.compare_digest(record.code_hash, expected):
        record_address_failure(address)
        record.refresh_from_db(fields=["attempts"])
        left = settings.PINGYI_OTP_MAX_ATTEMPTS - record.attempts
        if left <= 0:
            raise CodeWrong(_("验证码不正确，错误次数过多，请重新获取"))
        raise CodeWrong(_("验证码不正确，还可以再试 %(count)d 次") % {"count": left})
    tries.update(attempts=F("attempts") - 1)  # the right code costs no try
    return record


def use_code(record: OneTimeCode) -> None:
    """Mark a checked code used; raise CodeUsed when another request used it first."""
    updated = OneTimeCode.objects.filter(pk=record.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not updated:
        raise CodeUsed(_("验证码已使用，请重新获取"))


def discard(record: OneTimeCode) -> None:
    """Forget a code that never reached the phone (the gateway refused it)."""
    OneTimeCode.objects.filter(pk=record.pk).delete()
