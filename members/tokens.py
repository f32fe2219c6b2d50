"""Bearer tokens of the API: issued at login, shown once, stored only as their SHA-256."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import ApiToken

# Touching last_used_at on every request would turn each read into a write.
_LAST_USED_GRANULARITY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, user) -> tuple[str, ApiToken]:
    """A new token for user and its record; the caller hands the token out once."""
    token = secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user,
        key_hash=_digest(token),
        expires_at=timezone.now() + timedelta(days=settings.PINGYI_API_TOKEN_DAYS),
    )
    return token, record


def user_for_token(token: str):
    """The active user a live token belongs to, or None."""
    if not token:
        return None
    now = timezone.now()
    record = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if record is None or not record.user.is_active:
        return None
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


def revoke_token(token: str) -> bool:
    """Log a token out; True when a live token was revoked."""
    return bool(
        ApiToken.objects.filter(key_hash=_digest(token), revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
