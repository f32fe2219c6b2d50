"""The identity audit log: every change to a member's identity says who, when and what."""

from django.db import models

from .identity import mask_id_number, mask_mobile
from .models import AuditEvent, Member

# How each identity field appears in the log: personal data masked, the rest as it is.
_MASKERS = {"id_number": mask_id_number, "phone": mask_mobile}


def masked_value(field: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, models.Model):
        return str(value)
    masker = _MASKERS.get(field)
    return masker(str(value)) if masker else str(value)


def masked_changes(changes: dict[str, tuple[object, object]]) -> dict[str, list[str]]:
    """{field: (before, after)} → {field: [before, after]}, masked, for AuditEvent.changes."""
    return {
        field: [masked_value(field, before), masked_value(field, after)]
        for field, (before, after) in changes.items()
    }


def record_audit(
    *,
    action: str,
    actor=None,
    member: Member | None = None,
    org=None,
    changes: dict[str, tuple[object, object]] | None = None,
    note: str = "",
    address: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        member=member,
        org=org if org is not None else (member.org if member is not None else None),
        changes=masked_changes(changes or {}),
        note=note[:200],
        address=address[:45],
    )
