"""信息更正: a person asks that the roster hold them correctly; service staff or admins decide.

A request carries the correct name and ID number (and a phone to tell the outcome). Approving
it corrects the roster entry it concerns — the member who filed it while logged in, the one the
decider picked, or the one holding the request's ID number — or, when there is none, puts the
person on the request's union's roster. Every decision is audited and told to the person by SMS.
"""

import hashlib
import logging

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from orgs.models import Org, OrgKind
from orgs.scoping import in_scope

from . import crypto
from .audit import record_audit
from .identity import IdentityError, parse_id_number, parse_mobile, parse_name
from .models import AuditAction, CorrectionKind, CorrectionRequest, CorrectionStatus, Member
from .permissions import can_work_corrections
from .selectors import member_by_id_number
from .services import add_member
from .sms import SmsError, send_sms

logger = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 500


MAX_REASON_LENGTH = 500
# Filing is open to visitors (who failed to register have no account), so an address may file
# only a few requests an hour: enough for a family or an office behind one NAT.
FILINGS_PER_ADDRESS = 10
FILING_WINDOW_SECONDS = 60 * 60


def _pending_message() -> str:
    return _("该身份证号码已有一份待处理的更正申请，请耐心等待处理结果，无需重复提交")


class CorrectionError(ValueError):
    """A request that cannot be filed or decided; str() is the message for the user."""


def _filing_key(address: str) -> str:
    return f"correction-filing:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def filing_allowed(address: str) -> bool:
    """False once the address filed FILINGS_PER_ADDRESS requests within the window."""
    return not address or cache.get(_filing_key(address), 0) < FILINGS_PER_ADDRESS


def count_filing(address: str) -> None:
    if not address:
        return
    key = _filing_key(address)
    cache.add(key, 0, FILING_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, FILING_WINDOW_SECONDS)


@sensitive_variables("id_number", "phone", "parsed")
@transaction.atomic
def file_correction(
    *,
    kind: str,
    name: str,
    id_number: str,
    phone: str,
    org: Org,
    note: str = "",
    member: Member | None = None,
    submitted_by=None,
    address: str = "",
) -> CorrectionRequest:
    """Record a request; bad identity values raise IdentityError, other refusals CorrectionError.

    The request is linked to the member who filed it while logged in or, failing that, to the
    roster entry holding the given ID number. One pending request per ID number at a time.
    """
    if kind not in CorrectionKind.values:
        raise CorrectionError(_("请选择更正类型"))
    if org.kind != OrgKind.GRASSROOTS:
        raise CorrectionError(_("请在列表中选择您所在的基层工会"))
    parsed = parse_id_number(id_number)
    clean_name = parse_name(name)
    clean_phone = parse_mobile(phone) if phone else ""
    if not clean_phone and (member is None or not member.phone_cipher):
        raise IdentityError(_("请填写联系电话，处理结果将以短信告知"))
    if len(note) > MAX_NOTE_LENGTH:
        raise CorrectionError(_("说明不超过 %(max)d 个字") % {"max": MAX_NOTE_LENGTH})
    id_hash = crypto.lookup_hash("id", parsed.number)
    if CorrectionRequest.objects.filter(id_hash=id_hash, status=CorrectionStatus.PENDING).exists():
        raise CorrectionError(_pending_message())
    if member is None:
        member = member_by_id_number(parsed.number)
    request = CorrectionRequest(
        kind=kind,
        member=member,
        org=org,
        name=clean_name,
        note=note.strip(),
        submitted_by=submitted_by
        if submitted_by is not None and submitted_by.is_authenticated
        else None,
    )
    request.set_id_number(parsed.number)
    request.set_phone(clean_phone)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        # Two filings of one ID at the same moment: the database keeps the first.
        raise CorrectionError(_pending_message()) from None
    return request


def roster_candidates(request: CorrectionRequest) -> list[Member]:
    """Roster entries of the request's union bearing the request's name: the ones whose ID is
    wrong, for the decider to pick when the request is linked to no member."""
    return list(
        Member.objects.filter(org=request.org, name=request.name)
        .exclude(id_hash=request.id_hash)
        .order_by("pk")[:20]
    )


def _lock_pending(request: CorrectionRequest) -> CorrectionRequest:
    # Only the request's row is locked (a nullable join cannot be locked on PostgreSQL).
    locked = (
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("org", "member")
        .get(pk=request.pk)
    )
    if locked.status != CorrectionStatus.PENDING:
        raise CorrectionError(_("该申请已处理，请刷新页面查看结果"))
    return locked


def _check_decider(by, request: CorrectionRequest) -> None:
    if by is not None and not can_work_corrections(by, request.org):
        raise CorrectionError(_("您无权处理该工会的更正申请"))


@sensitive_variables("number", "parsed")
def approve_correction(
    *, request: CorrectionRequest, by, member: Member | None = None, address: str = ""
) -> CorrectionRequest:
    """Correct the roster as the request asks, audit the change and tell the person by SMS.

    The entry corrected is `member` (picked by the decider), else the request's linked member,
    else the one holding the request's ID number; with none, the person is added to the
    request's union. A new ID number that belongs to another member is refused.
    """
    with transaction.atomic():
        request = _lock_pending(request)
        _check_decider(by, request)
        number = request.id_number
        parsed = parse_id_number(number)
        target = member or request.member or member_by_id_number(number)
        if target is not None:
            target = (
                Member.objects.select_for_update(of=("self",))
                .select_related("org")
                .get(pk=target.pk)
            )
            # Corrected through a correction role (not a viewer's), and never named when outside.
            if by is not None and not can_work_corrections(by, target.org):
                raise CorrectionError(
                    _("要更正的会员不在您可处理的范围内，请联系上级工会或客服处理")
                )
            holder = member_by_id_number(number)
            if holder is not None and holder.pk != target.pk:
                if by is not None and in_scope(by, holder.org):
                    raise CorrectionError(
                        _(
                            "该身份证号码已属于名册中的另一位会员（%(name)s，%(union)s），请核实后处理"
                        )
                        % {"name": holder.name, "union": holder.org.name}
                    )
                # Outside the decider's subtree the holder is not theirs to learn about.
                raise CorrectionError(
                    _("该身份证号码已属于其他工会名册中的会员，请联系上级工会或客服核实后处理")
                )
            before_name, before_number = target.name, target.id_number
            target.name = request.name
            target.set_id_number(parsed.number)
            target.sex, target.birth_date = parsed.sex, parsed.birth_date
            target.save()
            changes = {}
            if before_name != target.name:
                changes["name"] = (before_name, target.name)
            if before_number != parsed.number:
                changes["id_number"] = (before_number, parsed.number)
            record_audit(
                action=AuditAction.CORRECTED,
                actor=by,
                member=target,
                changes=changes,
                note=_("信息更正申请 %(number)s") % {"number": request.pk},
                address=address,
            )
        else:
            target = add_member(
                org=request.org,
                name=request.name,
                id_number=parsed.number,
                phone=request.phone,
                actor=by,
                address=address,
            )
            record_audit(
                action=AuditAction.CORRECTED,
                actor=by,
                member=target,
                changes={"name": ("", target.name), "id_number": ("", parsed.number)},
                note=_("信息更正申请 %(number)s：补录入名册") % {"number": request.pk},
                address=address,
            )
        request.member = target
        request.status = CorrectionStatus.APPROVED
        request.decided_by = by if by is not None and by.is_authenticated else None
        request.decided_at = timezone.now()
        request.save()
    _tell(
        request,
        target,
        _(
            "您的信息更正申请已通过，名册已更正为：%(name)s，身份证号码 %(masked)s，"
            "所在工会 %(union)s。请使用正确信息注册或登录。"
        )
        % {"name": target.name, "masked": target.id_masked, "union": target.org.name},
    )
    return request


def refuse_correction(
    *, request: CorrectionRequest, by, reason: str, address: str = ""
) -> CorrectionRequest:
    """Refuse with a reason (required), audit it and tell the person the reason by SMS."""
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionError(_("请填写驳回理由，申请人会收到这条理由"))
    if len(reason) > MAX_REASON_LENGTH:
        raise CorrectionError(_("驳回理由不超过 %(max)d 个字") % {"max": MAX_REASON_LENGTH})
    with transaction.atomic():
        request = _lock_pending(request)
        _check_decider(by, request)
        request.status = CorrectionStatus.REFUSED
        request.decided_by = by if by is not None and by.is_authenticated else None
        request.decided_at = timezone.now()
        request.decision_reason = reason
        request.save()
        record_audit(
            action=AuditAction.CORRECTION_REFUSED,
            actor=by,
            member=request.member,
            org=request.org,
            note=_("信息更正申请 %(number)s：%(reason)s")
            % {"number": request.pk, "reason": reason},
            address=address,
        )
    _tell(
        request,
        request.member,
        _("您的信息更正申请未通过，原因：%(reason)s。如有疑问请联系所在工会或客服。")
        % {"reason": reason},
    )
    return request


@sensitive_variables("phone")
def _tell(request: CorrectionRequest, member: Member | None, message: str) -> None:
    """SMS the outcome to the request's phone (or the member's). A gateway failure does not
    undo the decision: the person also reads it in 我的更正申请."""
    phone = request.phone or (member.phone if member is not None else "")
    if not phone:
        return
    try:
        send_sms(phone=phone, message=message)
    except SmsError:
        logger.warning("correction %s decided; outcome SMS not sent", request.pk)


def requests_of(member: Member | None, user) -> list[CorrectionRequest]:
    """A logged-in member's requests: those linked to them and those they filed."""
    from django.db.models import Q

    q = Q(submitted_by=user)
    if member is not None:
        q |= Q(member=member)
    return list(CorrectionRequest.objects.filter(q).select_related("org").order_by("-submitted_at"))
