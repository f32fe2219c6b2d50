"""The grant_role command creates admins whose scope is the named org's subtree."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from orgs.scoping import orgs_in_scope

pytestmark = pytest.mark.django_db


def test_grant_role_creates_an_admin_for_a_town(world):
    call_command(
        "grant_role", "qingshan", org=world.park.code, role="unit_admin", password="Qs-2022-pw"
    )
    user = User.objects.get(username="qingshan")
    assert user.check_password("Qs-2022-pw")
    assert {o.name for o in orgs_in_scope(user)} == {"枣林湾旅游度假区", "枣林湾酒店工会"}


def test_grant_role_refuses_an_unknown_org(world):
    with pytest.raises(CommandError, match="找不到组织代码为“999”"):
        call_command("grant_role", "x", org="999", role="viewer", password="pw-x-123456")


def test_revoke_role(world):
    call_command("grant_role", "town_admin", org=world.town.code, role="unit_admin", revoke=True)
    assert not Role.objects.filter(user=world.town_admin).exists()
