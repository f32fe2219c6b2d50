"""Admins open accounts for their sub-units' admins, and only there."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role, RoleKind, User
from orgs.scoping import orgs_in_scope

pytestmark = pytest.mark.django_db


def test_town_admin_opens_an_account_for_a_grassroots_union(world, login, client):
    response = login(world.town_admin).post(
        reverse("accounts:admin_new"),
        {
            "username": "weishengyuan",
            "display_name": "王芳",
            "org_code": world.town_union_b.code,
            "kind": "grassroots_admin",
        },
    )
    html = response.content.decode()
    assert "账号已开通" in html
    password = re.search(r"data-password>([^<]+)<", html).group(1)
    client.logout()
    assert client.login(username="weishengyuan", password=password)
    user = User.objects.get(username="weishengyuan")
    assert {o.name for o in orgs_in_scope(user)} == {"真州镇卫生院工会"}


def test_town_admin_cannot_open_an_account_outside_the_town(world, login):
    response = login(world.town_admin).post(
        reverse("accounts:admin_new"),
        {"username": "intruder", "org_code": world.park.code, "kind": "unit_admin"},
    )
    assert f"组织代码“{world.park.code}”不存在，或不在您的管理范围内" in response.content.decode()
    assert not User.objects.filter(username="intruder").exists()


def test_town_admin_cannot_grant_a_federation_role(world, login):
    response = login(world.town_admin).post(
        reverse("accounts:admin_new"),
        {"username": "boss", "org_code": world.town.code, "kind": "federation_admin"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="boss").exists()
    assert 'value="federation_admin"' not in response.content.decode()


def test_list_shows_only_admins_inside_the_scope(world, login):
    html = login(world.town_admin).get(reverse("accounts:admins")).content.decode()
    assert "union_admin" in html
    assert "park_admin" not in html and "city_admin" not in html


def test_viewer_cannot_manage_accounts(world, login):
    assert login(world.viewer).get(reverse("accounts:admins")).status_code == 403


def test_reset_and_revoke_inside_scope_only(world, login):
    client = login(world.town_admin)
    park_role = Role.objects.get(user=world.park_admin)
    assert client.post(reverse("accounts:admin_reset", args=[park_role.pk])).status_code == 404
    assert client.post(reverse("accounts:admin_revoke", args=[park_role.pk])).status_code == 404
    union_role = Role.objects.get(user=world.union_admin)
    assert (
        "新密码"
        in client.post(reverse("accounts:admin_reset", args=[union_role.pk])).content.decode()
    )
    client.post(reverse("accounts:admin_revoke", args=[union_role.pk]))
    assert not Role.objects.filter(pk=union_role.pk).exists()


def test_town_admin_cannot_touch_a_higher_role_in_their_subtree(world, login):
    higher = Role.objects.create(user=world.viewer, org=world.town, kind=RoleKind.FEDERATION_ADMIN)
    assert (
        login(world.town_admin).post(reverse("accounts:admin_revoke", args=[higher.pk])).status_code
        == 403
    )


def test_a_password_reset_lifts_a_login_lockout(world, login, client):
    union_role = Role.objects.get(user=world.union_admin)
    for _attempt in range(5):
        client.post(reverse("accounts:login"), {"username": "union_admin", "password": "x"})
    html = login(world.town_admin).post(reverse("accounts:admin_reset", args=[union_role.pk]))
    password = re.search(r"data-password>([^<]+)<", html.content.decode()).group(1)
    client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": "union_admin", "password": password}
    )
    assert response.status_code == 302
