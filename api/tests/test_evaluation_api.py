"""The evaluation API: what the mobile app does to list campaigns, rate and read its history."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.services import create_campaign
from conftest import fake_id_number
from evaluations.models import Answer, Evaluation, SubmissionTrace
from evaluations.selectors import questionnaire
from members.models import Member, MemberStatus
from members.tokens import issue_token
from members.transfer import transfer_member

pytestmark = pytest.mark.django_db


def _token(member) -> str:
    return issue_token(user=member.user)[0]


def _auth(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def _url(campaign) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/evaluation"


def _answers(campaign, overall=4, **changes) -> dict:
    first, second, *_rest = questionnaire(campaign).items
    return {
        "overall": overall,
        "items": [
            {"question_id": first.pk, "rating": 5},
            {"question_id": second.pk, "rating": None},
        ],
        "suggestion": "希望多组织职工文体活动",
        "return_visit": True,
        **changes,
    }


def _submit(client, campaign, token, body=None, key=None):
    headers = _auth(token, **({"Idempotency-Key": key} if key is not None else {}))
    return client.post(
        _url(campaign),
        body if body is not None else _answers(campaign),
        content_type="application/json",
        headers=headers,
    )


def _another_open_campaign(world):
    now = timezone.now()
    return create_campaign(
        org=world.town,
        name="真州镇专项评议",
        year=2026,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
    )


def test_campaign_list_shows_the_open_one_to_do_and_the_2022_one_closed(evaluators, client):
    w = evaluators

    response = client.get("/api/v1/me/campaigns", headers=_auth(_token(w.li)))

    assert response.status_code == 200
    current, past = response.json()
    assert current["id"] == w.open_campaign.pk
    assert current["org"] == "仪征市总工会"
    assert current["status"] == "open"
    assert current["to_do"] is True
    assert current["can_evaluate"] is True
    assert current["refusal"] is None
    assert current["evaluation_id"] is None
    assert past["name"] == "2022年会员网上评议"
    assert past["window"] == "2022年9月1日至11月30日"
    assert past["status"] == "closed"
    assert past["to_do"] is False
    assert past["can_evaluate"] is False
    assert past["refusal"]["code"] == "closed"
    assert "2022年11月30日" in past["refusal"]["message"]


def test_campaign_list_points_at_the_evaluation_once_submitted(evaluators, client):
    w = evaluators
    token = _token(w.li)
    evaluation_id = _submit(client, w.open_campaign, token).json()["evaluation"]["id"]

    current = client.get("/api/v1/me/campaigns", headers=_auth(token)).json()[0]

    assert current["evaluation_id"] == evaluation_id
    assert current["to_do"] is False
    assert current["can_evaluate"] is False


def test_questionnaire_has_the_five_levels_and_the_nine_items_in_order(evaluators, client):
    w = evaluators

    response = client.get(
        f"/api/v1/campaigns/{w.open_campaign.pk}/questionnaire", headers=_auth(_token(w.li))
    )

    form = response.json()
    assert response.status_code == 200
    assert form["campaign"]["status"] == "open"
    assert [level["label"] for level in form["scale"]] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert [level["rating"] for level in form["scale"]] == [5, 4, 3, 2, 1]
    assert form["overall"]["label"] == "工作总体满意度"
    assert form["overall"]["required"] is True
    assert [item["label"] for item in form["items"]] == [
        "职工(代表)大会",
        "民主管理",
        "培养、评选、表彰先进模范",
        "职工文体活动",
        "劳动竞赛、技能提升",
        "帮助和指导签订劳动合同",
        "维护女职工的特殊权益",
        "困难职工帮扶救助",
        "协助和督促劳动安全卫生",
    ]
    assert form["suggestion"]["max_length"] > 0


def test_questionnaire_of_another_citys_campaign_is_not_found(evaluators, other_campaign, client):
    response = client.get(
        f"/api/v1/campaigns/{other_campaign.pk}/questionnaire",
        headers=_auth(_token(evaluators.li)),
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "评议活动" in response.json()["message"]


def test_submit_creates_then_a_second_submit_shows_the_stored_evaluation(evaluators, client):
    w = evaluators
    token = _token(w.li)

    first = _submit(client, w.open_campaign, token)
    second = _submit(client, w.open_campaign, token, _answers(w.open_campaign, overall=1))

    assert first.status_code == 201
    assert first.json()["created"] is True
    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["evaluation"]["id"] == first.json()["evaluation"]["id"]
    assert second.json()["evaluation"]["overall"] == 4
    assert Evaluation.objects.filter(member=w.li, campaign=w.open_campaign).count() == 1
    stored = Evaluation.objects.get()
    assert stored.channel == "api"
    assert SubmissionTrace.objects.get(evaluation=stored).address == "127.0.0.1"


def test_submit_answers_the_evaluation_as_stored(evaluators, client):
    w = evaluators
    first = questionnaire(w.open_campaign).items[0]

    evaluation = _submit(client, w.open_campaign, _token(w.li)).json()["evaluation"]

    assert evaluation["campaign"] == {"id": w.open_campaign.pk, "name": "2026年会员网上评议"}
    assert evaluation["union"] == {"id": w.town_union_a.pk, "name": "真州镇中心小学工会"}
    assert evaluation["overall"] == 4
    assert evaluation["overall_label"] == "满意"
    assert len(evaluation["items"]) == 9
    assert evaluation["items"][0] == {
        "question_id": first.pk,
        "label": "职工(代表)大会",
        "rating": 5,
        "rating_label": "非常满意",
    }
    assert evaluation["items"][1]["rating"] is None
    assert evaluation["items"][1]["rating_label"] is None
    assert evaluation["suggestion"] == "希望多组织职工文体活动"
    assert evaluation["return_visit"] is True
    assert evaluation["replies"] == []


def test_retry_with_the_same_idempotency_key_answers_the_same_evaluation(evaluators, client):
    w = evaluators
    token = _token(w.li)

    first = _submit(client, w.open_campaign, token, key="app-7f3c")
    retry = _submit(client, w.open_campaign, token, key="app-7f3c")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json()["created"] is False
    assert retry.json()["evaluation"]["id"] == first.json()["evaluation"]["id"]
    assert Evaluation.objects.get().request_key == "app-7f3c"


def test_idempotency_key_reused_for_another_campaign_is_refused(evaluators, client):
    w = evaluators
    token = _token(w.li)
    other = _another_open_campaign(w)
    _submit(client, w.open_campaign, token, key="app-7f3c")

    response = _submit(client, other, token, _answers(other), key="app-7f3c")

    assert response.status_code == 409
    assert response.json()["code"] == "request_key_reused"
    assert "请求标识" in response.json()["message"]
    assert not Evaluation.objects.filter(campaign=other).exists()


def test_idempotency_key_longer_than_64_characters_is_refused(evaluators, client):
    w = evaluators

    response = _submit(client, w.open_campaign, _token(w.li), key="k" * 65)

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert "64" in response.json()["message"]
    assert not Evaluation.objects.exists()


def test_missing_overall_is_refused_and_nothing_is_stored(evaluators, client):
    w = evaluators
    body = _answers(w.open_campaign)
    del body["overall"]

    response = _submit(client, w.open_campaign, _token(w.li), body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_answers"
    assert response.json()["field"] == "overall"
    assert response.json()["errors"]["overall"] == "请选择“工作总体满意度”。"
    assert not Evaluation.objects.exists()
    assert not Answer.objects.exists()


def test_a_rating_outside_the_scale_names_the_item(evaluators, client):
    w = evaluators
    item = questionnaire(w.open_campaign).items[3]
    body = _answers(w.open_campaign, items=[{"question_id": item.pk, "rating": 7}])

    response = _submit(client, w.open_campaign, _token(w.li), body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_answers"
    assert "职工文体活动" in response.json()["errors"][f"item_{item.pk}"]
    assert "7" in response.json()["message"]
    assert not Evaluation.objects.exists()


def test_an_item_given_twice_is_refused_naming_it(evaluators, client):
    w = evaluators
    item = questionnaire(w.open_campaign).items[0]
    twice = [{"question_id": item.pk, "rating": 5}, {"question_id": item.pk, "rating": 1}]

    response = _submit(
        client, w.open_campaign, _token(w.li), _answers(w.open_campaign, items=twice)
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_answers"
    assert response.json()["field"] == f"item_{item.pk}"
    assert str(item.pk) in response.json()["message"]
    assert not Evaluation.objects.exists()


def test_a_closed_campaign_refuses_with_409(evaluators, client):
    w = evaluators

    response = _submit(client, w.campaign, _token(w.li), _answers(w.campaign))

    assert response.status_code == 409
    assert response.json()["code"] == "closed"
    assert "2022年11月30日" in response.json()["message"]
    assert not Evaluation.objects.exists()


def test_another_citys_campaign_is_not_found(evaluators, other_campaign, client):
    response = _submit(client, other_campaign, _token(evaluators.li), _answers(other_campaign))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Evaluation.objects.exists()


def test_a_member_who_left_is_refused(evaluators, client):
    w = evaluators
    Member.objects.filter(pk=w.li.pk).update(status=MemberStatus.LEFT)

    response = _submit(client, w.open_campaign, _token(w.li))

    assert response.status_code == 403
    assert response.json()["code"] == "member_left"


def test_history_keeps_the_answers_and_the_union_at_submission_after_a_transfer(evaluators, client):
    w = evaluators
    token = _token(w.li)
    submitted = _submit(client, w.open_campaign, token).json()["evaluation"]
    transfer_member(member=w.li, to_org=w.park_union)

    history = client.get("/api/v1/me/evaluations", headers=_auth(token))
    one = client.get(f"/api/v1/me/evaluations/{submitted['id']}", headers=_auth(token))

    assert history.status_code == 200
    [evaluation] = history.json()
    assert evaluation["id"] == submitted["id"]
    assert evaluation["union"]["name"] == "真州镇中心小学工会"
    assert evaluation["items"][0]["rating_label"] == "非常满意"
    assert one.status_code == 200
    assert one.json() == evaluation


def test_history_lists_the_newest_first(evaluators, client):
    w = evaluators
    token = _token(w.li)
    other = _another_open_campaign(w)
    older = _submit(client, w.open_campaign, token).json()["evaluation"]["id"]
    newer = _submit(client, other, token, _answers(other)).json()["evaluation"]["id"]

    history = client.get("/api/v1/me/evaluations", headers=_auth(token)).json()

    assert [e["id"] for e in history] == [newer, older]


def test_another_members_evaluation_is_not_found(evaluators, client):
    w = evaluators
    theirs = _submit(client, w.open_campaign, _token(w.zhao)).json()["evaluation"]["id"]

    response = client.get(f"/api/v1/me/evaluations/{theirs}", headers=_auth(_token(w.li)))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/api/v1/me/evaluations", headers=_auth(_token(w.li))).json() == []


@pytest.mark.parametrize(
    "url",
    ["/api/v1/me/campaigns", "/api/v1/me/evaluations", "questionnaire", "submit"],
)
def test_an_admin_session_is_not_a_member(evaluators, client, url):
    w = evaluators
    client.force_login(w.city_admin)
    if url == "questionnaire":
        response = client.get(f"/api/v1/campaigns/{w.open_campaign.pk}/questionnaire")
    elif url == "submit":
        response = client.post(
            _url(w.open_campaign), _answers(w.open_campaign), content_type="application/json"
        )
    else:
        response = client.get(url)

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_member"
    assert not Evaluation.objects.exists()


def test_an_anonymous_caller_must_sign_in(evaluators, client):
    w = evaluators

    listed = client.get("/api/v1/me/campaigns")
    posted = client.post(
        _url(w.open_campaign), _answers(w.open_campaign), content_type="application/json"
    )

    assert listed.status_code == 401
    assert listed.json()["code"] == "not_authenticated"
    assert posted.status_code == 401
    assert not Evaluation.objects.exists()


def test_a_cross_site_post_cannot_submit_in_a_logged_in_members_name(evaluators):
    w = evaluators
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.li.user)

    response = client.post(
        _url(w.open_campaign), _answers(w.open_campaign), content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert response.json()["message"] == "页面已过期，请刷新后重试"
    assert not Evaluation.objects.exists()


def test_the_members_own_page_submits_with_its_session_and_csrf_token(evaluators):
    w = evaluators
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.li.user)
    client.cookies["csrftoken"] = csrf = "a" * 32

    response = client.post(
        _url(w.open_campaign),
        _answers(w.open_campaign),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )

    assert response.status_code == 201


def test_the_openapi_schema_lists_the_evaluation_routes(client, db):
    schema = client.get("/api/v1/openapi.json").json()

    paths = schema["paths"]
    assert "get" in paths["/api/v1/me/campaigns"]
    assert "get" in paths["/api/v1/campaigns/{campaign_id}/questionnaire"]
    assert "post" in paths["/api/v1/campaigns/{campaign_id}/evaluation"]
    assert "get" in paths["/api/v1/me/evaluations"]
    assert "get" in paths["/api/v1/me/evaluations/{evaluation_id}"]
    submit = paths["/api/v1/campaigns/{campaign_id}/evaluation"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in submit["parameters"]]
    assert {"200", "201", "409", "422"} <= set(submit["responses"])


def test_a_member_registers_through_the_api_submits_and_reads_their_history(
    roster, open_campaign, client, sms_outbox
):
    def post(url, payload, **headers):
        return client.post(url, payload, content_type="application/json", headers=headers)

    post("/api/v1/members/codes", {"phone": "13905141234", "purpose": "register"})
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    registered = post(
        "/api/v1/members/register",
        {"name": "李华", "id_number": fake_id_number(1), "phone": "13905141234", "code": code},
    )
    token = registered.json()["token"]
    to_do = [
        c for c in client.get("/api/v1/me/campaigns", headers=_auth(token)).json() if c["to_do"]
    ]
    form = client.get(
        f"/api/v1/campaigns/{to_do[0]['id']}/questionnaire", headers=_auth(token)
    ).json()

    submitted = post(
        f"/api/v1/campaigns/{to_do[0]['id']}/evaluation",
        {
            "overall": 5,
            "items": [{"question_id": item["id"], "rating": 4} for item in form["items"]],
            "suggestion": "继续加油",
        },
        **_auth(token, **{"Idempotency-Key": "e2e-1"}),
    )
    history = client.get("/api/v1/me/evaluations", headers=_auth(token)).json()

    assert registered.status_code == 201
    assert [c["id"] for c in to_do] == [open_campaign.pk]
    assert submitted.status_code == 201
    assert [e["id"] for e in history] == [submitted.json()["evaluation"]["id"]]
    assert history[0]["overall_label"] == "非常满意"
    assert {item["rating_label"] for item in history[0]["items"]} == {"满意"}
    assert history[0]["suggestion"] == "继续加油"
