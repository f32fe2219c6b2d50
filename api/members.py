"""API routes for members (the mobile app): codes, registration, login, 我的.

Members authenticate with the bearer token that registration and login return; the rules are
the same functions the H5 pages call (members.registration and friends).
"""

from datetime import datetime

from django.contrib.auth import logout as django_logout
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema, Status
from ninja.utils import check_csrf

from accounts.throttle import client_address
from members import registration
from members.corrections import (
    CorrectionError,
    count_filing,
    file_correction,
    filing_allowed,
    requests_of,
)
from members.identity import IdentityError
from members.models import CorrectionKind, Member
from members.tokens import issue_token, revoke_token, user_for_token
from members.transfer import (
    TransferError,
    find_unions,
    region_by_id,
    regions,
    transfer_member,
    union_in_region,
)
from orgs.selectors import ancestors_of

from .auth import bearer_token_of, token_or_session
from .errors import CSRF_FAILED, ApiRefusal

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
    token = bearer_token_of(request)
    if token is not None:
        revoke_token(token)
    else:
        django_logout(request)  # signed in by the session (its CSRF was checked by django_auth)
    return Status(204, None)


@router.get("/members/me", auth=token_or_session, response=MeOut, summary=gettext_lazy("我的"))
def me(request: HttpRequest):
    return me_out(current_member(request))


class RegionOut(Schema):
    id: int
    label: str


class UnionChoiceOut(Schema):
    id: int
    name: str
    parent_name: str


class TransferIn(Schema):
    region_id: int
    union_id: int  # chosen from /members/regions/{id}/unions: a typed name is not accepted


class TransferOut(Schema):
    from_union: str
    union: UnionOut
    transferred_at: datetime


class CorrectionIn(Schema):
    kind: str  # mismatch | missing | details
    name: str
    id_number: str
    phone: str = ""
    region_id: int
    union_id: int
    note: str = ""


class CorrectionOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    union_name: str
    name: str
    id_masked: str
    submitted_at: datetime
    decided_at: datetime | None
    decision_reason: str


def _optional_member(request: HttpRequest) -> Member | None:
    """The member calling, by token or session, on routes open to visitors too."""
    token = bearer_token_of(request)
    if token is not None:
        user = user_for_token(token)
        if user is None:
            raise ApiRefusal(401, "not_authenticated", _("登录已失效，请重新登录"))
        return registration.member_of(user)
    # The session acts for the member, so a change it makes must carry the CSRF token, as on
    # the routes that authenticate with django_auth: another site cannot post in their name.
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.user.is_authenticated
        and check_csrf(request) is not None
    ):
        raise ApiRefusal(403, "csrf_failed", str(CSRF_FAILED))
    return registration.member_of(request.user)


def _correction_out(request) -> CorrectionOut:
    return CorrectionOut(
        id=request.pk,
        kind=request.kind,
        kind_label=str(request.get_kind_display()),
        status=request.status,
        status_label=str(request.get_status_display()),
        union_name=request.org.name,
        name=request.name,
        id_masked=request.id_masked,
        submitted_at=request.submitted_at,
        decided_at=request.decided_at,
        decision_reason=request.decision_reason,
    )


@router.get(
    "/members/regions",
    auth=None,
    response=list[RegionOut],
    summary=gettext_lazy("转会与信息更正：可选的所在地区"),
)
def member_regions(request: HttpRequest):
    member = _optional_member(request)
    return [RegionOut(id=r.pk, label=r.label) for r in regions(member.org if member else None)]


@router.get(
    "/members/regions/{region_id}/unions",
    auth=None,
    response=list[UnionChoiceOut],
    summary=gettext_lazy("按关键词查找地区内的基层工会（最多 20 个）"),
)
def member_region_unions(request: HttpRequest, region_id: int, q: str = ""):
    member = _optional_member(request)
    region = region_by_id(region_id, member.org if member else None)
    if region is None:
        raise ApiRefusal(404, "not_found", _("没有这个地区，请从地区列表中选择"))
    # No union's name holds a control character, and PostgreSQL would refuse a NUL in the search.
    keyword = "".join(ch for ch in q if ch.isprintable())
    return [
        UnionChoiceOut(id=c.org.pk, name=c.org.name, parent_name=c.parent_name)
        for c in find_unions(region.org, keyword)
    ]


@router.post(
    "/members/me/transfer",
    auth=token_or_session,
    response=TransferOut,
    summary=gettext_lazy("我要转会（立即生效）"),
)
def member_transfer(request: HttpRequest, payload: TransferIn):
    member = current_member(request)
    region = region_by_id(payload.region_id, member.org)
    if region is None:
        raise ApiRefusal(400, "invalid", _("请先选择所在地区"), field="region_id")
    union = union_in_region(region.org, payload.union_id)
    if union is None:
        raise ApiRefusal(
            400,
            "invalid",
            _("请在查找结果中选择工会（必须在列表里选择，自行输入的名称无效）"),
            field="union_id",
        )
    try:
        done = transfer_member(
            member=member,
            to_org=union,
            by=request.user,
            address=client_address(request),
            region=region.org,
        )
    except TransferError as error:
        raise ApiRefusal(400, "refused", str(error)) from None
    member.refresh_from_db()
    return TransferOut(
        from_union=done.from_org.name,
        union=me_out(member).union,
        transferred_at=done.transferred_at,
    )


@router.post(
    "/members/corrections",
    auth=None,
    response={201: CorrectionOut},
    summary=gettext_lazy("提交信息更正申请（未注册的访客也可提交）"),
)
def member_file_correction(request: HttpRequest, payload: CorrectionIn):
    member = _optional_member(request)
    if payload.kind not in CorrectionKind.values:
        raise ApiRefusal(400, "invalid", _("请选择更正类型"), field="kind")
    region = region_by_id(payload.region_id, member.org if member else None)
    union = union_in_region(region.org, payload.union_id) if region else None
    if union is None:
        raise ApiRefusal(400, "invalid", _("请在查找结果中选择您所在的工会"), field="union_id")
    address = client_address(request)
    if not filing_allowed(address):
        raise ApiRefusal(429, "rate_limited", _("提交过于频繁，请一小时后再试"))
    count_filing(address)
    try:
        filed = file_correction(
            kind=payload.kind,
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            org=union,
            note=payload.note,
            member=member,
            submitted_by=member.user if member else None,
            address=address,
        )
    except (IdentityError, CorrectionError) as error:
        raise ApiRefusal(400, "refused", str(error)) from None
    return Status(201, _correction_out(filed))


@router.get(
    "/members/me/corrections",
    auth=token_or_session,
    response=list[CorrectionOut],
    summary=gettext_lazy("我的更正申请"),
)
def member_corrections(request: HttpRequest):
    member = current_member(request)
    return [_correction_out(r) for r in requests_of(member, request.user)]
