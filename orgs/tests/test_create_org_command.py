"""Operators create a root federation and units from the command line."""

import pytest
from django.core.management import CommandError, call_command

from orgs.models import Org, OrgKind
from orgs.selectors import children_of

pytestmark = pytest.mark.django_db


def test_create_a_root_and_a_unit_under_it():
    call_command("create_org", name="扬州市总工会", code="321000")
    call_command("create_org", name=" 仪征市 总工会", parent="321000", kind="federation")
    root = Org.objects.get(code="321000")
    assert root.kind == OrgKind.FEDERATION and root.depth == 1
    [child] = children_of(root)
    assert (child.name, child.code, child.kind) == ("仪征市总工会", "321000-001", "federation")


def test_a_unit_kind_is_inferred_from_its_name(world):
    call_command("create_org", name="青山镇", parent=world.city.code)
    assert children_of(world.city).get(name="青山镇").kind == OrgKind.TOWN


def test_refusals_name_the_fault(world):
    with pytest.raises(CommandError, match="须给出 --code"):
        call_command("create_org", name="某总工会")
    with pytest.raises(CommandError, match="组织代码“321081”已被使用"):
        call_command("create_org", name="某总工会", code="321081")
    with pytest.raises(CommandError, match="找不到组织代码为“999”的上级组织"):
        call_command("create_org", name="某镇", parent="999")
    with pytest.raises(CommandError, match="“仪征市总工会”下已有名为“真州镇”的组织"):
        call_command("create_org", name="真州 镇", parent=world.city.code)


def test_a_taken_code_is_skipped(world):
    call_command("create_org", name="占号工会", parent=world.town.code, code="321081-001-004")
    call_command("create_org", name="青山镇中学工会", parent=world.town.code)
    assert children_of(world.town).get(name="青山镇中学工会").code == "321081-001-005"
