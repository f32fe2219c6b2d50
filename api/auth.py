"""API authentication: a bearer token (the mobile app) or the browser's session (the console)."""

from ninja.security import HttpBearer, django_auth

from members.tokens import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = user_for_token(token)
        if user is None:
            return None
        # Routes read request.user whichever way the caller signed in.
        request.user = user
        return user


bearer_token = BearerToken()
# Tried in order: a token when the request carries one, else the session (with its CSRF check).
token_or_session = [bearer_token, django_auth]


def bearer_token_of(request) -> str | None:
    """The token of the request's `Authorization: Bearer …` header, or None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None
