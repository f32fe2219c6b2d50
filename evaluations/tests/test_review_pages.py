"""异常核查 in the console: the federation's reviewers see flagged units and evaluations with
their evidence, exclude and restore with a reason, and nobody else reads or does any of it."""

from datetime import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role, RoleKind, User
from conftest import SHANGHAI
from evaluations.integrity import scan_now
from evaluations.models import Exclusion, ExclusionEvent, IntegritySettings, UnitReview
from members.models import AuditAction, AuditEvent
from orgs.services import create_root_org

from .integrity_world import fabricated, ordinary

NIGHT = datetime(2022, 11, 27, 21, 30, tzinfo=SHANGHAI)


@pytest.fixture
def flagged(world):
    """A burst of 12 planted in 真州镇卫生院工会; 20 ordinary evaluations in each other union;
    the campaign scanned."""
    w = world
    for union in (w.town_union_a, w.park_union):
        ordinary(union, w.campaign, 20, tag=union.name)
    w.planted = fabricated(w.town_union_b, w.campaign, 12, start=NIGHT)
    scan_now(campaign=w.campaign)
    return w


def page(client, org, campaign, **query):
    url = reverse("integrity:unit", args=[org.pk])
    return client.get(url, {"campaign": campaign.pk, **query})


def test_the_city_page_names_the_flagged_town_and_its_figures(flagged, login):
    w = flagged
    response = page(login(w.city_admin), w.city, w.campaign)
    assert response.status_code == 200
    view = response.context["view"]
    assert [r.org.name for r in view.rows] == ["真州镇"]
    [town] = view.rows
    assert (town.submitted, town.flagged, town.flagged_unions, town.pending_unions) == (
        32,
        12,
        1,
        1,
    )
    assert view.clean == 2  # the park and the agency
    html = response.content.decode()
    assert "同一网络地址集中提交" in html and "注册即评" in html and "秒填一致" in html
    assert 'data-stat="flagged">12<' in html
    assert "枣林湾旅游度假区" not in html.split("有异常迹象或已剔除评议的单位")[1]


def test_the_union_page_names_the_planted_evaluations_with_their_evidence(flagged, login):
    w = flagged
    response = page(login(w.city_admin), w.town_union_b, w.campaign)
    detail = response.context["detail"]
    assert {r.pk for r in detail.rows} == {e.pk for e in w.planted}
    assert detail.flagged == 12 and detail.pending
    html = response.content.decode()
    assert "同一网络地址 58.221.36.18 在 7.3 分钟内提交了 12 条评议" in html
    assert "同一台设备" in html and "为 12 个会员账号提交了评议" in html
    for e in w.planted:
        assert f'data-evaluation="{e.pk}"' in html
    # No member is named on the page.
    for member in (e.member for e in w.planted):
        assert member.name not in html and member.phone not in html


def test_a_union_without_findings_says_so(flagged, login):
    w = flagged
    html = page(login(w.city_admin), w.town_union_a, w.campaign).content.decode()
    assert "本工会未发现异常迹象" in html


def test_excluding_from_the_page_lowers_the_towns_count_and_is_logged(flagged, login):
    w = flagged
    client = login(w.city_admin)
    chosen = [e.pk for e in w.planted[:5]]
    response = client.post(
        reverse("integrity:decide", args=[w.town_union_b.pk]),
        {
            "campaign": w.campaign.pk,
            "action": "exclude",
            "reason": "经电话核实，5 人未参加评议",
            "evaluation": chosen,
        },
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    assert set(Exclusion.objects.values_list("pk", flat=True)) == set(chosen)
    follow = client.get(response.url)
    assert "已剔除 5 条评议" in follow.content.decode()
    town = page(client, w.city, w.campaign).context["view"].rows[0]
    assert (town.excluded, town.counted) == (5, 27)
    event = ExclusionEvent.objects.first()
    assert (event.actor, event.address) == (w.city_admin, "10.9.8.7")

    progress = client.get(
        reverse("console:progress", args=[w.city.pk]), {"campaign": w.campaign.pk}
    )
    row = next(r for r in progress.context["rows"] if r.org == w.town)
    assert (row.evaluated, row.excluded) == (27, 5)
    assert "已剔除" in progress.content.decode()


def test_all_of_a_finding_can_be_excluded_and_restored_at_once(flagged, login):
    w = flagged
    client = login(w.city_admin)
    url = reverse("integrity:decide", args=[w.town_union_b.pk])
    client.post(
        url, {"campaign": w.campaign.pk, "action": "exclude", "reason": "集中代填", "all": "1"}
    )
    assert Exclusion.objects.count() == 12
    listed = page(client, w.town_union_b, w.campaign, show="excluded").context["detail"]
    assert listed.total_rows == 12 and all(r.exclusion for r in listed.rows)
    client.post(
        url,
        {
            "campaign": w.campaign.pk,
            "action": "restore",
            "reason": "复核后恢复",
            "all": "1",
            "show": "excluded",
        },
    )
    assert Exclusion.objects.count() == 0
    assert ExclusionEvent.objects.count() == 24


def test_a_decision_without_a_reason_is_refused_with_a_message(flagged, login):
    w = flagged
    client = login(w.city_admin)
    response = client.post(
        reverse("integrity:decide", args=[w.town_union_b.pk]),
        {
            "campaign": w.campaign.pk,
            "action": "exclude",
            "reason": " ",
            "evaluation": [w.planted[0].pk],
        },
        follow=True,
    )
    assert "请填写理由" in response.content.decode()
    assert not Exclusion.objects.exists()


def test_the_reviewer_records_a_conclusion_and_a_new_finding_makes_it_pending_again(flagged, login):
    w = flagged
    client = login(w.city_admin)
    client.post(
        reverse("integrity:verdict", args=[w.town_union_b.pk]),
        {"campaign": w.campaign.pk, "verdict": "confirmed", "note": "工会办公室集中代填，已剔除"},
    )
    review = UnitReview.objects.get()
    assert (review.verdict, review.flagged, review.reviewed_by) == ("confirmed", 12, w.city_admin)
    town = page(client, w.city, w.campaign).context["view"].rows[0]
    assert town.pending_unions == 0
    fabricated(w.town_union_b, w.campaign, 12, start=NIGHT.replace(day=28))
    scan_now(campaign=w.campaign)
    town = page(client, w.city, w.campaign).context["view"].rows[0]
    assert town.flagged == 24 and town.pending_unions == 1


def test_the_export_lists_every_flagged_evaluation_with_its_evidence(flagged, login):
    w = flagged
    client = login(w.city_admin)
    response = client.get(
        reverse("integrity:export", args=[w.city.pk]), {"campaign": w.campaign.pk}
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.getvalue())).active
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["工会", "评议编号", "提交时间", "网络地址"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=15)]
    assert {r[1] for r in rows} == {e.pk for e in w.planted}
    assert all(r[0] == "真州镇卫生院工会" and r[3] == "58.221.36.18" for r in rows)
    assert all(r[6] == 8 for r in rows)  # 填写用时: eight seconds each
    assert all("同一网络地址集中提交" in r[10] for r in rows)
    audit = AuditEvent.objects.get(action=AuditAction.EXPORTED)
    assert audit.actor == w.city_admin and "异常评议" in audit.note


def test_a_town_admin_may_not_review_their_own_town(flagged, login):
    w = flagged
    client = login(w.town_admin)
    assert client.get(reverse("integrity:start")).status_code == 403
    assert page(client, w.town, w.campaign).status_code == 403
    assert page(client, w.town_union_b, w.campaign).status_code == 403
    response = client.post(
        reverse("integrity:decide", args=[w.town_union_b.pk]),
        {"campaign": w.campaign.pk, "action": "restore", "reason": "x", "all": "1"},
    )
    assert response.status_code == 403
    assert client.get(reverse("integrity:export", args=[w.town.pk])).status_code == 403
    home = client.get(reverse("console:home")).content.decode()
    assert reverse("integrity:start") not in home


def test_other_units_pages_answer_404(flagged, login):
    w = flagged
    client = login(w.park_admin)
    assert page(client, w.town_union_b, w.campaign).status_code == 404
    assert client.get(reverse("integrity:export", args=[w.town.pk])).status_code == 404


def test_another_federations_admin_sees_nothing_of_this_one(flagged, login):
    w = flagged
    other = create_root_org(name="扬州市总工会", code="321000")
    admin = User.objects.create_user(username="yz_other")
    Role.objects.create(user=admin, org=other, kind=RoleKind.FEDERATION_ADMIN)
    client = login(admin)
    assert page(client, w.town_union_b, w.campaign).status_code == 404
    assert (
        client.post(
            reverse("integrity:decide", args=[w.town_union_b.pk]),
            {"campaign": w.campaign.pk, "action": "exclude", "reason": "x", "all": "1"},
        ).status_code
        == 404
    )
    assert not Exclusion.objects.exists()
    assert client.post(reverse("integrity:scan"), {"campaign": w.campaign.pk}).status_code == 404
    assert list(client.get(reverse("integrity:log")).context["page"].object_list) == []
    assert client.get(reverse("integrity:settings", args=[w.campaign.pk])).status_code == 404


def test_the_log_shows_the_reviewers_decisions_within_their_scope(flagged, login):
    w = flagged
    client = login(w.city_admin)
    client.post(
        reverse("integrity:decide", args=[w.town_union_b.pk]),
        {
            "campaign": w.campaign.pk,
            "action": "exclude",
            "reason": "同一设备代填",
            "evaluation": [w.planted[0].pk],
        },
    )
    html = client.get(reverse("integrity:log")).content.decode()
    assert "同一设备代填" in html and "真州镇卫生院工会" in html and "剔除" in html


def test_the_scan_button_runs_a_scan_and_the_settings_are_validated(flagged, login):
    w = flagged
    client = login(w.city_admin)
    response = client.post(
        reverse("integrity:scan"), {"campaign": w.campaign.pk, "org": w.city.pk}, follow=True
    )
    assert "核查已完成" in response.content.decode()

    url = reverse("integrity:settings", args=[w.campaign.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    bad = client.post(url, data | {"burst_address_min": "1", "quick_seconds": "abc"})
    html = bad.content.decode()
    assert bad.status_code == 200 and "设置未保存" in html
    assert "3" in str(bad.context["form"].errors["burst_address_min"])
    assert "quick_seconds" in bad.context["form"].errors
    assert IntegritySettings.objects.get().burst_address_min == 10

    client.post(url, data | {"burst_address_min": "20"})
    assert IntegritySettings.objects.get().burst_address_min == 20
    town = page(client, w.city, w.campaign).context["view"].rows[0]
    assert "burst_address" not in town.kinds  # rescanned with the new threshold


def test_only_the_campaigns_federation_may_scan_or_change_settings(flagged, login):
    w = flagged
    viewer = login(w.viewer)
    assert viewer.post(reverse("integrity:scan"), {"campaign": w.campaign.pk}).status_code == 403
    assert viewer.get(reverse("integrity:settings", args=[w.campaign.pk])).status_code == 403


def test_the_assessment_draft_asks_to_finish_the_review_before_publishing(flagged, login):
    w = flagged
    client = login(w.city_admin)
    url = reverse("console:assessment", args=[w.campaign.pk])
    assert "异常核查尚有 1 个工会待核查" in client.get(url).content.decode()
    client.post(
        reverse("integrity:verdict", args=[w.town_union_b.pk]),
        {"campaign": w.campaign.pk, "verdict": "confirmed", "note": "已剔除代填的评议"},
    )
    assert "待核查" not in client.get(url).content.decode()


def test_reading_a_unions_addresses_and_devices_is_audit_logged(flagged, login):
    w = flagged
    page(login(w.city_admin), w.town_union_b, w.campaign)
    event = AuditEvent.objects.get(action=AuditAction.TRACES_VIEWED)
    assert (event.actor, event.org) == (w.city_admin, w.city)
    assert "真州镇卫生院工会，12 条评议" in event.note
    # Logged at the city: the town under review does not find it in its own 操作日志.
    log = login(w.town_admin).get(reverse("member_console:audit")).content.decode()
    assert "12 条评议的网络地址" not in log
    city_log = login(w.city_admin).get(reverse("member_console:audit")).content.decode()
    assert "真州镇卫生院工会，12 条评议的网络地址与设备标识" in city_log
    # A union without flagged evaluations shows none, and nothing is logged for it.
    page(login(w.city_admin), w.town_union_a, w.campaign)
    assert AuditEvent.objects.filter(action=AuditAction.TRACES_VIEWED).count() == 1
