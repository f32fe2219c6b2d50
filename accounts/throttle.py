"""Failed-login throttle: a password cannot be guessed faster than a few tries a quarter hour.

Counted per username and per network address in the cache (Redis in production, so every app
server sees the same count); a success clears the username's count.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
# One address may try more usernames (an office behind one NAT), but not without bound.
MAX_FAILURES_PER_ADDRESS = 30


def _key(kind: str, value: str) -> str:
    # Hashed: usernames and addresses are not written to the cache in clear.
    return f"login-fail:{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()[:32]}"


def client_address(request) -> str:
    """The client's address; behind the proxy, the one the proxy appended to X-Forwarded-For.

    Only the last entry is trusted: anything before it was written by the client.
    """
    if request is None:
        return ""
    if settings.PINGYI_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def is_locked(*, username: str, address: str) -> bool:
    return (cache.get(_key("user", username), 0) >= MAX_FAILURES) or (
        bool(address) and cache.get(_key("addr", address), 0) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(*, username: str, address: str) -> None:
    for key in (_key("user", username), _key("addr", address) if address else None):
        if key is None:
            continue
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)


def clear_failures(*, username: str) -> None:
    cache.delete(_key("user", username))
