"""The member reads the union's reply and rates the handling through the API."""

from cases.models import CaseState, Outcome
from cases.services import reply_case, verify_case
from members.tokens import issue_token

from .conftest import at


def _auth(member) -> dict:
    return {"Authorization": f"Bearer {issue_token(user=member.user)[0]}"}


def _reply(w, case):
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    reply_case(
        case=case,
        by=w.union_admin,
        outcome=Outcome.BY_DEADLINE,
        measures="增设职工书屋",
        reply="感谢建议，年底前建成职工书屋。",
        rectify_by=at("2022-12-31").date(),
        now=at("2022-10-10"),
    )


def test_history_carries_the_replies_and_the_handling(reviewers, case, client):
    w = reviewers
    headers = _auth(w.li)

    before = client.get("/api/v1/me/evaluations", headers=headers).json()[0]
    assert before["replies"] == []
    assert before["handling"]["state_label"] == "处理中"
    assert before["handling"]["can_rate"] is False

    _reply(w, case)
    after = client.get(f"/api/v1/me/evaluations/{case.evaluation_id}", headers=headers).json()

    assert after["handling"]["can_rate"] is True
    [reply] = after["replies"]
    assert reply["text"] == "感谢建议，年底前建成职工书屋。"
    assert reply["outcome_label"] == "限期整改"
    assert reply["measures"] == "增设职工书屋"
    assert reply["rectify_by"] == "2022-12-31"
    assert reply["org"] == "真州镇中心小学工会"


def test_the_member_rates_the_handling_through_the_api(reviewers, case, client):
    w = reviewers
    _reply(w, case)
    url = f"/api/v1/me/evaluations/{case.evaluation_id}/handling-rating"

    bad = client.post(url, {"rating": "很好"}, content_type="application/json", headers=_auth(w.li))
    rated = client.post(
        url, {"rating": "dissatisfied"}, content_type="application/json", headers=_auth(w.li)
    )

    assert bad.status_code == 422
    assert bad.json()["field"] == "rating"
    assert rated.status_code == 200
    assert rated.json()["handling"]["state"] == CaseState.RECTIFYING  # reopened at the town
    assert rated.json()["handling"]["can_rate"] is False
    again = client.post(
        url, {"rating": "satisfied"}, content_type="application/json", headers=_auth(w.li)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "case_refused"


def test_another_member_cannot_rate_it_through_the_api(reviewers, case, client):
    w = reviewers
    _reply(w, case)

    response = client.post(
        f"/api/v1/me/evaluations/{case.evaluation_id}/handling-rating",
        {"rating": "dissatisfied"},
        content_type="application/json",
        headers=_auth(w.zhao),
    )

    assert response.status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED


def test_a_content_evaluation_has_no_handling(reviewers, client):
    from .conftest import negative_review

    w = reviewers
    negative_review(w.zhao, w.campaign, overall=5)

    [evaluation] = client.get("/api/v1/me/evaluations", headers=_auth(w.zhao)).json()

    assert evaluation["replies"] == []
    assert evaluation["handling"] is None
