"""Reads of the roster shared by pages, exports and the API."""

from django.db.models import QuerySet

from orgs.scoping import restrict_to_scope

from . import crypto
from .models import Member


def member_by_id_number(number: str) -> Member | None:
    """The roster entry of a canonical 18-character ID number, found through its keyed hash."""
    return (
        Member.objects.select_related("org")
        .filter(id_hash=crypto.lookup_hash("id", number))
        .first()
    )


def registered_member_by_phone(number: str) -> Member | None:
    return (
        Member.objects.select_related("org", "user")
        .filter(phone_hash=crypto.lookup_hash("phone", number), user__isnull=False)
        .first()
    )


def members_in_scope(user) -> QuerySet[Member]:
    """The roster an admin may read: the members of unions in their subtree."""
    return restrict_to_scope(Member.objects.select_related("org"), user, org_field="org")
