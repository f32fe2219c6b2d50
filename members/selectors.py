"""Reads of the roster shared by pages, exports and the API."""

from django.db.models import QuerySet

from orgs.models import Org
from orgs.scoping import restrict_to_scope
from orgs.selectors import within

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


def registered_count(org: Org) -> int:
    """Registered members (with an account) of the org's whole subtree: 注册率's numerator.

    Counted from the partial index member_registered_org (org_id of registered members only),
    without reading the roster's rows.
    """
    return Member.objects.filter(within(org, "org__path"), user__isnull=False).count()
