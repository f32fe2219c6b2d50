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


def _member_token(member) -> str:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    user = get_user_model().objects.create_user(username=f"m{member.pk}")
    member.user, member.registered_at = user, timezone.now()
    member.save()
    return issue_token(user=user)[0]


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_member_transfers_by_picking_a_union_from_the_search(roster, client):
    token = _member_token(roster.li)
    regions = client.get("/api/v1/members/regions", headers=_auth(token)).json()
    park = next(r for r in regions if r["label"] == "枣林湾旅游度假区")
    found = client.get(
        f"/api/v1/members/regions/{park['id']}/unions", {"q": "酒店"}, headers=_auth(token)
    ).json()

    response = _post(
        client,
        "/api/v1/members/me/transfer",
        {"region_id": park["id"], "union_id": found[0]["id"]},
        token=token,
    )

    assert [u["name"] for u in found] == ["枣林湾酒店工会"]
    assert response.status_code == 200
    assert response.json()["from_union"] == "真州镇中心小学工会"
    assert response.json()["union"]["name"] == "枣林湾酒店工会"
    me = client.get("/api/v1/members/me", headers=_auth(token)).json()
    assert me["union"]["path"] == ["仪征市总工会", "枣林湾旅游度假区", "枣林湾酒店工会"]


def test_transfer_to_a_union_outside_the_region_is_refused(roster, client):
    token = _member_token(roster.li)
    regions = client.get("/api/v1/members/regions", headers=_auth(token)).json()
    town = next(r for r in regions if r["label"] == "真州镇")

    response = _post(
        client,
        "/api/v1/members/me/transfer",
        {"region_id": town["id"], "union_id": roster.park_union.pk},
        token=token,
    )

    assert response.status_code == 400
    assert response.json()["field"] == "union_id"
    roster.li.refresh_from_db()
    assert roster.li.org == roster.town_union_a


def test_transfer_needs_a_member(world, client):
    token, _record = issue_token(user=world.town_admin)

    response = _post(
        client, "/api/v1/members/me/transfer", {"region_id": 1, "union_id": 1}, token=token
    )

    assert response.status_code == 403


def test_visitor_files_a_correction_and_the_member_sees_theirs(roster, client):
    regions = client.get("/api/v1/members/regions").json()
    town = next(r for r in regions if r["label"] == "真州镇")
    payload = {
        "kind": "missing",
        "name": "孙丽",
        "id_number": fake_id_number(50),
        "phone": "13905149999",
        "region_id": town["id"],
        "union_id": roster.town_union_b.pk,
        "note": "新入职，名册里没有我",
    }

    filed = _post(client, "/api/v1/members/corrections", payload)
    again = _post(client, "/api/v1/members/corrections", payload)

    assert filed.status_code == 201
    assert filed.json()["status_label"] == "待处理"
    assert filed.json()["union_name"] == "真州镇卫生院工会"
    assert fake_id_number(50) not in filed.content.decode()
    assert again.status_code == 400
    assert "待处理" in again.json()["message"]


def test_member_lists_their_own_corrections_only(roster, client):
    token = _member_token(roster.li)
    town = next(r for r in client.get("/api/v1/members/regions").json() if r["label"] == "真州镇")
    _post(
        client,
        "/api/v1/members/corrections",
        {
            "kind": "details",
            "name": "李桦",
            "id_number": fake_id_number(1),
            "region_id": town["id"],
            "union_id": roster.town_union_a.pk,
        },
        token=token,
    )
    other = _member_token(roster.wang)

    mine = client.get("/api/v1/members/me/corrections", headers=_auth(token)).json()
    theirs = client.get("/api/v1/members/me/corrections", headers=_auth(other)).json()

    assert [r["name"] for r in mine] == ["李桦"]
    assert theirs == []


def test_correction_with_a_bad_id_number_names_the_fault(roster, client):
    town = next(r for r in client.get("/api/v1/members/regions").json() if r["label"] == "真州镇")

    response = _post(
        client,
        "/api/v1/members/corrections",
        {
            "kind": "missing",
            "name": "孙丽",
            "id_number": "3.21081E+17",
            "phone": "13905149999",
            "region_id": town["id"],
            "union_id": roster.town_union_b.pk,
        },
    )

    assert response.status_code == 400
    assert "文本格式" in response.json()["message"]
