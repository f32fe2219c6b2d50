"""Submitting an evaluation: one per member per campaign, the union at that moment, counters."""

import threading
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import QuestionnaireLocked, save_questionnaire
from conftest import SHANGHAI
from evaluations import counters
from evaluations.models import Answer, AppendOnlyError, DailyCount, Evaluation, SubmissionTrace
from evaluations.rules import (
    Closed,
    InvalidAnswers,
    MemberLeft,
    NotInCampaign,
    NotOpenYet,
    NotRegistered,
    RequestKeyReused,
)
from evaluations.selectors import campaigns_of_member, history_of, open_to_do, questionnaire
from evaluations.services import Answers, submit_evaluation
from members.models import Member, MemberStatus
from members.transfer import transfer_member


def items(campaign):
    return questionnaire(campaign).items


def submit(member, campaign, overall=4, ratings=None, **kwargs):
    answers = Answers(
        overall=overall,
        ratings=ratings or {},
        suggestion=kwargs.pop("suggestion", ""),
        return_visit=kwargs.pop("return_visit", False),
    )
    return submit_evaluation(member=member, campaign=campaign, answers=answers, **kwargs)


def evaluated(campaign, org) -> int:
    return counters.evaluated_counts(campaign=campaign, org_ids=[org.pk])[org.pk]


def test_submission_stores_the_answers_and_the_union_at_that_moment(evaluators):
    w = evaluators
    first, second = items(w.open_campaign)[:2]
    done = submit(
        w.li,
        w.open_campaign,
        overall=5,
        ratings={first.pk: 4, second.pk: None},
        suggestion="  希望多组织<b>文体活动</b>\r\n谢谢  ",
        return_visit=True,
        address="10.0.0.7",
        user_agent="Mozilla/5.0",
    )
    assert done.created
    evaluation = done.evaluation
    assert evaluation.org == w.town_union_a
    assert evaluation.overall == 5 and evaluation.return_visit and not evaluation.is_negative
    # As written, escaped only on output; only the blanks around it and \r are dropped.
    assert evaluation.suggestion == "希望多组织<b>文体活动</b>\n谢谢"
    assert list(evaluation.answers.values_list("question_id", "rating")) == [(first.pk, 4)]
    trace = SubmissionTrace.objects.get(evaluation=evaluation)
    assert trace.address == "10.0.0.7" and len(trace.device) == 32


def test_counts_reach_the_union_and_every_ancestor_up_to_the_campaign(evaluators):
    w = evaluators
    submit(w.li, w.open_campaign)
    submit(w.zhao, w.open_campaign, overall=2)
    assert evaluated(w.open_campaign, w.town_union_a) == 1
    assert evaluated(w.open_campaign, w.town) == 1
    assert evaluated(w.open_campaign, w.park) == 1
    assert evaluated(w.open_campaign, w.city) == 2
    assert evaluated(w.open_campaign, w.town_union_b) == 0
    day = counters.local_day(Evaluation.objects.get(member=w.li).submitted_at)
    assert counters.daily_series(campaign=w.open_campaign, org=w.city) == [(day, 2)]


def test_a_second_submission_answers_with_the_stored_one(evaluators):
    w = evaluators
    first = submit(w.li, w.open_campaign, overall=5)
    again = submit(w.li, w.open_campaign, overall=1, suggestion="改主意了")
    assert not again.created
    assert again.evaluation.pk == first.evaluation.pk and again.evaluation.overall == 5
    assert Evaluation.objects.count() == 1
    assert evaluated(w.open_campaign, w.city) == 1


def test_a_retried_request_key_answers_with_its_evaluation_and_is_not_reused(evaluators, world):
    w = evaluators
    first = submit(w.li, w.open_campaign, request_key="key-1")
    assert not submit(w.li, w.open_campaign, request_key="key-1").created
    w.campaign.ends_at = datetime(2099, 1, 1, tzinfo=SHANGHAI)
    w.campaign.save()
    with pytest.raises(RequestKeyReused):
        submit(w.li, w.campaign, request_key="key-1")
    assert Evaluation.objects.get() == first.evaluation


def test_missing_overall_names_the_field_and_stores_nothing(evaluators):
    w = evaluators
    item = items(w.open_campaign)[0]
    with pytest.raises(InvalidAnswers) as refused:
        submit(w.li, w.open_campaign, overall=None, ratings={item.pk: 3})
    assert refused.value.errors == {"overall": "请选择“工作总体满意度”。"}
    assert not Evaluation.objects.exists() and not DailyCount.objects.exists()


def test_bad_ratings_and_a_long_suggestion_are_each_named(evaluators, other_campaign):
    w = evaluators
    item = items(w.open_campaign)[0]
    foreign = items(other_campaign)[0]
    with pytest.raises(InvalidAnswers) as refused:
        submit(
            w.li,
            w.open_campaign,
            overall=6,
            ratings={item.pk: 0, foreign.pk: 3},
            suggestion="建" * 501,
        )
    errors = refused.value.errors
    assert errors["overall"] == "“工作总体满意度”的评分应为 1 至 5 星，收到的是 6。"
    assert errors[f"item_{item.pk}"] == "“职工(代表)大会”的评分应为 1 至 5 星，收到的是 0。"
    assert errors[f"item_{foreign.pk}"] == f"本次评议没有编号为 {foreign.pk} 的分项。"
    assert errors["suggestion"] == "建议最多 500 字，您写了 501 字。"
    assert not Evaluation.objects.exists()


def test_outside_the_window_the_member_is_told_when(evaluators):
    w = evaluators
    with pytest.raises(Closed, match="“2022年会员网上评议”已于2022年11月30日结束"):
        submit(w.li, w.campaign)
    w.campaign.starts_at = datetime(2099, 3, 1, 8, 0, tzinfo=SHANGHAI)
    w.campaign.ends_at = datetime(2099, 4, 1, tzinfo=SHANGHAI)
    w.campaign.save()
    with pytest.raises(NotOpenYet, match="将于2099年3月1日 08:00开放评议"):
        submit(w.li, w.campaign)


def test_who_may_not_evaluate_is_told_why(evaluators, other_campaign):
    w = evaluators
    with pytest.raises(NotRegistered, match="请先完成实名注册"):
        submit(w.wang, w.open_campaign)
    other_campaign.ends_at = datetime(2099, 1, 1, tzinfo=SHANGHAI)
    other_campaign.save()
    with pytest.raises(NotInCampaign, match="“枣林湾酒店工会”不在“扬州评议”的范围内"):
        submit(w.zhao, other_campaign)
    Member.objects.filter(pk=w.li.pk).update(status=MemberStatus.LEFT)
    w.li.refresh_from_db()
    with pytest.raises(MemberLeft):
        submit(w.li, w.open_campaign)
    assert not Evaluation.objects.exists()


def test_negative_by_the_campaign_rule(evaluators):
    w = evaluators
    item = items(w.open_campaign)[0]
    assert submit(w.li, w.open_campaign, overall=2).evaluation.is_negative
    w.open_campaign.negative_rule = "overall_or_item"
    w.open_campaign.save()
    assert submit(w.zhao, w.open_campaign, overall=4, ratings={item.pk: 1}).evaluation.is_negative


def test_a_transfer_after_evaluating_leaves_the_evaluation_and_counts_where_they_were(evaluators):
    w = evaluators
    done = submit(w.li, w.open_campaign)
    transfer_member(member=w.li, to_org=w.park_union)
    done.evaluation.refresh_from_db()
    assert done.evaluation.org == w.town_union_a
    assert evaluated(w.open_campaign, w.town) == 1 and evaluated(w.open_campaign, w.park) == 0
    assert counters.recount(w.open_campaign) == []


def test_stored_evaluations_and_answers_cannot_be_changed_or_deleted(evaluators):
    w = evaluators
    item = items(w.open_campaign)[0]
    evaluation = submit(w.li, w.open_campaign, ratings={item.pk: 3}).evaluation
    evaluation.overall = 1
    with pytest.raises(AppendOnlyError):
        evaluation.save()
    with pytest.raises(AppendOnlyError):
        evaluation.delete()
    with pytest.raises(AppendOnlyError):
        Answer.objects.get().delete()
    assert Evaluation.objects.get().overall == 4


def test_member_campaign_list_and_history(evaluators):
    w = evaluators
    rows = campaigns_of_member(w.li)
    assert [(r.campaign.name, r.status, r.to_do) for r in rows] == [
        ("2026年会员网上评议", "open", True),
        ("2022年会员网上评议", "closed", False),
    ]
    assert rows[1].window == "2022年9月1日至11月30日"
    submit(w.li, w.open_campaign)
    assert open_to_do(w.li) == []
    assert [e.campaign.name for e in history_of(w.li)] == ["2026年会员网上评议"]


def test_recount_finds_a_tampered_counter_and_fix_restores_it(evaluators):
    w = evaluators
    submit(w.li, w.open_campaign)
    submit(w.zhao, w.open_campaign)
    out = StringIO()
    call_command("recount_evaluations", campaign=w.open_campaign.pk, stdout=out)
    assert "计数一致" in out.getvalue()

    DailyCount.objects.filter(campaign=w.open_campaign, org=w.park).update(count=7)
    drift = counters.recount(w.open_campaign)
    assert [(d.org_id, d.stored, d.counted) for d in drift] == [(w.park.pk, 7, 1)]
    out = StringIO()
    with pytest.raises(CommandError, match="共 1 处不一致"):
        call_command("recount_evaluations", campaign=w.open_campaign.pk, stdout=out)
    assert "枣林湾旅游度假区" in out.getvalue() and "计数器 7，实际 1" in out.getvalue()
    call_command("recount_evaluations", campaign=w.open_campaign.pk, fix=True, stdout=StringIO())
    assert counters.recount(w.open_campaign) == []
    assert evaluated(w.open_campaign, w.city) == 2


def test_counters_follow_the_local_day(evaluators):
    w = evaluators
    # 23:30 on 2022-09-01 in Shanghai is 15:30 UTC: it counts for 1 September.
    moment = datetime(2022, 9, 1, 23, 30, tzinfo=SHANGHAI)
    submit(w.li, w.campaign, now=moment)
    assert counters.daily_series(campaign=w.campaign, org=w.city) == [(moment.date(), 1)]
    assert counters.recount(w.campaign) == []


def test_a_rated_questionnaire_keeps_its_wording(evaluators):
    w = evaluators
    item = items(w.open_campaign)[0]
    submit(w.li, w.open_campaign, ratings={item.pk: 3})
    entries = [{"id": item.pk, "label": "职代会", "position": 1, "delete": False}]
    with pytest.raises(QuestionnaireLocked, match="“职工\\(代表\\)大会”的题目不能再修改"):
        save_questionnaire(campaign=w.open_campaign, entries=entries)
    entries = [{"id": item.pk, "label": item.label, "position": 1, "delete": True}]
    with pytest.raises(QuestionnaireLocked, match="已有会员评分，不能删除"):
        save_questionnaire(campaign=w.open_campaign, entries=entries)
    added = [{"id": None, "label": "新增分项", "position": 20, "delete": False}]
    save_questionnaire(campaign=w.open_campaign, entries=added)
    new_item = items(w.open_campaign)[-1]
    assert new_item.label == "新增分项"
    # The next submission, with the campaign read afresh as each request reads it, may rate it.
    campaign = Campaign.objects.select_related("org").get(pk=w.open_campaign.pk)
    done = submit(w.zhao, campaign, ratings={new_item.pk: 5})
    assert list(done.evaluation.answers.values_list("question_id", flat=True)) == [new_item.pk]


def test_a_repeat_after_the_window_closed_still_shows_what_was_sent(evaluators):
    w = evaluators
    first = submit(w.li, w.open_campaign, overall=5)
    w.open_campaign.ends_at = timezone.now()
    w.open_campaign.save()
    again = submit(w.li, w.open_campaign, overall=None)
    assert not again.created and again.evaluation.pk == first.evaluation.pk
    with pytest.raises(Closed):
        submit(w.zhao, w.open_campaign)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_of_one_member_leave_exactly_one_row(evaluators):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in make test's PostgreSQL pass (DATABASE_URL)")
    w = evaluators
    attempts = 8
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(n):
        barrier.wait()
        try:
            member = Member.objects.select_related("org").get(pk=w.li.pk)
            done = submit(member, w.open_campaign, overall=1 + n % 5)
            outcomes.append(done.created)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * (attempts - 1) + [True]
    assert Evaluation.objects.filter(member=w.li).count() == 1
    assert evaluated(w.open_campaign, w.city) == 1
    assert counters.recount(w.open_campaign) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_of_many_members_count_every_one(evaluators):
    """Many members of one union at once: the shared ancestors' counters lose nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in make test's PostgreSQL pass (DATABASE_URL)")
    from conftest import fake_id_number, register_member_account
    from members.services import add_member

    w = evaluators
    people = [
        register_member_account(
            add_member(
                org=w.town_union_b,
                name="会员" + "甲乙丙丁戊己庚辛壬癸子丑"[n],
                id_number=fake_id_number(10 + n),
            )
        )
        for n in range(12)
    ]
    barrier = threading.Barrier(len(people))

    def attempt(member):
        barrier.wait()
        try:
            submit(Member.objects.select_related("org").get(pk=member.pk), w.open_campaign)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert evaluated(w.open_campaign, w.city) == 12
    assert evaluated(w.open_campaign, w.town_union_b) == 12
    assert counters.recount(w.open_campaign) == []
