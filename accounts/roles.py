"""Which roles an admin may hand out: never more than they hold, never outside their subtree."""

from .models import RoleKind

# A higher rank may grant every role of an equal or lower rank.
_RANK = {
    RoleKind.FEDERATION_ADMIN: 3,
    RoleKind.UNIT_ADMIN: 2,
    RoleKind.GRASSROOTS_ADMIN: 1,
    RoleKind.VIEWER: 0,
    RoleKind.SERVICE: 0,
}


def grantable_kinds(held: set[str]) -> list[str]:
    """The role kinds a user holding `held` may grant to others inside their subtree."""
    best = max((_RANK[RoleKind(k)] for k in held if _RANK[RoleKind(k)] > 0), default=0)
    if best == 0:
        return []
    return [kind for kind in RoleKind.values if _RANK[RoleKind(kind)] <= best]
