"""Admin login, logout and password change, in Chinese."""

import pytest
from django.urls import reverse

from accounts.throttle import client_address

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert "管理员登录" in html and "用户名" in html and "密码" in html


def test_admin_logs_in_and_lands_on_the_console(world, client):
    response = client.post(
        reverse("accounts:login"), {"username": "town_admin", "password": "pingyi-test-pw"}
    )
    assert response.status_code == 302
    assert response.url == reverse("console:home")
    assert "真州镇" in client.get(response.url).content.decode()


def test_wrong_password_says_so(world, client):
    response = client.post(reverse("accounts:login"), {"username": "town_admin", "password": "x"})
    assert "用户名或密码不正确" in response.content.decode()


def test_console_needs_login(client):
    response = client.get(reverse("console:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_user_without_role_is_refused_the_console(world, login):
    response = login(world.nobody).get(reverse("console:home"))
    assert response.status_code == 403
    assert "没有管理角色" in response.content.decode()


def test_logout_ends_the_session(world, login):
    client = login(world.town_admin)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("console:home")).status_code == 302


def test_password_change(world, login, client):
    login(world.town_admin)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "pingyi-test-pw",
            "new_password1": "Zhenzhou-2022-new",
            "new_password2": "Zhenzhou-2022-new",
        },
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(username="town_admin", password="Zhenzhou-2022-new")


def test_password_change_refuses_a_wrong_old_password(world, login):
    response = login(world.town_admin).post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "Zz-2022-abcd", "new_password2": "Zz-2022-abcd"},
    )
    assert response.status_code == 200
    assert world.town_admin.check_password("pingyi-test-pw")


def test_five_wrong_passwords_lock_the_username_for_a_while(world, client):
    url = reverse("accounts:login")
    for _ in range(5):
        client.post(url, {"username": "town_admin", "password": "wrong"})
    response = client.post(url, {"username": "town_admin", "password": "pingyi-test-pw"})
    assert "登录失败次数过多，请 15 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another admin behind the same address still logs in.
    response = client.post(url, {"username": "park_admin", "password": "pingyi-test-pw"})
    assert response.status_code == 302


def test_a_success_clears_the_count(world, client):
    url = reverse("accounts:login")
    for _ in range(4):
        client.post(url, {"username": "town_admin", "password": "wrong"})
    assert (
        client.post(url, {"username": "town_admin", "password": "pingyi-test-pw"}).status_code
        == 302
    )
    client.logout()
    for _ in range(4):
        client.post(url, {"username": "town_admin", "password": "wrong"})
    assert (
        client.post(url, {"username": "town_admin", "password": "pingyi-test-pw"}).status_code
        == 302
    )


def test_behind_the_proxy_the_address_is_the_one_nginx_appended(rf, settings):
    settings.PINGYI_BEHIND_PROXY = True
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    assert client_address(request) == "203.0.113.9"
    settings.PINGYI_BEHIND_PROXY = False
    assert client_address(request) == "127.0.0.1"
