"""工作评议 and 我的评议记录 on the member's phone (H5), through the test client."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaigns.services import create_campaign
from conftest import SHANGHAI, register_member_account
from evaluations.forms_h5 import TOKEN_FIELD, form_token
from evaluations.models import Evaluation, SubmissionTrace
from evaluations.selectors import campaigns_of_member, questionnaire
from evaluations.services import Answers, submit_evaluation
from members.models import Member, MemberStatus

ITEMS_2022 = [
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
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def form_url(campaign) -> str:
    return reverse("members:evaluate", args=[campaign.pk])


def token_of(html: str) -> str:
    return re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', html).group(1)


@pytest.fixture
def li(evaluators, login):
    """李华, registered, logged in; the city's 2026 campaign is open."""
    return login(evaluators.li.user)


def filled_form(campaign, client, **fields) -> dict:
    """A form as the page gives it (with its token), plus what the member picked."""
    html = client.get(form_url(campaign)).content.decode()
    return {TOKEN_FIELD: token_of(html), **fields}


def test_the_form_shows_the_campaign_its_questions_in_order_and_five_levels(li, evaluators):
    w = evaluators
    response = li.get(form_url(w.open_campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年会员网上评议" in html and "真州镇中心小学工会" in html
    assert "工作总体满意度" in html and "（必选）" in html
    positions = [html.index(f'<legend class="ev-legend">{label}') for label in ITEMS_2022]
    assert positions == sorted(positions)
    for level in LEVELS:
        assert f'<span class="visually-hidden">{level}</span>' in html
    assert html.count('name="overall"') == 5
    item = questionnaire(w.open_campaign).items[0]
    assert html.count(f'name="item_{item.pk}"') == 5
    assert 'maxlength="500"' in html and "最多500字" in html
    assert "您对所在工会工作的建议" in html
    assert "工会可以看到您的姓名和联系电话并与您联系" in html
    assert 'name="return_visit"' in html and "提交评议" in html
    assert "/static/evaluations/evaluate.js" in html and "<script>" not in html


def test_a_valid_form_stores_one_evaluation_and_shows_it(li, evaluators):
    w = evaluators
    first, second = questionnaire(w.open_campaign).items[:2]
    data = filled_form(
        w.open_campaign,
        li,
        overall="5",
        **{f"item_{first.pk}": "4", f"item_{second.pk}": ""},
        suggestion="希望多组织文体活动\r\n谢谢",
        return_visit="1",
    )
    response = li.post(form_url(w.open_campaign), data, HTTP_USER_AGENT="Mozilla/5.0 (Phone)")
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("members:history_detail", args=[evaluation.pk])
    assert (evaluation.member, evaluation.overall, evaluation.return_visit) == (w.li, 5, True)
    assert evaluation.suggestion == "希望多组织文体活动\n谢谢"
    assert list(evaluation.answers.values_list("question_id", "rating")) == [(first.pk, 4)]
    assert evaluation.channel == "h5" and len(evaluation.request_key) == 64
    trace = SubmissionTrace.objects.get(evaluation=evaluation)
    assert trace.address == "127.0.0.1" and trace.device
    assert trace.form_opened_at is not None
    assert abs(trace.form_opened_at - timezone.now()) < timedelta(minutes=1)

    page = li.get(response.url)
    html = page.content.decode()
    assert "提交成功，感谢您参与评议！" in html
    assert "非常满意" in html and "职工(代表)大会" in html and "未评" in html
    assert "希望多组织文体活动<br>谢谢" in html
    assert "愿意接受回访" in html
    assert "工会答复" not in html


def test_without_overall_the_field_is_marked_and_the_rest_is_kept(li, evaluators):
    w = evaluators
    item = questionnaire(w.open_campaign).items[3]
    data = filled_form(
        w.open_campaign,
        li,
        **{f"item_{item.pk}": "2"},
        suggestion="食堂<饭菜>要改进",
        return_visit="1",
    )
    response = li.post(form_url(w.open_campaign), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请选择“工作总体满意度”。" in html
    assert 'id="overall_error"' in html and 'aria-invalid="true"' in html
    assert '<fieldset class="ev-rate has-error" id="q_overall">' in html
    assert f'id="item_{item.pk}_2" name="item_{item.pk}" value="2" checked' in html
    assert "食堂&lt;饭菜&gt;要改进</textarea>" in html
    assert re.search(r'name="return_visit" value="1" [^>]*checked', html)
    # The same form, so the same key: a later submission of it is the same request.
    assert token_of(html) == data[TOKEN_FIELD]
    assert not Evaluation.objects.exists()


def test_a_second_post_keeps_one_row_and_shows_the_stored_evaluation(li, evaluators):
    w = evaluators
    data = filled_form(w.open_campaign, li, overall="4", suggestion="第一次")
    li.post(form_url(w.open_campaign), data)
    # A double tap of the same form, then a form without its token, filled in differently.
    again = li.post(form_url(w.open_campaign), data)
    third = li.post(form_url(w.open_campaign), {**data, "overall": "1", TOKEN_FIELD: ""})
    evaluation = Evaluation.objects.get()
    assert evaluation.overall == 4 and evaluation.suggestion == "第一次"
    detail = reverse("members:history_detail", args=[evaluation.pk])
    assert again.url == detail and third.url == detail
    html = li.get(detail).content.decode()
    assert "您已参加过本次评议，以下是您提交的内容" in html and "第一次" in html


def test_opening_the_form_again_shows_the_stored_evaluation(li, evaluators):
    w = evaluators
    submit_evaluation(member=w.li, campaign=w.open_campaign, answers=Answers(3, {}))
    response = li.get(form_url(w.open_campaign))
    evaluation = Evaluation.objects.get()
    assert response.url == reverse("members:history_detail", args=[evaluation.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "您已参加过本次评议，以下是您提交的内容"
    ]


def test_a_broken_or_foreign_token_does_not_block_the_submission(li, evaluators):
    w = evaluators
    foreign = form_token(member=w.zhao, campaign=w.open_campaign)
    li.post(form_url(w.open_campaign), {TOKEN_FIELD: foreign, "overall": "3"})
    evaluation = Evaluation.objects.get()
    assert evaluation.overall == 3 and evaluation.request_key == ""
    assert SubmissionTrace.objects.get().form_opened_at is None
    register_member_account(w.wang)
    w.wang.refresh_from_db()
    li.force_login(w.wang.user)
    li.post(form_url(w.open_campaign), {TOKEN_FIELD: "forged:token:value", "overall": "2"})
    assert Evaluation.objects.get(member=w.wang).overall == 2


def test_a_closed_campaign_says_when_it_ended_and_has_no_form(li, evaluators):
    w = evaluators
    response = li.get(form_url(w.campaign))
    html = response.content.decode()
    assert response.status_code == 200
    assert "“2022年会员网上评议”已于2022年11月30日结束" in html
    assert 'name="overall"' not in html
    response = li.post(form_url(w.campaign), {"overall": "5"})
    assert "已于2022年11月30日结束" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_an_upcoming_campaign_says_when_it_opens(li, evaluators):
    w = evaluators
    w.campaign.starts_at = datetime(2099, 3, 1, 8, 0, tzinfo=SHANGHAI)
    w.campaign.ends_at = datetime(2099, 4, 1, tzinfo=SHANGHAI)
    w.campaign.save()
    html = li.get(form_url(w.campaign)).content.decode()
    assert "将于2099年3月1日 08:00开放评议" in html and 'name="overall"' not in html


def test_a_member_without_a_verified_account_is_told_to_register(evaluators, rf):
    # An account is only ever made verified (the database insists), so no unverified member
    # reaches these pages logged in; the list and the refusal page still say why.
    w = evaluators
    rows = campaigns_of_member(w.wang)
    assert [row.refusal.code for row in rows] == ["not_registered", "not_registered"]
    assert not any(row.to_do for row in rows)
    html = render_to_string(
        "evaluations/h5/campaigns.html",
        {"member": w.wang, "to_do": [], "others": rows},
        request=rf.get("/m/campaigns/"),
    )
    assert html.count("请先完成实名注册，再参加评议。") == 2


def test_a_member_who_left_is_told_why(li, evaluators):
    w = evaluators
    Member.objects.filter(pk=w.li.pk).update(status=MemberStatus.LEFT)
    html = li.get(form_url(w.open_campaign)).content.decode()
    assert "您已不在工会会员名册中" in html and "申请信息更正" in html


def test_another_federations_campaign_is_not_found(li, other_campaign):
    other_campaign.ends_at = timezone.now() + timedelta(days=3)
    other_campaign.save()
    response = li.get(form_url(other_campaign))
    assert response.status_code == 404
    html = response.content.decode()
    assert "这项评议活动不包括您所在的“真州镇中心小学工会”" in html
    assert "扬州评议" not in html
    assert li.post(form_url(other_campaign), {"overall": "5"}).status_code == 404
    assert li.get(reverse("members:evaluate", args=[99999])).status_code == 404
    assert not Evaluation.objects.exists()


def test_one_open_campaign_goes_straight_to_its_form(li, evaluators):
    w = evaluators
    response = li.get(reverse("members:campaigns"))
    assert response.url == form_url(w.open_campaign)
    home = li.get(reverse("members:home")).content.decode()
    assert "待参与 1" in home


def test_two_open_campaigns_are_listed_to_do_with_the_others_below(li, evaluators):
    w = evaluators
    now = timezone.now()
    town_campaign = create_campaign(
        org=w.town,
        name="真州镇专项评议",
        year=2022,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
    )
    html = li.get(reverse("members:campaigns")).content.decode()
    to_do, others = html.split("其他评议活动")
    assert "待参与" in to_do
    assert form_url(w.open_campaign) in to_do and form_url(town_campaign) in to_do
    assert "2022年会员网上评议" in others and "已于2022年11月30日结束" in others
    assert "待参与 2" in li.get(reverse("members:home")).content.decode()

    li.post(form_url(town_campaign), {"overall": "5"})
    assert li.get(reverse("members:campaigns")).url == form_url(w.open_campaign)
    html = li.get(reverse("members:campaigns") + "?all=1").content.decode()
    assert "已评议" in html and "查看我的评议" in html


def test_no_open_campaign_lists_each_with_its_state(li, evaluators):
    w = evaluators
    submit_evaluation(member=w.li, campaign=w.open_campaign, answers=Answers(4, {}))
    html = li.get(reverse("members:campaigns")).content.decode()
    assert "已评议" in html and "已于2022年11月30日结束" in html
    assert "待参与" not in html
    assert "待参与" not in li.get(reverse("members:home")).content.decode()


def test_history_lists_every_campaign_with_the_union_at_the_time(li, evaluators):
    w = evaluators
    moment = datetime(2022, 10, 8, 9, 30, tzinfo=SHANGHAI)
    submit_evaluation(member=w.li, campaign=w.campaign, answers=Answers(2, {}), now=moment)
    submit_evaluation(member=w.li, campaign=w.open_campaign, answers=Answers(5, {}))
    Member.objects.filter(pk=w.li.pk).update(org=w.park_union)
    html = li.get(reverse("members:history")).content.decode()
    assert html.index("2026年会员网上评议") < html.index("2022年会员网上评议")
    assert "2022年10月8日 09:30" in html
    assert html.count("真州镇中心小学工会") == 2 and "转会前所在" in html
    assert "不满意" in html and "非常满意" in html


def test_an_empty_history_says_so(li):
    assert "暂无评议记录" in li.get(reverse("members:history")).content.decode()


def test_a_suggestion_is_stored_as_written_and_escaped_on_the_page(li, evaluators):
    w = evaluators
    text = "<script>alert(1)</script> & <b>好</b>"
    li.post(form_url(w.open_campaign), {"overall": "3", "suggestion": text})
    evaluation = Evaluation.objects.get()
    assert evaluation.suggestion == text
    html = li.get(reverse("members:history_detail", args=[evaluation.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>好</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;好&lt;/b&gt;" in html


def test_another_members_evaluation_is_not_found(li, evaluators):
    w = evaluators
    theirs = submit_evaluation(
        member=w.zhao, campaign=w.open_campaign, answers=Answers(1, {}, "赵明的建议")
    ).evaluation
    response = li.get(reverse("members:history_detail", args=[theirs.pk]))
    assert response.status_code == 404
    assert "赵明的建议" not in response.content.decode()


def test_an_admin_is_told_these_are_member_pages(client, world, open_campaign):
    client.force_login(world.city_admin)
    for url in (
        reverse("members:campaigns"),
        form_url(open_campaign),
        reverse("members:history"),
        reverse("members:history_detail", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "这里是工会会员的个人页面" in response.content.decode()


def test_a_visitor_logs_in_first(client, world, open_campaign):
    url = form_url(open_campaign)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('members:login')}?next={url}"
    response = client.post(url, {"overall": "5"})
    assert response.status_code == 302 and not Evaluation.objects.exists()
