"""The H5 评议 form: its signed token, and what the member filled in read back into Answers.

The token is issued with the form and posted back with it. Its signature ties it to one member
and one campaign; its timestamp says when the form was opened; its digest is the request key, so
a double tap or a resubmitted page resolves to the evaluation the first one stored. A missing or
broken token never blocks a submission: it is then one without a key.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing

from .selectors import Questionnaire
from .services import Answers

TOKEN_FIELD = "form_token"
# A random id the form's browser keeps, so that integrity review can tell one phone used for
# many members' accounts (evaluations.integrity). Stored only as a keyed digest, with the trace.
DEVICE_COOKIE = "pingyi_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


def keep_device_cookie(request, response):
    """Give the browser a device id if it has none (the form page sets it, its post reads it)."""
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def _signer() -> signing.TimestampSigner:
    # Made per use: it reads SECRET_KEY and its fallbacks, which a key rotation changes.
    return signing.TimestampSigner(salt="evaluations.h5.form")


def form_token(*, member, campaign) -> str:
    return _signer().sign_object({"campaign": campaign.pk, "member": member.pk})


@dataclass
class FormToken:
    value: str
    request_key: str
    opened_at: datetime | None


def read_form_token(value: str, *, member, campaign) -> FormToken | None:
    """The posted token if it is ours and was issued to this member for this campaign."""
    if not value:
        return None
    signer = _signer()
    try:
        payload = signer.unsign_object(value)
        stamp = signing.b62_decode(value.rsplit(signer.sep, 2)[-2])
    except (signing.BadSignature, ValueError, IndexError):
        return None
    if payload != {"campaign": campaign.pk, "member": member.pk}:
        return None
    return FormToken(
        value=value,
        request_key=hashlib.sha256(value.encode()).hexdigest(),
        opened_at=datetime.fromtimestamp(stamp, tz=UTC),
    )


def _rating(value: str | None) -> int | str | None:
    """'4' → 4; nothing → None; anything else is passed on as typed for the service to name."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def item_field(question) -> str:
    """The form field of a work item, named like the service's error keys."""
    return f"item_{question.pk}"


@dataclass
class Filled:
    """What the form holds: posted values, or nothing yet; kept when the page comes back."""

    overall: int | str | None = None
    ratings: dict[int, int | str | None] = field(default_factory=dict)
    suggestion: str = ""
    return_visit: bool = False

    def answers(self) -> Answers:
        return Answers(
            overall=self.overall,
            ratings=self.ratings,
            suggestion=self.suggestion,
            return_visit=self.return_visit,
        )


def read_filled(data, questionnaire: Questionnaire) -> Filled:
    """The posted form: only the campaign's own items are read."""
    return Filled(
        overall=_rating(data.get("overall")),
        ratings={q.pk: _rating(data.get(item_field(q))) for q in questionnaire.items},
        suggestion=data.get("suggestion", ""),
        return_visit=data.get("return_visit") in ("1", "on", "true"),
    )
