"""Another union's admin can neither see nor act on a case; the member stays unnamed unless
they agreed to a return visit."""

import pytest

from cases.models import CaseState
from cases.services import check_overdue_cases, verify_case
from members.models import AuditAction, AuditEvent

from .conftest import at, xlsx_text


def test_the_unions_admins_and_those_above_list_the_case(reviewers, case, login):
    w = reviewers
    for user in (w.union_admin, w.town_admin, w.city_admin, w.viewer):
        assert case.number in login(user).get("/console/cases/").content.decode(), user


def _sibling_union_admin(w):
    """The admin of 真州镇卫生院工会, the other union of the same town."""
    from accounts.models import Role, RoleKind, User

    user = User.objects.create_user(username="weishengyuan", password="pingyi-test-pw")
    Role.objects.create(user=user, org=w.town_union_b, kind=RoleKind.GRASSROOTS_ADMIN)
    return user


@pytest.mark.parametrize("who", ["park_admin", "sibling"])
def test_another_units_admin_gets_404_on_every_page_and_step(reviewers, case, login, who):
    w = reviewers
    admin = login(_sibling_union_admin(w) if who == "sibling" else w.park_admin)
    base = f"/console/cases/{case.pk}"

    assert admin.get(f"{base}/").status_code == 404
    for step, data in [
        ("verify", {"finding": "越权"}),
        ("reply", {"outcome": "fixed", "measures": "x", "reply": "y"}),
        ("visit", {"visit_note": "x"}),
        ("appeal", {"claim": "malicious", "reasons": "x"}),
        ("decide", {"decision": "upheld", "decision_reasons": "x"}),
    ]:
        assert admin.post(f"{base}/{step}/", data).status_code == 404, step
    assert case.number not in admin.get("/console/cases/").content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.VERIFYING


@pytest.mark.parametrize("who", ["park_admin", "sibling"])
def test_another_units_admin_gets_404_through_the_api(reviewers, case, login, who):
    w = reviewers
    admin = login(_sibling_union_admin(w) if who == "sibling" else w.park_admin)

    assert admin.get(f"/api/v1/cases/{case.pk}").status_code == 404
    refused = admin.post(
        f"/api/v1/cases/{case.pk}/verify", {"finding": "越权"}, content_type="application/json"
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert admin.get("/api/v1/cases").json() == []
    case.refresh_from_db()
    assert case.state == CaseState.VERIFYING


def test_the_union_admin_works_the_case_through_the_api(reviewers, case, login):
    admin = login(reviewers.union_admin)

    listed = admin.get("/api/v1/cases").json()
    verified = admin.post(
        f"/api/v1/cases/{case.pk}/verify", {"finding": "属实"}, content_type="application/json"
    )
    again = admin.post(
        f"/api/v1/cases/{case.pk}/verify", {"finding": "属实"}, content_type="application/json"
    )

    assert [c["number"] for c in listed] == [case.number]
    assert verified.status_code == 200
    assert verified.json()["state"] == "rectifying"
    assert [e["kind"] for e in verified.json()["events"]] == ["opened", "verified"]
    assert again.status_code == 409
    assert again.json()["message"] == "该差评已核实，请进行整改答复。"


def test_a_viewer_reads_but_cannot_act(reviewers, case, login):
    viewer = login(reviewers.viewer)

    assert viewer.get(f"/console/cases/{case.pk}/").status_code == 200
    response = viewer.post(f"/console/cases/{case.pk}/verify/", {"finding": "x"})
    assert response.status_code == 403
    assert "您没有办理该差评处置的权限" in response.content.decode()


def test_without_consent_the_member_is_never_named(reviewers, case, login):
    w = reviewers
    check_overdue_cases(now=at("2022-10-09"))  # a notice for the town too
    for user in (w.union_admin, w.town_admin, w.city_admin):
        admin = login(user)
        for url in (
            f"/console/cases/{case.pk}/",
            "/console/cases/",
            "/console/cases/notices/",
            f"/api/v1/cases/{case.pk}",
            "/api/v1/cases",
        ):
            body = admin.get(url).content.decode()
            assert "李华" not in body, (user, url)
            assert w.li.phone_masked not in body, (user, url)
            assert w.li.id_masked not in body, (user, url)
        export = xlsx_text(admin.get(f"/console/cases/export/?campaign={w.campaign.pk}").getvalue())
        assert case.number in export
        assert "李华" not in export
    page = login(w.union_admin).get(f"/console/cases/{case.pk}/").content.decode()
    assert "会员未同意回访：不显示评议人身份" in page
    assert not AuditEvent.objects.filter(action=AuditAction.REVEALED).exists()


def test_with_consent_the_handler_sees_name_and_masked_phone_and_it_is_audited(
    reviewers, consenting_case, login
):
    w, case = reviewers, consenting_case

    page = login(w.union_admin).get(f"/console/cases/{case.pk}/").content.decode()

    assert "王芳" in page
    assert w.wang.phone_masked in page
    assert "13905145678" not in page
    audit = AuditEvent.objects.get(action=AuditAction.REVEALED)
    assert audit.actor == w.union_admin
    assert audit.member == w.wang
    assert case.number in audit.note
    # The queue and the export never name anyone, consent or not.
    assert "王芳" not in login(w.union_admin).get("/console/cases/").content.decode()
    export = login(w.union_admin).get(f"/console/cases/export/?campaign={w.campaign.pk}")
    assert "王芳" not in xlsx_text(export.getvalue())


def test_a_viewer_does_not_see_a_consenting_member(reviewers, consenting_case, login):
    page = login(reviewers.viewer).get(f"/console/cases/{consenting_case.pk}/").content.decode()

    assert "王芳" not in page
    assert not AuditEvent.objects.filter(action=AuditAction.REVEALED).exists()


def test_a_member_cannot_rate_another_members_case(reviewers, case, login):
    from cases.models import Outcome
    from cases.services import reply_case

    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实")
    reply_case(case=case, by=w.union_admin, outcome=Outcome.EXPLAINED, measures="", reply="说明")

    other = login(w.zhao.user)
    assert other.get(f"/m/history/{case.evaluation_id}/").status_code == 404
    response = other.post(f"/m/history/{case.evaluation_id}/", {"handling_rating": "dissatisfied"})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED


def test_the_contact_is_shown_only_while_the_case_is_open(reviewers, consenting_case, login):
    from cases.models import Outcome
    from cases.services import rate_handling, reply_case

    w, case = reviewers, consenting_case
    verify_case(case=case, by=w.union_admin, finding="属实")
    reply_case(case=case, by=w.union_admin, outcome=Outcome.EXPLAINED, measures="", reply="说明")
    rate_handling(case=case, member=w.wang, rating="satisfied")

    page = login(w.union_admin).get(f"/console/cases/{case.pk}/").content.decode()

    assert "王芳" not in page
    assert not AuditEvent.objects.filter(action=AuditAction.REVEALED).exists()


def test_a_reopened_case_shows_the_contact_to_the_town_not_the_union(
    reviewers, consenting_case, login
):
    from cases.models import Outcome
    from cases.services import rate_handling, reply_case

    w, case = reviewers, consenting_case
    verify_case(case=case, by=w.union_admin, finding="属实")
    reply_case(case=case, by=w.union_admin, outcome=Outcome.EXPLAINED, measures="", reply="说明")
    rate_handling(case=case, member=w.wang, rating="dissatisfied")

    assert "王芳" not in login(w.union_admin).get(f"/console/cases/{case.pk}/").content.decode()
    assert "王芳" in login(w.town_admin).get(f"/console/cases/{case.pk}/").content.decode()
