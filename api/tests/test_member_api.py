"""The member API: what the mobile app does to register, log in and read 我的."""

import re
from datetime import timedelta

import pytest
from django.db.models import F

from conftest import fake_id_number
from members.models import OneTimeCode
from members.tokens import issue_token

pytestmark = pytest.mark.django_db


def _post(client, url, payload, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(url, payload, content_type="application/json", headers=headers)


def _code_sent(outbox) -> str:
    return re.search(r"\d{6}", outbox[-1].message).group()


def _register_li(client, outbox):
    sent = _post(client, "/api/v1/members/codes", {"phone": "13905141234", "purpose": "register"})
    assert sent.status_code == 200, sent.json()
    return _post(
        client,
        "/api/v1/members/register",
        {
            "name": "李华",
            "id_number": fake_id_number(1),
            "phone": "13905141234",
            "code": _code_sent(outbox),
        },
    )


def test_member_registers_and_reads_their_page_with_the_token(roster, client, sms_outbox):
    response = _register_li(client, sms_outbox)

    assert response.status_code == 201
    token = response.json()["token"]
    me = client.get("/api/v1/members/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["name"] == "李华"
    assert me.json()["id_masked"] == "3210**********" + fake_id_number(1)[-4:]
    assert me.json()["union"]["path"] == ["仪征市总工会", "真州镇", "真州镇中心小学工会"]
    assert fake_id_number(1) not in me.content.decode()


def test_code_answer_shows_the_phone_masked(roster, client, sms_outbox):
    response = _post(
        client, "/api/v1/members/codes", {"phone": "13905141234", "purpose": "register"}
    )

    assert response.json()["phone_masked"] == "139****1234"
    assert "13905141234" not in response.content.decode()
    assert len(sms_outbox) == 1


def test_login_by_code_returns_a_new_token_and_logout_revokes_it(roster, client, sms_outbox):
    _register_li(client, sms_outbox)
    # A phone may ask one code a minute: the registration code was asked two minutes ago.
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(minutes=2))
    _post(client, "/api/v1/members/codes", {"phone": "13905141234", "purpose": "login"})

    login = _post(
        client,
        "/api/v1/members/login",
        {"phone": "13905141234", "code": _code_sent(sms_outbox)},
    )
    token = login.json()["token"]
    logout = _post(client, "/api/v1/members/logout", {}, token=token)
    after = client.get("/api/v1/members/me", headers={"Authorization": f"Bearer {token}"})

    assert login.status_code == 200
    assert logout.status_code == 204
    assert after.status_code == 401


def test_id_not_on_roster_is_refused_with_a_correction_hint(roster, client, sms_outbox):
    _post(client, "/api/v1/members/codes", {"phone": "13905149999", "purpose": "register"})

    response = _post(
        client,
        "/api/v1/members/register",
        {
            "name": "孙丽",
            "id_number": fake_id_number(99),
            "phone": "13905149999",
            "code": _code_sent(sms_outbox),
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_on_roster"
    assert response.json()["correction_kind"] == "missing"
    assert response.json()["field"] == "id_number"


def test_second_registration_of_the_same_id_answers_409(roster, client, sms_outbox):
    _register_li(client, sms_outbox)
    _post(client, "/api/v1/members/codes", {"phone": "13905140000", "purpose": "register"})

    again = _post(
        client,
        "/api/v1/members/register",
        {
            "name": "李华",
            "id_number": fake_id_number(1),
            "phone": "13905140000",
            "code": _code_sent(sms_outbox),
        },
    )

    assert again.status_code == 409
    assert again.json()["code"] == "already_registered"
    assert "登录" in again.json()["message"]


def test_wrong_code_is_refused(roster, client, sms_outbox):
    _post(client, "/api/v1/members/codes", {"phone": "13905141234", "purpose": "register"})
    wrong = "000000" if _code_sent(sms_outbox) != "000000" else "111111"

    response = _post(
        client,
        "/api/v1/members/register",
        {"name": "李华", "id_number": fake_id_number(1), "phone": "13905141234", "code": wrong},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "code_wrong"


def test_asking_codes_too_fast_answers_429(roster, client, sms_outbox):
    payload = {"phone": "13905141234", "purpose": "register"}
    _post(client, "/api/v1/members/codes", payload)

    again = _post(client, "/api/v1/members/codes", payload)

    assert again.status_code == 429
    assert again.json()["code"] == "rate_limited"
    assert again.json()["retry_after"] > 0


def test_admin_token_is_not_a_member(world, client):
    token, _record = issue_token(user=world.town_admin)

    response = client.get("/api/v1/members/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_member"


def test_me_needs_a_token(client, db):
    assert client.get("/api/v1/members/me").status_code == 401
