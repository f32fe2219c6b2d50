"""A case walked through on time, by the union's admin in the console and the member on H5."""

from datetime import date

import pytest

from cases.models import Case, CaseEvent, CaseState, EventKind, Outcome
from cases.services import (
    CaseError,
    complete_rectification,
    rate_handling,
    record_return_visit,
    reply_case,
    verify_case,
)

from .conftest import at, negative_review


def _post(client, case, step, **data):
    return client.post(f"/console/cases/{case.pk}/{step}/", data)


def test_on_time_path_through_the_console_and_the_member_page(reviewers, live_case, login):
    w, case = reviewers, live_case
    admin = login(w.union_admin)

    page = admin.get(f"/console/cases/{case.pk}/")
    assert page.status_code == 200
    assert "工会活动太少，意见没人听" in page.content.decode()
    assert "记录核实情况" in page.content.decode()

    assert _post(admin, case, "verify", finding="活动确实偏少，已与行政沟通").status_code == 302
    response = _post(
        admin,
        case,
        "reply",
        outcome=Outcome.FIXED,
        measures="本月起每月组织一次职工活动",
        reply="感谢您的意见，我们已安排每月一次职工活动。",
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED
    assert case.replied_on_time is True

    member = login(w.li.user)
    history = member.get(f"/m/history/{case.evaluation_id}/").content.decode()
    assert "感谢您的意见，我们已安排每月一次职工活动。" in history
    assert "立行立改" in history
    assert "您对工会的处理情况是否满意" in history

    rated = member.post(f"/m/history/{case.evaluation_id}/", {"handling_rating": "satisfied"})
    assert rated.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.handling_rating == "satisfied"
    assert "您对处理情况的评价：满意" in member.get(rated.url).content.decode()


def test_every_step_records_who_and_when(reviewers, consenting_case):
    w, case = reviewers, consenting_case
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08", 9))
    reply_case(
        case=case,
        by=w.union_admin,
        outcome=Outcome.EXPLAINED,
        measures="",
        reply="已当面解释",
        now=at("2022-10-10", 9),
    )
    record_return_visit(
        case=case, by=w.union_admin, note="电话回访，会员认可", now=at("2022-10-11")
    )
    rate_handling(case=case, member=w.wang, rating="basically", now=at("2022-10-12"))

    events = list(CaseEvent.objects.filter(case=case).order_by("at", "pk"))
    assert [e.kind for e in events] == [
        EventKind.OPENED,
        EventKind.VERIFIED,
        EventKind.REPLIED,
        EventKind.VISITED,
        EventKind.RATED,
        EventKind.CLOSED,
    ]
    assert [e.actor for e in events[1:4]] == [w.union_admin] * 3
    assert all(e.actor_org == w.town_union_a for e in events[1:4])
    assert events[1].at == at("2022-10-08", 9)
    assert events[4].by_member and events[4].actor is None
    assert events[4].text == "基本满意"


def test_wrong_steps_are_refused_in_chinese(reviewers, case):
    w = reviewers
    with pytest.raises(CaseError, match="请先核实，再整改答复"):
        reply_case(case=case, by=w.union_admin, outcome=Outcome.FIXED, measures="x", reply="y")
    with pytest.raises(CaseError, match="工会还未答复"):
        rate_handling(case=case, member=w.li, rating="satisfied")
    with pytest.raises(CaseError, match="未同意接受回访"):
        verify_case(case=case, by=w.union_admin, finding="属实")
        record_return_visit(case=case, by=w.union_admin, note="x")
    with pytest.raises(CaseError, match="请填写给会员的答复"):
        reply_case(case=case, by=w.union_admin, outcome=Outcome.FIXED, measures="x", reply=" ")

    reply_case(case=case, by=w.union_admin, outcome=Outcome.FIXED, measures="x", reply="好的")
    rate_handling(case=case, member=w.li, rating="satisfied")
    with pytest.raises(CaseError, match="已办结"):
        verify_case(case=case, by=w.union_admin, finding="再核实")


def test_a_wrong_step_in_the_console_answers_with_the_message(reviewers, case, login):
    admin = login(reviewers.union_admin)

    response = _post(admin, case, "reply", outcome="fixed", measures="x", reply="答复内容草稿")

    assert response.status_code == 409
    assert "请先核实，再整改答复。" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.VERIFYING


def test_a_refused_reply_keeps_what_was_typed(reviewers, case, login):
    verify_case(case=case, by=reviewers.union_admin, finding="属实")
    admin = login(reviewers.union_admin)

    response = _post(admin, case, "reply", outcome="fixed", measures="", reply="答复内容草稿")

    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写整改措施。" in page
    assert "答复内容草稿</textarea>" in page


def test_a_deadline_outcome_needs_its_date_and_goes_to_the_ledger(reviewers, case, login):
    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    with pytest.raises(CaseError, match="限期整改请填写承诺整改完成日期"):
        reply_case(
            case=case,
            by=w.union_admin,
            outcome=Outcome.BY_DEADLINE,
            measures="更换食堂承包方",
            reply="我们将在年底前更换",
            now=at("2022-10-10"),
        )
    reply_case(
        case=case,
        by=w.union_admin,
        outcome=Outcome.BY_DEADLINE,
        measures="更换食堂承包方",
        reply="我们将在年底前更换",
        rectify_by=date(2022, 12, 31),
        now=at("2022-10-10"),
    )

    ledger = login(w.town_admin).get("/console/cases/ledger/").content.decode()
    assert "更换食堂承包方" in ledger
    assert "2022年12月31日" in ledger
    assert "逾期未完成" in ledger  # the promised day has passed (today is after 2022)

    complete_rectification(case=case, by=w.union_admin, note="已更换", now=at("2022-12-20"))
    ledger = login(w.town_admin).get("/console/cases/ledger/").content.decode()
    assert "2022年12月20日 已完成" in ledger
    assert Case.objects.get(pk=case.pk).rectified_at is not None


def test_a_late_reply_is_not_on_time(reviewers, case):
    w = reviewers
    verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
    reply_case(
        case=case,
        by=w.union_admin,
        outcome=Outcome.FIXED,
        measures="x",
        reply="迟到的答复",
        now=at("2022-10-27"),
    )
    case.refresh_from_db()
    assert case.replied_on_time is False


def test_the_timeline_cannot_be_rewritten_or_deleted(case):
    from evaluations.models import AppendOnlyError

    event = CaseEvent.objects.get(case=case)
    event.text = "改写"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(case=case).update(text="改写")
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(case=case).delete()


def test_only_a_new_negative_review_opens_a_case(reviewers):
    from evaluations.models import Evaluation

    w = reviewers
    negative_review(w.li, w.campaign)
    again = negative_review(w.li, w.campaign)  # a repeat answers with the stored evaluation
    content = negative_review(w.zhao, w.campaign, overall=4)

    assert Case.objects.count() == 1
    assert again == Case.objects.get()
    assert content is None
    assert Evaluation.objects.get(member=w.zhao).is_negative is False


def test_the_member_cannot_rate_before_the_reply(reviewers, case, login):
    member = login(reviewers.li.user)

    response = member.post(f"/m/history/{case.evaluation_id}/", {"handling_rating": "satisfied"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "工会正在核实处理您的意见" in page
    assert "工会还未答复，答复后才能评价处理情况。" in page
    case.refresh_from_db()
    assert case.handling_rating == ""
