"""The site's front door sends members and admins where they belong."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_visitor_sees_member_and_admin_entries(client):
    page = client.get("/").content.decode()

    assert "会员登录" in page
    assert "实名注册" in page
    assert "进入管理后台" in page


def test_admin_goes_to_the_console(world, login):
    response = login(world.town_admin).get("/")

    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_member_goes_to_their_page(roster, client):
    user = get_user_model().objects.create_user(username=f"m{roster.li.pk}")
    roster.li.user, roster.li.registered_at = user, timezone.now()
    roster.li.save()
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/m/"
