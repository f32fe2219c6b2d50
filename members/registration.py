"""Members' real-name registration (实名注册) and login by one-time code.

Plain functions for the H5 pages and the JSON API alike: keyword arguments in, a Member or User
out, and a refusal raised as RegistrationError, otp.CodeError or sms.SmsError (AUTH_ERRORS).
Each carries `code` (a reason for machines), `field` (the form field, or None) and a Chinese
message as str(). The caller logs the user in (a session on the web, a token on the API).
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import otp
from .audit import record_audit
from .counters import add_registration, local_day
from .identity import IdentityError, parse_id_number, parse_mobile, parse_name
from .models import AuditAction, CodePurpose, Member, MemberStatus
from .selectors import member_by_id_number, registered_member_by_phone
from .sms import SmsError, send_sms

logger = logging.getLogger(__name__)

# The backend that logs a member's User in: members have no password; the code is the proof.
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


class RegistrationError(Exception):
    """A registration or login refused; str() is the message for the member."""

    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field


class InvalidInput(RegistrationError):
    code = "invalid"


class NotOnRoster(RegistrationError):
    """The ID number is on no union's roster: the member may ask for a correction (missing)."""

    code = "not_on_roster"
    field = "id_number"
    correction_kind = "missing"


class NameMismatch(RegistrationError):
    """The ID number is on the roster under another name: a correction (mismatch) may fix it."""

    code = "name_mismatch"
    field = "name"
    correction_kind = "mismatch"


class AlreadyRegistered(RegistrationError):
    code = "already_registered"
    field = "id_number"


class MemberLeft(RegistrationError):
    code = "member_left"
    field = "id_number"


class PhoneTaken(RegistrationError):
    code = "phone_taken"
    field = "phone"


class PhoneNotRegistered(RegistrationError):
    code = "phone_not_registered"
    field = "phone"


class AccountDisabled(RegistrationError):
    code = "account_disabled"


AUTH_ERRORS = (RegistrationError, otp.CodeError, SmsError)


def _parse(parser, value: object, field: str) -> str:
    try:
        return parser(value)
    except IdentityError as error:
        raise InvalidInput(str(error), field=field) from None


def _code_message(*, purpose: str, code: str) -> str:
    return _("您的%(purpose)s验证码是 %(code)s，%(minutes)d 分钟内有效，请勿告诉他人。") % {
        "purpose": CodePurpose(purpose).label,
        "code": code,
        "minutes": settings.PINGYI_OTP_TTL_SECONDS // 60,
    }


def send_code(*, phone: str, purpose: str, address: str = "") -> otp.IssuedCode:
    """Send a one-time code for registering ("register") or logging in ("login").

    Refused when the phone or address asked too often (CodeRateLimited), when a login code is
    asked for a phone no member registered (PhoneNotRegistered), when a registration code is
    asked for a phone already registered (PhoneTaken), or when the gateway fails (SmsError).
    """
    if purpose not in CodePurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    phone = _parse(parse_mobile, phone, "phone")
    # The address is counted first, refusals included: it bounds asking which phones registered.
    otp.check_address_send_allowed(address)
    otp.count_send_request(address=address)
    registered = registered_member_by_phone(phone)
    if purpose == CodePurpose.LOGIN and registered is None:
        raise PhoneNotRegistered(_("该手机号尚未注册，请先注册"))
    if purpose == CodePurpose.REGISTER and registered is not None:
        raise PhoneTaken(_("该手机号已注册，请直接用手机号登录"))
    otp.check_phone_send_allowed(phone)
    code, record = otp.issue_code(phone=phone, purpose=purpose, address=address)
    try:
        send_sms(phone=phone, message=_code_message(purpose=purpose, code=code))
    except SmsError:
        otp.discard(record)  # never reached the phone: it must not block the next try
        raise
    return otp.describe(record, phone=phone)


def register_member(
    *, name: str, id_number: str, phone: str, code: str, address: str = ""
) -> Member:
    """Bind a new account to the roster entry matching name + ID number, proved by the code.

    Returns the member, its `user` set. The code is checked first (a wrong one spends a try);
    each refusal after that (not on the roster, another name…) spends a try of the code too, so
    one code cannot probe the roster more than a few times. The code is used up on success only,
    so a member who mistyped their name corrects it and submits again.
    """
    name = _parse(parse_name, name, "name")
    number = _parse(parse_id_number, id_number, "id_number").number
    phone = _parse(parse_mobile, phone, "phone")
    record = otp.check_code(
        phone=phone, purpose=CodePurpose.REGISTER, code=str(code), address=address
    )
    try:
        member = _matching_member(name=name, number=number, phone=phone)
    except RegistrationError:
        otp.spend_attempt(record, address=address)
        raise
    try:
        with transaction.atomic():
            member = _bind_account(member=member, phone=phone, record=record, address=address)
    except IntegrityError:
        # Another request registered this member (or this phone) between our check and write.
        logger.info("registration lost a race for member %s", member.pk)
        if registered_member_by_phone(phone) not in (None, member):
            raise PhoneTaken(_("该手机号已被其他会员注册，请换一个手机号")) from None
        raise AlreadyRegistered(_("该身份证号码已注册，请直接登录")) from None
    return member


def _matching_member(*, name: str, number: str, phone: str) -> Member:
    member = member_by_id_number(number)
    if member is None:
        raise NotOnRoster(
            _(
                "名册中没有找到这个身份证号码。请确认号码无误；如果确实是工会会员，"
                "可以申请信息更正，由工会核实后补录。"
            )
        )
    if member.name != name:
        raise NameMismatch(
            _("姓名与名册登记的不一致。请确认姓名无误；如果名册登记有误，可以申请信息更正。")
        )
    if member.status == MemberStatus.LEFT:
        raise MemberLeft(_("名册显示您已离会，不能注册；如有疑问请联系所在工会"))
    if member.is_registered:
        raise AlreadyRegistered(_("该身份证号码已注册，请直接登录"))
    other = registered_member_by_phone(phone)
    if other is not None and other.pk != member.pk:
        raise PhoneTaken(
            _("该手机号已被其他会员注册，请换一个手机号；如果这是您的手机号，请联系客服")
        )
    return member


def _bind_account(*, member: Member, phone: str, record, address: str) -> Member:
    # The row lock (PostgreSQL) and the conditional update (everywhere) make sure two
    # simultaneous registrations of one member leave exactly one account.
    member = Member.objects.select_for_update().select_related("org").get(pk=member.pk)
    if member.is_registered:
        raise AlreadyRegistered(_("该身份证号码已注册，请直接登录"))
    otp.use_code(record)
    now = timezone.now()
    user = get_user_model().objects.create_user(
        username=f"m{member.pk}", password=None, display_name=member.name
    )
    old_phone = member.phone
    member.set_phone(phone)
    updated = Member.objects.filter(pk=member.pk, user__isnull=True).update(
        user=user,
        registered_at=now,
        phone_cipher=member.phone_cipher,
        phone_hash=member.phone_hash,
        phone_masked=member.phone_masked,
        updated_at=now,
    )
    if not updated:
        raise AlreadyRegistered(_("该身份证号码已注册，请直接登录"))
    member.user, member.registered_at = user, now
    add_registration(org=member.org, day=local_day(now))  # reports' 已注册, same transaction
    changes = {"phone": (old_phone, phone)} if old_phone != phone else {}
    record_audit(
        action=AuditAction.REGISTERED,
        actor=user,
        member=member,
        changes=changes,
        note=_("手机号验证后实名注册"),
        address=address,
    )
    return member


def login_with_code(*, phone: str, code: str, address: str = "") -> Member:
    """The registered member whose phone the code proves; the caller logs member.user in."""
    phone = _parse(parse_mobile, phone, "phone")
    otp.check_address_allowed(address)
    member = registered_member_by_phone(phone)
    if member is None:
        otp.record_address_failure(address)
        raise PhoneNotRegistered(_("该手机号尚未注册，请先注册"))
    record = otp.check_code(phone=phone, purpose=CodePurpose.LOGIN, code=str(code), address=address)
    if not member.user.is_active:
        raise AccountDisabled(_("该账号已停用，请联系客服"))
    otp.use_code(record)
    return member


def member_of(user) -> Member | None:
    """The roster entry a logged-in user registered as, or None (an admin, an anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("org").filter(user=user).first()
