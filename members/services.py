"""Changes to the roster that every path shares (import, registration, corrections, demo)."""

from datetime import date

from django.db import transaction

from orgs.models import Org

from .audit import record_audit
from .identity import parse_id_number, parse_mobile, parse_name
from .models import AuditAction, Member


@transaction.atomic
def add_member(
    *,
    org: Org,
    name: str,
    id_number: str,
    phone: str = "",
    joined_on: date | None = None,
    actor=None,
    address: str = "",
) -> Member:
    """Put one person on a union's roster (values are parsed, so bad input raises IdentityError)."""
    parsed = parse_id_number(id_number)
    member = Member(
        org=org,
        name=parse_name(name),
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        joined_on=joined_on,
    )
    member.set_id_number(parsed.number)
    member.set_phone(parse_mobile(phone) if phone else "")
    member.save()
    record_audit(
        action=AuditAction.ROSTER_CREATED,
        actor=actor,
        member=member,
        changes={"name": ("", member.name), "id_number": ("", parsed.number)},
        address=address,
    )
    return member
