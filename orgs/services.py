"""Rules that change the union tree: creating orgs, naming them, recording reported members."""

import re
import unicodedata

from django.db import transaction

from .models import Org, OrgKind, ReportedMembers

_SPACES = re.compile(r"\s+")


def normalize_org_name(raw: object) -> str:
    """The canonical form of an org name as typed or printed in a spreadsheet.

    Full-width letters, digits and brackets become half-width (NFKC) and every space goes,
    so that "城市发展投资控股集团有限\\n公司" and "江苏有线（仪征）" match their stored names.
    """
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return _SPACES.sub("", text)


# Order matters: the first rule whose word the name contains decides.
_KIND_RULES: list[tuple[tuple[str, ...], str]] = [
    (("园区", "开发区", "工业园", "度假区", "高新区"), OrgKind.PARK),
    (("公司", "集团", "银行", "企业", "厂"), OrgKind.ENTERPRISE),
    (("镇", "街道", "乡"), OrgKind.TOWN),
    (("行业", "联合会", "系统"), OrgKind.SECTOR),
    (
        ("局", "办", "委", "部", "院", "馆", "中心", "社", "会", "校", "所", "站", "联", "协"),
        OrgKind.AGENCY,
    ),
]


def infer_org_kind(name: str, *, parent: Org | None) -> str:
    """Guess an org's kind from its name, as a union office would read it.

    An enterprise right under a federation is one of its 直属工会; deeper, or when no word
    fits, a unit under a town or park is a grassroots union.
    """
    for words, kind in _KIND_RULES:
        if any(word in name for word in words):
            if (
                kind == OrgKind.ENTERPRISE
                and parent is not None
                and parent.kind == OrgKind.FEDERATION
            ):
                return OrgKind.DIRECT
            return kind
    if parent is not None and parent.kind == OrgKind.FEDERATION:
        return OrgKind.DIRECT
    return OrgKind.GRASSROOTS


def next_child_code(parent: Org) -> str:
    """A free code under the parent: the parent's code and a three-digit running number.

    Looked up one candidate at a time: loading every code below the parent would read the
    whole subtree (150,000 codes under a province) to add one unit.
    """
    n = parent.numchild + 1
    while Org.objects.filter(code=f"{parent.code}-{n:03d}").exists():
        n += 1
    return f"{parent.code}-{n:03d}"


@transaction.atomic
def create_root_org(*, name: str, code: str, kind: str = OrgKind.FEDERATION) -> Org:
    return Org.objects.add_root({"name": normalize_org_name(name), "code": code, "kind": kind})


@transaction.atomic
def create_child_org(
    *, parent: Org, name: str, kind: str | None = None, code: str | None = None, seq: int = 0
) -> Org:
    name = normalize_org_name(name)
    # Re-read the parent: treebeard's add_child needs its current child count.
    parent = Org.objects.select_for_update().get(pk=parent.pk)
    return Org.objects.add_child(
        parent,
        {
            "name": name,
            "kind": kind or infer_org_kind(name, parent=parent),
            "code": code or next_child_code(parent),
            "seq": seq,
        },
    )


def set_reported_members(*, org: Org, year: int, count: int) -> bool:
    """Record an org's reported membership for a year; True when something changed."""
    obj, created = ReportedMembers.objects.get_or_create(
        org=org, year=year, defaults={"count": count}
    )
    if created:
        return True
    if obj.count != count:
        obj.count = count
        obj.save(update_fields=["count", "updated_at"])
        return True
    return False
