"""A registered member logs in with their phone and a one-time code, and logs out."""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse

from conftest import fake_id_number
from members import otp, registration
from members.models import Member, OneTimeCode

pytestmark = pytest.mark.django_db

LOGIN = "/m/login/"


@pytest.fixture
def li(roster, sms_outbox):
    """李华, registered with 13905141234; the outbox emptied."""
    registration.send_code(phone="13905141234", purpose="register")
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    member = registration.register_member(
        name="李华", id_number=fake_id_number(1), phone="13905141234", code=code
    )
    sms_outbox.clear()
    # As if the member came back later: the minute between two codes to a phone has passed.
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(minutes=2))
    return member


def login_code(client, outbox, phone="13905141234") -> str:
    html = client.post(LOGIN, {"phone": phone, "send_code": "1"}).content.decode()
    assert "验证码已发送至" in html, html
    return re.search(r"\d{6}", outbox[-1].message).group()


def test_login_page_is_chinese(client, db):
    html = client.get(LOGIN).content.decode()
    for word in ("会员登录", "手机号码", "验证码", "获取验证码", "会员实名注册"):
        assert word in html


def test_member_logs_in_with_a_code(client, li, sms_outbox):
    code = login_code(client, sms_outbox)
    assert "登录验证码是" in sms_outbox[-1].message
    response = client.post(LOGIN, {"phone": "13905141234", "code": code})
    assert response.status_code == 302 and response.url == reverse("members:home")
    assert "李华" in client.get(reverse("members:home")).content.decode()


def test_login_goes_back_to_the_page_asked_for(client, li, sms_outbox):
    response = client.get(reverse("members:history"))
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next=/m/history/"
    code = login_code(client, sms_outbox)
    response = client.post(LOGIN, {"phone": "13905141234", "code": code, "next": "/m/history/"})
    assert response.url == "/m/history/"


def test_login_never_goes_to_another_site(client, li, sms_outbox):
    code = login_code(client, sms_outbox)
    response = client.post(
        LOGIN, {"phone": "13905141234", "code": code, "next": "https://evil.example/"}
    )
    assert response.url == reverse("members:home")


def test_unregistered_phone_is_told_to_register(client, roster, sms_outbox):
    html = client.post(LOGIN, {"phone": "13905145678", "send_code": "1"}).content.decode()
    assert "该手机号尚未注册，请先注册" in html
    assert f'href="{reverse("members:register")}"' in html
    assert sms_outbox == []


def test_wrong_login_code_is_refused(client, li, sms_outbox):
    code = login_code(client, sms_outbox)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    html = client.post(LOGIN, {"phone": "13905141234", "code": wrong}).content.decode()
    assert "验证码不正确" in html
    assert "_auth_user_id" not in client.session


def test_login_code_is_single_use(client, li, sms_outbox):
    code = login_code(client, sms_outbox)
    registration.login_with_code(phone="13905141234", code=code)
    with pytest.raises(otp.CodeUsed):
        registration.login_with_code(phone="13905141234", code=code)


def test_disabled_account_cannot_log_in(li, sms_outbox):
    li.user.is_active = False
    li.user.save()
    registration.send_code(phone="13905141234", purpose="login")
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    with pytest.raises(registration.AccountDisabled):
        registration.login_with_code(phone="13905141234", code=code)


def test_logout_needs_a_post_and_ends_the_session(client, li):
    client.force_login(li.user)
    assert client.get(reverse("members:logout")).status_code == 405
    response = client.post(reverse("members:logout"))
    assert response.url == reverse("members:login")
    assert client.get(reverse("members:home")).status_code == 302
    assert "您已退出登录" in client.get(reverse("members:login")).content.decode()


def test_logged_in_member_visiting_login_goes_to_my_page(client, li):
    client.force_login(li.user)
    assert client.get(LOGIN).url == reverse("members:home")


def test_member_cannot_reach_the_console(client, li):
    client.force_login(li.user)
    assert client.get(reverse("console:home")).status_code == 403


def test_login_service_returns_the_member_for_the_api(li, sms_outbox):
    registration.send_code(phone="13905141234", purpose="login", address="10.1.1.1")
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    member = registration.login_with_code(phone="13905141234", code=code, address="10.1.1.1")
    assert member == Member.objects.get(pk=li.pk) and member.user == li.user


def test_login_form_names_bad_fields(client, db):
    html = client.post(LOGIN, {"phone": "123", "code": ""}).content.decode()
    assert "手机号码应为 11 位数字" in html and "请填写短信验证码" in html
