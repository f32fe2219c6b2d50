"""Who may read and act on a case: the scope of orgs.scoping, and which side of the case.

- Reading: any role whose subtree holds the evaluated union (viewers included).
- Handling (verify, reply, return visit, the ledger): a managing admin of the union or above;
  once the member's 不满意 has reopened the case, of the parent org it went to or above.
- Appealing: the union's side only (a managing admin who reaches the union but not its
  parent), so whoever files an appeal never decides it.
- Deciding an appeal: a managing admin of the union's parent org or above.
"""

from django.db.models import QuerySet

from accounts.models import MANAGING_ROLES
from orgs.models import Org
from orgs.scoping import in_scope, restrict_to_scope

from .models import Case


def cases_in_scope(user) -> QuerySet[Case]:
    return restrict_to_scope(Case.objects.all(), user)


def parent_org(case: Case) -> Org | None:
    """The evaluated union's parent (read by path, so a stale in-memory node is no matter)."""
    cached = getattr(case, "_parent_org", None)
    if cached is None:
        if case.escalated_to_id is not None and case.escalated_to.path == case.org.parent_path:
            cached = case.escalated_to
        else:
            cached = Org.objects.filter(path=case.org.parent_path).first() or False
        case._parent_org = cached
    return cached or None


def handler_org(case: Case) -> Org:
    if case.reopen_count and case.escalated_to_id is not None:
        return case.escalated_to
    return case.org


def can_handle(user, case: Case) -> bool:
    return in_scope(user, handler_org(case), MANAGING_ROLES)


def can_decide_appeal(user, case: Case) -> bool:
    parent = parent_org(case)
    return parent is not None and in_scope(user, parent, MANAGING_ROLES)


def can_appeal(user, case: Case) -> bool:
    return in_scope(user, case.org, MANAGING_ROLES) and not can_decide_appeal(user, case)


def can_see_contact(user, case: Case) -> bool:
    """The member's name and masked phone, for the return visit they agreed to: only to those
    handling the case, and only while it is open."""
    return case.is_open and case.evaluation.return_visit and can_handle(user, case)
