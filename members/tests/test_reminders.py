"""Reminders: a union's members by 已注册/已评议, the SMS reminder, its limits and its log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import fake_id_number, register_member_account
from evaluations.models import Channel
from evaluations.services import Answers, submit_evaluation
from members import promotion
from members.models import Member, MemberStatus, Reminder, ReminderKind, ReminderStatus
from members.services import add_member


@pytest.fixture
def union(evaluators):
    """真州镇中心小学工会 in the open campaign: 李华 evaluated, 孙丽 registered only, 王芳 and
    周强 (no phone) unregistered, 钱进 left the union; 枣林湾酒店工会's 赵明 registered."""
    w = evaluators
    w.sun = add_member(
        org=w.town_union_a, name="孙丽", id_number=fake_id_number(4), phone="13905149999"
    )
    register_member_account(w.sun)
    w.zhou = add_member(org=w.town_union_a, name="周强", id_number=fake_id_number(5))
    w.qian = add_member(
        org=w.town_union_a, name="钱进", id_number=fake_id_number(6), phone="13905140006"
    )
    Member.objects.filter(pk=w.qian.pk).update(status=MemberStatus.LEFT)
    submit_evaluation(
        member=w.li,
        campaign=w.open_campaign,
        answers=Answers(overall=2, ratings={}, suggestion="食堂太差了"),
        channel=Channel.DEMO,
    )
    return w


def _list(client, w, show="all", **params):
    return client.get(
        reverse("outreach:members", args=[w.town_union_a.pk]),
        {"campaign": w.open_campaign.pk, "show": show, **params},
    )


def _send(client, w, kind, members=None, **extra):
    data = {"campaign": w.open_campaign.pk, "kind": kind, **extra}
    if members is None:
        data["target"] = "all"
    else:
        data["target"] = "selected"
        data["member"] = [m.pk for m in members]
    return client.post(reverse("outreach:send", args=[w.town_union_a.pk]), data, follow=True)


def _names(response) -> list[str]:
    return [m.name for m in response.context["page"]["rows"]]


def test_the_list_shows_who_registered_and_evaluated_and_filters(login, union):
    w = union
    client = login(w.union_admin)
    page = _list(client, w)
    assert sorted(_names(page)) == ["周强", "孙丽", "李华", "王芳"]  # 钱进 left; 赵明 elsewhere
    assert sorted(_names(_list(client, w, "unregistered"))) == ["周强", "王芳"]
    assert _names(_list(client, w, "pending")) == ["孙丽"]
    assert _names(_list(client, w, "evaluated")) == ["李华"]
    text = page.content.decode()
    assert "全部（4）" in text and "未注册（2）" in text
    assert "已注册未评议（1）" in text and "已评议（1）" in text


def test_the_list_never_shows_a_clear_phone_an_id_or_an_answer(login, union):
    w = union
    text = _list(login(w.union_admin), w).content.decode()
    assert "13905141234" not in text and "139****1234" in text
    assert fake_id_number(1) not in text and w.li.id_masked not in text
    assert "食堂太差了" not in text and "不满意" not in text


def test_the_list_pages_in_roster_order(login, union, settings):
    w = union
    client = login(w.union_admin)
    from members import outreach_views

    size, outreach_views.PAGE_SIZE = outreach_views.PAGE_SIZE, 3
    try:
        first = _list(client, w)
        assert _names(first) == ["李华", "王芳", "孙丽"]
        after = first.context["page"]["next"]
        assert _names(_list(client, w, after=after)) == ["周强"]
    finally:
        outreach_views.PAGE_SIZE = size


def test_a_registration_reminder_reaches_the_phone_with_the_units_link(login, union, sms_outbox):
    w = union
    client = login(w.union_admin)
    response = _send(client, w, ReminderKind.REGISTER)
    text = response.content.decode()
    assert "已发送 1 条" in text and "1 人名册中没有手机号码" in text and "失败 0 条" in text
    assert [s.phone for s in sms_outbox] == ["13905145678"]  # 王芳; 周强 has no phone
    message = sms_outbox[0].message
    link = "http://testserver" + promotion.unit_path(org=w.town_union_a, campaign=w.open_campaign)
    end = timezone.localtime(w.open_campaign.ends_at)
    assert message.startswith("真州镇中心小学工会提醒您：2026年会员网上评议")
    # The year is written only when the campaign ends in another year than today's.
    day = f"{end.month}月{end.day}日"
    if end.year != timezone.localdate().year:
        day = f"{end.year}年{day}"
    assert f"将于{day}截止" in message
    assert "请实名注册" in message
    assert message.endswith(link)
    assert len(message) - len(link) <= 70
    logged = Reminder.objects.get(member=w.wang)
    assert (logged.kind, logged.status, logged.sent_by) == ("register", "sent", w.union_admin)
    assert Reminder.objects.get(member=w.zhou).status == ReminderStatus.SKIPPED


def test_an_evaluation_reminder_goes_to_the_registered_who_did_not_evaluate(
    login, union, sms_outbox
):
    w = union
    response = _send(login(w.union_admin), w, ReminderKind.EVALUATE, members=[w.sun, w.li])
    assert [s.phone for s in sms_outbox] == ["13905149999"]  # 孙丽; 李华 already evaluated
    assert "您尚未评议" in sms_outbox[0].message
    assert "1 人已不需要此项提醒" in response.content.decode()


def test_a_member_is_not_reminded_twice_within_the_interval(login, union, sms_outbox):
    w = union
    client = login(w.union_admin)
    _send(client, w, ReminderKind.REGISTER, members=[w.wang])
    response = _send(client, w, ReminderKind.REGISTER, members=[w.wang])
    assert len(sms_outbox) == 1
    assert "因频率限制跳过 1 人（距上次提醒不足72小时 1 人）" in response.content.decode()
    skipped = Reminder.objects.filter(member=w.wang, status=ReminderStatus.SKIPPED).get()
    assert skipped.detail == "距上次提醒不足72小时"


def test_a_member_is_reminded_at_most_so_many_times(login, union, sms_outbox, settings):
    w = union
    settings.PINGYI_REMINDER_MEMBER_MAX = 2
    client = login(w.union_admin)
    for days_ago in (10, 5):
        _send(client, w, ReminderKind.REGISTER, members=[w.wang])
        # Move the reminder back in time: the interval has passed since.
        Reminder.objects.filter(member=w.wang).update(
            sent_at=timezone.now() - timedelta(days=days_ago)
        )
    response = _send(client, w, ReminderKind.REGISTER, members=[w.wang])
    assert len(sms_outbox) == 2
    assert "本次活动已提醒2次 1 人" in response.content.decode()


def test_an_admin_sends_at_most_so_many_a_day(login, union, sms_outbox, settings):
    w = union
    settings.PINGYI_REMINDER_DAILY_LIMIT = 1
    client = login(w.union_admin)
    _send(client, w, ReminderKind.REGISTER, members=[w.wang])
    response = _send(client, w, ReminderKind.EVALUATE, members=[w.sun])
    assert len(sms_outbox) == 1
    assert "已达到每人每天1条的发送上限 1 人" in response.content.decode()
    # The limit is the admin's: the town's admin may still remind 孙丽.
    _send(login(w.town_admin), w, ReminderKind.EVALUATE, members=[w.sun])
    assert [s.phone for s in sms_outbox] == ["13905145678", "13905149999"]


def test_a_gateway_failure_is_logged_as_failed(login, union, sms_outbox, settings):
    w = union
    settings.PINGYI_SMS_BACKEND = "members.sms.HttpGatewayBackend"
    settings.PINGYI_SMS_GATEWAY_URL = ""
    response = _send(login(w.union_admin), w, ReminderKind.REGISTER, members=[w.wang])
    assert "已发送 0 条" in response.content.decode()
    assert "失败 1 条（短信服务尚未配置，请联系客服 1 条）" in response.content.decode()
    failed = Reminder.objects.get(member=w.wang)
    assert (failed.status, failed.detail) == ("failed", "短信服务尚未配置，请联系客服")
    # A failed message does not count against the member's interval.
    settings.PINGYI_SMS_BACKEND = "members.sms.LocmemBackend"
    _send(login(w.union_admin), w, ReminderKind.REGISTER, members=[w.wang])
    assert len(sms_outbox) == 1


def test_a_large_send_runs_on_a_background_job(login, union, sms_outbox, settings):
    w = union
    settings.PINGYI_REMINDER_SYNC_MAX = 0
    response = _send(login(w.union_admin), w, ReminderKind.REGISTER)
    assert "已提交发送 1 条（后台发送中" in response.content.decode()
    # Tests run jobs before the response (conftest): the message has left.
    assert [s.phone for s in sms_outbox] == ["13905145678"]


def test_no_reminder_outside_the_campaigns_window(login, union, sms_outbox):
    w = union
    client = login(w.union_admin)
    response = client.post(
        reverse("outreach:send", args=[w.town_union_a.pk]),
        {"campaign": w.campaign.pk, "kind": "register", "target": "all"},  # closed in 2022
        follow=True,
    )
    assert "已于2022年11月30日 23:59结束，不能再发送提醒" in response.content.decode()
    assert sms_outbox == [] and not Reminder.objects.exists()
    w.open_campaign.starts_at = timezone.now() + timedelta(days=1)
    w.open_campaign.save()
    response = _send(client, w, ReminderKind.REGISTER)
    assert "尚未开始" in response.content.decode()
    assert sms_outbox == [] and not Reminder.objects.exists()


def test_another_unions_admin_gets_404_on_the_list_the_send_and_the_log(login, union, sms_outbox):
    w = union
    client = login(w.park_admin)
    assert _list(client, w).status_code == 404
    assert _send(client, w, ReminderKind.REGISTER).status_code == 404
    log = client.get(reverse("outreach:log", args=[w.town_union_a.pk]))
    assert log.status_code == 404
    assert sms_outbox == [] and not Reminder.objects.exists()


def test_a_viewer_reads_the_list_but_cannot_send(login, union, sms_outbox):
    w = union
    client = login(w.viewer)
    assert _list(client, w).status_code == 200
    assert _send(client, w, ReminderKind.REGISTER).status_code == 403
    assert sms_outbox == []


def test_sending_needs_a_post_with_csrf(client, union):
    from django.test import Client

    w = union
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(w.union_admin)
    url = reverse("outreach:send", args=[w.town_union_a.pk])
    assert guarded.get(url).status_code == 405
    assert guarded.post(url, {"kind": "register", "target": "all"}).status_code == 403


def test_the_log_lists_the_unions_reminders_masked(login, union, sms_outbox):
    w = union
    client = login(w.union_admin)
    _send(client, w, ReminderKind.REGISTER)
    response = client.get(
        reverse("outreach:log", args=[w.town_union_a.pk]), {"campaign": w.open_campaign.pk}
    )
    text = response.content.decode()
    assert "本次活动已发送 1 条，跳过 1 人次，发送失败 0 条" in text
    assert "王芳" in text and "139****5678" in text and "13905145678" not in text
    assert "周强" in text and "名册中没有手机号码" in text
    assert "union_admin" in text and "提醒注册" in text
    # The counts are on the union's page too.
    page = _list(client, w).content.decode()
    assert "已发送提醒" in page
    assert _list(client, w).context["counts"] == {"sent": 1, "failed": 0, "skipped": 1}
