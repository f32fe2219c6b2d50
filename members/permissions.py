"""Who may work members' personal data: correction requests and the full ID number or phone.

Both rules follow the roles' scope (orgs.scoping): a role at an org reaches its whole subtree.
"""

from django.db.models import QuerySet

from accounts.models import MANAGING_ROLES, RoleKind
from orgs.models import Org
from orgs.scoping import in_scope, restrict_to_scope

# Admins who manage a union's roster, and service staff (客服) who correct identities.
CORRECTION_ROLES = frozenset(MANAGING_ROLES | {RoleKind.SERVICE})
# Those whose work needs the full ID number and phone (checking a person on the phone, fixing an
# import). Viewers read results only; they see masked values.
PERSONAL_DATA_ROLES = CORRECTION_ROLES


def can_work_corrections(user, org: Org) -> bool:
    """May the user approve or refuse correction requests of this union?"""
    return in_scope(user, org, CORRECTION_ROLES)


def can_see_personal_data(user, org: Org) -> bool:
    """May the user reveal a full ID number or phone of a member of this union (audited)?"""
    return in_scope(user, org, PERSONAL_DATA_ROLES)


def corrections_scope(queryset: QuerySet, user) -> QuerySet:
    """Correction requests (or audit events) of the user's correction roles' subtrees."""
    return restrict_to_scope(queryset, user, kinds=CORRECTION_ROLES)
