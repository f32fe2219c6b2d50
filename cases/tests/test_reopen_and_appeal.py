"""不满意 reopens a case once at the parent org; appeals are decided by the parent org."""

import pytest

from cases.models import (
    Appeal,
    AppealDecision,
    Case,
    CaseEvent,
    CaseState,
    EventKind,
    Notification,
    NotificationKind,
    Outcome,
)
from cases.selectors import excluded_from_satisfaction
from cases.services import (
    CaseError,
    CaseNotAllowed,
    decide_appeal,
    file_appeal,
    rate_handling,
    reply_case,
    verify_case,
)
from evaluations.models import Evaluation

from .conftest import at


def _replied(w, case, *, by=None, now="2022-10-10"):
    if Case.objects.get(pk=case.pk).state == CaseState.VERIFYING:
        verify_case(case=case, by=by or w.union_admin, finding="属实", now=at("2022-10-08"))
    return reply_case(
        case=case,
        by=by or w.union_admin,
        outcome=Outcome.EXPLAINED,
        measures="",
        reply="这是工会的答复",
        now=at(now),
    )


def test_dissatisfied_reopens_the_case_once_at_the_town(reviewers, case):
    w = reviewers
    _replied(w, case)

    rate_handling(case=case, member=w.li, rating="dissatisfied", now=at("2022-10-11"))

    case.refresh_from_db()
    assert case.state == CaseState.RECTIFYING
    assert case.reopen_count == 1
    assert case.escalated_to == w.town
    assert case.handling_rating == "dissatisfied"
    # A new reply deadline, 15 working days from the reopening.
    assert case.rectify_due.isoformat() == "2022-11-01"
    notice = Notification.objects.get()
    assert (notice.org, notice.kind) == (w.town, NotificationKind.REOPENED)

    # The union no longer handles it: the town does.
    with pytest.raises(CaseNotAllowed, match="转真州镇重办"):
        _replied(w, case, now="2022-10-12")
    _replied(w, case, by=w.town_admin, now="2022-10-13")

    rate_handling(case=case, member=w.li, rating="dissatisfied", now=at("2022-10-14"))

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.reopen_count == 1
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds.count(EventKind.REOPENED) == 1
    assert kinds.count(EventKind.REPLIED) == 2
    assert kinds[-1] == EventKind.CLOSED


def test_the_member_reads_both_replies_after_a_reopening(reviewers, case, login):
    w = reviewers
    _replied(w, case)
    rate_handling(case=case, member=w.li, rating="dissatisfied", now=at("2022-10-11"))
    reply_case(
        case=case,
        by=w.town_admin,
        outcome=Outcome.FIXED,
        measures="镇工会督促整改",
        reply="镇工会已督促整改",
        now=at("2022-10-13"),
    )

    page = login(w.li.user).get(f"/m/history/{case.evaluation_id}/").content.decode()

    assert page.index("这是工会的答复") < page.index("镇工会已督促整改")
    assert "真州镇 · " in page
    assert "您对工会的处理情况是否满意" in page


def test_the_reopened_deadline_can_make_it_overdue_again(reviewers, case):
    from cases.services import check_overdue_cases

    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    assert check_overdue_cases(now=at("2022-10-27")).rectify == 1
    _replied(w, case, now="2022-10-28")
    rate_handling(case=case, member=w.li, rating="dissatisfied", now=at("2022-10-31"))

    report = check_overdue_cases(now=at("2022-12-01"))

    assert report.rectify == 1
    assert report.escalated == 0  # already at the town
    assert Notification.objects.filter(kind=NotificationKind.RECTIFY_OVERDUE).count() == 2


def test_an_upheld_appeal_keeps_the_evaluation_counted_but_out_of_satisfaction(
    reviewers, case, login
):
    w = reviewers
    evaluations_before = Evaluation.objects.filter(campaign=w.campaign).count()
    verify_case(case=case, by=w.union_admin, finding="评价内容是企业工资", now=at("2022-10-08"))

    file_appeal(
        case=case,
        by=w.union_admin,
        claim="not_our_work",
        reasons="会员反映的是企业工资待遇，不属工会工作",
        now=at("2022-10-09"),
    )
    case.refresh_from_db()
    assert case.state == CaseState.APPEALING
    assert Notification.objects.get().kind == NotificationKind.APPEAL

    with pytest.raises(CaseNotAllowed):  # the union never decides its own appeal
        decide_appeal(case=case, by=w.union_admin, upheld=True, reasons="自己裁定")
    decide_appeal(
        case=case, by=w.town_admin, upheld=True, reasons="经核实属工资问题", now=at("2022-10-10")
    )

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.excluded
    assert Evaluation.objects.filter(pk=case.evaluation_id).exists()
    assert Evaluation.objects.filter(campaign=w.campaign).count() == evaluations_before
    assert list(excluded_from_satisfaction(w.campaign)) == [case.evaluation_id]
    satisfaction_base = Evaluation.objects.filter(campaign=w.campaign).exclude(
        pk__in=excluded_from_satisfaction(w.campaign)
    )
    assert not satisfaction_base.filter(pk=case.evaluation_id).exists()

    for admin in (w.union_admin, w.town_admin):
        page = login(admin).get(f"/console/cases/{case.pk}/").content.decode()
        assert "申诉成立" in page and "经核实属工资问题" in page
    assert Appeal.objects.get().decision == AppealDecision.UPHELD


def test_a_refused_appeal_returns_the_case_where_it_was(reviewers, case):
    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    file_appeal(
        case=case, by=w.union_admin, claim="malicious", reasons="恶意", now=at("2022-10-09")
    )

    with pytest.raises(CaseError, match="裁定前不能办理"):
        _replied(w, case)
    decide_appeal(
        case=case, by=w.town_admin, upheld=False, reasons="评价有事实依据", now=at("2022-10-10")
    )

    case.refresh_from_db()
    assert case.state == CaseState.RECTIFYING and not case.excluded
    assert list(excluded_from_satisfaction(w.campaign)) == []
    with pytest.raises(CaseError, match="只能申诉一次"):
        file_appeal(case=case, by=w.union_admin, claim="malicious", reasons="再申诉")
    _replied(w, case, now="2022-10-11")
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED


def test_the_town_does_not_appeal_against_a_review_it_would_decide(reviewers, case):
    with pytest.raises(CaseNotAllowed, match="申诉由被评工会提出"):
        file_appeal(case=case, by=reviewers.town_admin, claim="malicious", reasons="恶意")


def test_appeal_and_decision_through_the_console(reviewers, case, login):
    w = reviewers
    union = login(w.union_admin)
    response = union.post(
        f"/console/cases/{case.pk}/appeal/", {"claim": "malicious", "reasons": "同一人多次恶意差评"}
    )
    assert response.status_code == 302

    town = login(w.town_admin)
    page = town.get(f"/console/cases/{case.pk}/").content.decode()
    assert "同一人多次恶意差评" in page and 'name="decision"' in page
    town.post(
        f"/console/cases/{case.pk}/decide/",
        {"decision": "upheld", "decision_reasons": "查实为恶意评价"},
    )
    assert Case.objects.get(pk=case.pk).excluded
