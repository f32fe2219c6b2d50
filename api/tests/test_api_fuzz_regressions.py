"""Server errors the schema fuzzing (tests/test_api_fuzz.py) led to, each answered cleanly now.

Before the fixes each of these answered 500: a lone surrogate ("\\ud800", valid JSON, no text)
reached the database driver, PostgreSQL refused a NUL in a search or a stored header, and
SQLite could not bind an id beyond 64 bits.
"""

import json

import pytest

from cases.models import Case, CaseState
from conftest import fake_id_number
from evaluations.models import Evaluation
from evaluations.selectors import questionnaire
from evaluations.services import Answers, submit_evaluation
from members.models import CorrectionRequest
from members.tokens import issue_token

pytestmark = pytest.mark.django_db


def _auth(user) -> dict:
    return {"Authorization": f"Bearer {issue_token(user=user)[0]}"}


def _post_raw(client, url: str, raw_json: str, user=None, **headers):
    return client.post(
        url,
        raw_json,
        content_type="application/json",
        headers={**(_auth(user) if user else {}), **headers},
    )


def _negative_review(w) -> Case:
    """赵明's 不满意 of the 2022 campaign: a case of 枣林湾酒店工会, waiting to be verified."""
    items = questionnaire(w.campaign).items
    done = submit_evaluation(
        member=w.zhao,
        campaign=w.campaign,
        answers=Answers(overall=2, ratings={items[0].pk: 1}, suggestion="活动太少"),
        now=w.campaign.starts_at.replace(day=20),
    )
    return Case.objects.get(evaluation=done.evaluation)


def test_union_search_ignores_a_nul_in_the_keyword(evaluators, client):
    w = evaluators

    response = client.get(f"/api/v1/members/regions/{w.town.pk}/unions", {"q": "真州\x00"})

    assert response.status_code == 200
    assert sorted(u["name"] for u in response.json()) == ["真州镇中心小学工会", "真州镇卫生院工会"]


def test_case_queue_refuses_an_item_id_beyond_64_bits(evaluators, client):
    response = client.get("/api/v1/cases", {"item": 2**64}, headers=_auth(evaluators.city_admin))

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_suggestion_with_a_lone_surrogate_is_refused_and_nothing_is_stored(evaluators, client):
    w = evaluators

    response = _post_raw(
        client,
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        '{"overall": 4, "suggestion": "希望\\ud800多组织活动"}',
        w.li.user,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert response.json()["message"] == "请求内容不是有效的 JSON 文本，请检查后重试"
    assert not Evaluation.objects.filter(member=w.li).exists()


def test_suggestion_with_a_nul_is_refused_as_not_text(evaluators, client):
    w = evaluators

    response = _post_raw(
        client,
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        '{"overall": 4, "suggestion": "a\\u0000b"}',
        w.li.user,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert not Evaluation.objects.filter(member=w.li).exists()


def test_case_finding_with_a_lone_surrogate_is_refused_and_the_case_waits(evaluators, client):
    w = evaluators
    case = _negative_review(w)

    response = _post_raw(
        client, f"/api/v1/cases/{case.pk}/verify", '{"finding": "\\udfff"}', w.park_admin
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    case.refresh_from_db()
    assert case.state == CaseState.VERIFYING
    assert case.finding == ""


def test_correction_note_with_a_lone_surrogate_is_refused_and_nothing_is_filed(evaluators, client):
    w = evaluators

    fields = {
        "kind": "missing",
        "name": "钱七",
        "id_number": fake_id_number(7),
        "phone": "13905147777",
        "region_id": w.town.pk,
        "union_id": w.town_union_a.pk,
        "note": "NOTE",
    }
    raw = json.dumps(fields).replace('"NOTE"', '"\\ud800"')  # JSON allows it; UTF-8 does not

    response = _post_raw(client, "/api/v1/members/corrections", raw)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert not CorrectionRequest.objects.exists()


def test_malformed_json_answers_invalid_body_in_chinese(evaluators, client):
    w = evaluators

    response = _post_raw(
        client, f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation", '{"overall": 4', w.li.user
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_body",
        "message": "请求内容不是有效的 JSON 文本，请检查后重试",
    }


def test_idempotency_key_with_a_control_character_is_refused(evaluators, client):
    w = evaluators

    response = _post_raw(
        client,
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        '{"overall": 4}',
        w.li.user,
        **{"Idempotency-Key": "tap\x00one"},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert "可见字符" in response.json()["message"]
    assert not Evaluation.objects.filter(member=w.li).exists()
