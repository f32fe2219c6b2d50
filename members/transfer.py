"""我要转会: a member moves to another grassroots union, picked from a list, never typed.

The member first picks a region, then types a keyword of the union's name and chooses from the
unions that match. A region is one level of the tree: the direct children of the federation
(the root) the member belongs to — for Yizheng its towns, parks, sector, direct and agency
unions, the rows of the seed's task table. Someone without a union yet (a correction request
from a visitor) picks among the children of every root. The move takes effect at once; the
evaluations given before it stay with the union they were given to (they store their own org).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.models import Org, OrgKind
from orgs.selectors import children_of, root_orgs, within
from orgs.services import normalize_org_name

from .audit import record_audit
from .counters import local_day, move_registration
from .models import AuditAction, Member, MemberStatus, MemberTransfer

MAX_KEYWORD_LENGTH = 50


class TransferError(ValueError):
    """A transfer that cannot be made; str() is the message for the member."""


@dataclass(frozen=True)
class Region:
    org: Org
    label: str  # the name, preceded by the federation's when several trees are offered

    @property
    def pk(self) -> int:
        return self.org.pk


def _root_of(org: Org) -> Org:
    return Org.objects.get(path=org.path[: Org.steplen])


def regions(member_org: Org | None = None) -> list[Region]:
    """The regions a person picks from: the children of their root (or of every root).

    Regions without any grassroots union below them (or being one) are left out: nothing could
    be chosen there.
    """
    roots = [_root_of(member_org)] if member_org is not None else list(root_orgs())
    prefix_length = 2 * Org.steplen
    result: list[Region] = []
    for root in roots:
        with_unions = set(
            Org.objects.filter(within(root), kind=OrgKind.GRASSROOTS, depth__gt=1)
            .annotate(prefix=Substr("path", 1, prefix_length))
            .values_list("prefix", flat=True)
            .distinct()
        )
        for child in children_of(root):
            if child.path in with_unions:
                label = child.name if len(roots) == 1 else f"{root.name} · {child.name}"
                result.append(Region(org=child, label=label))
    return result


def region_by_id(region_id: object, member_org: Org | None = None) -> Region | None:
    """The offered region of that id, or None (an id outside the offered level is no region)."""
    try:
        wanted = int(str(region_id))
    except (TypeError, ValueError):
        return None
    return next((r for r in regions(member_org) if r.org.pk == wanted), None)


@dataclass(frozen=True)
class UnionChoice:
    org: Org
    parent_name: str  # the unit above it inside the region ("" when right below the region)


def find_unions(region: Org, keyword: str, limit: int = 20) -> list[UnionChoice]:
    """Grassroots unions in the region's subtree whose (normalised) name contains the keyword.

    An empty keyword finds nothing: the member types part of the name, as the seed describes.
    One more than `limit` is never returned; callers ask for limit + 1 to know there are more.
    """
    # Control characters (a NUL from a crafted URL) match no name, and PostgreSQL refuses NUL.
    keyword = "".join(ch for ch in keyword if ch.isprintable())
    keyword = normalize_org_name(keyword)[:MAX_KEYWORD_LENGTH]
    if not keyword:
        return []
    unions = list(
        Org.objects.filter(
            within(region), kind=OrgKind.GRASSROOTS, name__contains=keyword
        ).order_by("depth", "seq", "path")[:limit]
    )
    parent_paths = {u.parent_path for u in unions if u.depth > region.depth + 1}
    names = dict(Org.objects.filter(path__in=parent_paths).values_list("path", "name"))
    return [UnionChoice(org=u, parent_name=names.get(u.parent_path, "")) for u in unions]


def union_in_region(region: Org, org_id: object) -> Org | None:
    """The grassroots union of that id inside the region, or None (typed text, a wrong id)."""
    try:
        wanted = int(str(org_id))
    except (TypeError, ValueError):
        return None
    return Org.objects.filter(within(region), kind=OrgKind.GRASSROOTS, pk=wanted).first()


def last_transfer(member: Member) -> MemberTransfer | None:
    return member.transfers.select_related("from_org", "to_org").first()


@transaction.atomic
def transfer_member(
    *, member: Member, to_org: Org, by=None, address: str = "", region: Org | None = None
) -> MemberTransfer:
    """Move the member to another grassroots union at once; record the move and audit it.

    Refused (TransferError): a target that is not a grassroots union, outside the given region,
    the member's own union, or a member who has left.
    """
    member = Member.objects.select_for_update(of=("self",)).select_related("org").get(pk=member.pk)
    if to_org.kind != OrgKind.GRASSROOTS:
        raise TransferError(_("只能转入基层工会，请在列表中选择具体的工会"))
    if region is not None and not region.contains(to_org):
        raise TransferError(_("所选工会不在所选地区内，请重新选择"))
    if member.status != MemberStatus.ACTIVE:
        raise TransferError(_("您已离会，不能办理转会；如有疑问请联系工会管理员"))
    if member.org_id == to_org.pk:
        raise TransferError(_("您已在“%(union)s”，无需转会") % {"union": to_org.name})
    from_org = member.org
    member.org = to_org
    member.save(update_fields=["org", "updated_at"])
    if member.registered_at is not None:  # reports' 已注册 follows the member, same transaction
        move_registration(from_org=from_org, to_org=to_org, day=local_day(timezone.now()))
    transfer = MemberTransfer.objects.create(
        member=member,
        from_org=from_org,
        to_org=to_org,
        by=by if by is not None and by.is_authenticated else None,
    )
    record_audit(
        action=AuditAction.TRANSFERRED,
        actor=by,
        member=member,
        org=to_org,
        changes={"org": (from_org.name, to_org.name)},
        note=_("由“%(from)s”转入") % {"from": from_org.name},
        address=address,
    )
    return transfer
