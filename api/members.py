"""API routes for members (the mobile app): codes, registration, login, 我的.

Members authenticate with the bearer token that registration and login return; the rules are
the same functions the H5 pages call (members.registration and friends).
"""

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema, Status

from accounts.throttle import client_address
from members import registration
from members.models import Member
from members.tokens import issue_token, revoke_token
from orgs.selectors import ancestors_of

from .auth import token_or_session
from .errors import ApiRefusal

router = Router(tags=[gettext_lazy("会员")])

# HTTP status by the machine code of a refusal; anything else is a plain 400.
_STATUS = {
    "rate_limited": 429,
    "sms_failed": 503,
    "already_registered": 409,
    "phone_taken": 409,
    "account_disabled": 403,
}


class CodeIn(Schema):
    phone: str
    purpose: str = "login"  # "register" or "login"


class CodeOut(Schema):
    phone_masked: str
    expires_at: datetime
    resend_after: int


class RegisterIn(Schema):
    name: str
    id_number: str
    phone: str
    code: str


class LoginIn(Schema):
    phone: str
    code: str


class UnionOut(Schema):
    id: int
    name: str
    path: list[str]  # from the top of the tree down to the union


class MeOut(Schema):
    name: str
    id_masked: str
    phone_masked: str
    union: UnionOut
    registered_at: datetime | None


class SessionOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime
    member: MeOut


def refusal(error: Exception) -> ApiRefusal:
    """An error of the member services as the API answers it."""
    code = getattr(error, "code", "sms_failed")
    extra = {}
    if getattr(error, "field", None):
        extra["field"] = error.field
    if getattr(error, "retry_after", 0):
        extra["retry_after"] = error.retry_after
    if getattr(error, "correction_kind", None):
        extra["correction_kind"] = error.correction_kind
    return ApiRefusal(_STATUS.get(code, 400), code, str(error), **extra)


def me_out(member: Member) -> MeOut:
    union = member.org
    return MeOut(
        name=member.name,
        id_masked=member.id_masked,
        phone_masked=member.phone_masked,
        union=UnionOut(
            id=union.pk,
            name=union.name,
            path=[org.name for org in [*ancestors_of(union), union]],
        ),
        registered_at=member.registered_at,
    )


def current_member(request: HttpRequest) -> Member:
    member = registration.member_of(request.user)
    if member is None:
        raise ApiRefusal(403, "not_a_member", _("此接口仅供已实名注册的会员使用"))
    return member


def _session(member: Member) -> SessionOut:
    token, record = issue_token(user=member.user)
    return SessionOut(token=token, expires_at=record.expires_at, member=me_out(member))


@router.post("/members/codes", auth=None, response=CodeOut, summary=gettext_lazy("发送短信验证码"))
def send_code(request: HttpRequest, payload: CodeIn):
    if payload.purpose not in ("register", "login"):
        raise ApiRefusal(400, "invalid", _("purpose 只能是 register 或 login"), field="purpose")
    try:
        issued = registration.send_code(
            phone=payload.phone, purpose=payload.purpose, address=client_address(request)
        )
    except registration.AUTH_ERRORS as error:
        raise refusal(error) from None
    return CodeOut(
        phone_masked=issued.phone_masked,
        expires_at=issued.expires_at,
        resend_after=issued.resend_after,
    )


@router.post(
    "/members/register",
    auth=None,
    response={201: SessionOut},
    summary=gettext_lazy("实名注册（姓名 + 身份证号码 + 手机验证码），返回令牌"),
)
def register(request: HttpRequest, payload: RegisterIn):
    try:
        member = registration.register_member(
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            code=payload.code,
            address=client_address(request),
        )
    except registration.AUTH_ERRORS as error:
        raise refusal(error) from None
    return Status(201, _session(member))


@router.post(
    "/members/login",
    auth=None,
    response=SessionOut,
    summary=gettext_lazy("手机号 + 验证码登录，返回令牌"),
)
def login(request: HttpRequest, payload: LoginIn):
    try:
        member = registration.login_with_code(
            phone=payload.phone, code=payload.code, address=client_address(request)
        )
    except registration.AUTH_ERRORS as error:
        raise refusal(error) from None
    return _session(member)


@router.post(
    "/members/logout",
    auth=token_or_session,
    response={204: None},
    summary=gettext_lazy("注销当前令牌"),
)
def logout(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        revoke_token(header[7:].strip())
    return Status(204, None)


@router.get("/members/me", auth=token_or_session, response=MeOut, summary=gettext_lazy("我的"))
def me(request: HttpRequest):
    return me_out(current_member(request))
