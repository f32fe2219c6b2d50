"""The weekly bulletin: frozen figures at a cut-off, the series, the schedule, failures, scope."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import SHANGHAI
from evaluations.models import Evaluation
from evaluations.services import Answers, submit_evaluation
from members.transfer import transfer_member
from reports import bulletins
from reports.bulletin_formats import bulletin_xlsx
from reports.bulletins import (
    build_bulletin,
    build_weekly_bulletins,
    claim_bulletin,
    weekly_cutoff,
)
from reports.figures import progress_table
from reports.models import Bulletin, BulletinStatus
from reports.tests.conftest import at, monday, xlsx_rows

pytestmark = pytest.mark.django_db


def counted(campaign, org, cutoff, since=None) -> int:
    """Evaluations of the org's subtree before the cut-off, straight from the Evaluation table."""
    rows = Evaluation.objects.filter(
        campaign=campaign, org__path__startswith=org.path, submitted_at__lt=cutoff
    )
    if since is not None:
        rows = rows.filter(submitted_at__gte=since)
    return rows.count()


def evaluate(member, campaign, moment):
    return submit_evaluation(
        member=member, campaign=campaign, answers=Answers(overall=4, ratings={}), now=moment
    )


def row_of(bulletin, org) -> dict:
    return next(r for r in bulletin.data["rows"] if r["org_id"] == org.pk)


def test_a_bulletin_counts_the_evaluations_before_its_cut_off_where_they_were_made(progress_world):
    w = progress_world
    evaluate(w.qian, w.campaign, at(2022, 11, 7, 9))  # Monday morning: next week's
    transfer_member(member=w.li, to_org=w.park_union)  # evaluated in September at the school
    cutoff = monday(2022, 11, 7)

    bulletin = build_bulletin(campaign=w.campaign, org=w.city, cutoff=cutoff)

    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.number == 1
    for org in (w.town, w.park, w.agency):
        row = row_of(bulletin, org)
        assert row["evaluated"] == counted(w.campaign, org, cutoff), org.name
        assert row["week_new"] == counted(w.campaign, org, cutoff, since=monday(2022, 10, 31))
    assert row_of(bulletin, w.town)["evaluated"] == 2  # 李华 counts where he evaluated
    assert row_of(bulletin, w.park)["evaluated"] == 1
    data = bulletin.data
    assert data["total"]["evaluated"] == counted(w.campaign, w.city, cutoff) == 3
    assert data["title"] == "关于2022年会员网上评议工作进展情况的通报（第1期）"
    assert data["headline"] == "截至11月6日，全市已有3名会员参与评议，完成目标任务的37.5%。"
    assert data["issuer"] == "仪征市总工会" and data["issued_text"] == "2022年11月7日"
    assert data["until_text"] == "2022年11月6日"
    body = "".join(p["text"] for p in data["paragraphs"])
    assert "本周（10月31日至11月6日）新增2名" in body
    assert "已完成目标任务的单位有1个：枣林湾旅游度假区。" in body
    assert "其中完成率最低的2个单位是：教育局（0.0%）、真州镇（50.0%）" in body
    assert [(r["name"], r["completion"], r["rank"]) for r in data["rows"]] == [
        ("枣林湾旅游度假区", 100.0, 1),
        ("真州镇", 50.0, 2),
        ("教育局", 0.0, 3),
    ]


def test_a_later_evaluation_does_not_change_a_published_bulletin(progress_world, city_bulletin):
    w = progress_world
    frozen = city_bulletin.data
    # Stored with a time before the cut-off (a clock skew, a late sync): the live figures of
    # 6 Nov change…
    evaluate(w.qian, w.campaign, at(2022, 11, 5))
    live = progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 6))
    assert live.total.evaluated == 4

    # …the published bulletin does not, nor does a second build of its cut-off.
    city_bulletin.refresh_from_db()
    assert city_bulletin.data == frozen and frozen["total"]["evaluated"] == 3
    again = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    assert again.pk == city_bulletin.pk and again.data["total"]["evaluated"] == 3
    assert Bulletin.objects.count() == 1
    assert xlsx_rows(bulletin_xlsx(again.data))[-1][5] == 3  # the 合计 row's 已评议


def test_the_change_since_the_previous_bulletin(progress_world):
    w = progress_world
    first = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 10, 31))
    second = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))

    assert (first.number, second.number) == (1, 2)
    assert first.data["total"]["evaluated"] == 1 and first.data["change"] is None
    assert second.data["title"].endswith("（第2期）")
    assert second.data["change"] == {
        "number": 1,
        "until": "2022-10-30",
        "evaluated": 2,
        "registered": 1,  # 钱一 registered on 2 Nov
        "completion_points": 25.0,  # 12.5% → 37.5%
    }
    body = "".join(p["text"] for p in second.data["paragraphs"])
    assert "较上期（第1期）增加2名，完成率提高25.0个百分点。" in body
    changes = {
        r["name"]: (r["rank_change_text"], r["evaluated_change"]) for r in second.data["rows"]
    }
    # Ranks on 30 Oct: 真州镇 1 (25%), 枣林湾 and 教育局 2 (both 0%).
    assert changes == {"枣林湾旅游度假区": ("↑1", 1), "真州镇": ("↓1", 1), "教育局": ("↓1", 0)}
    assert [r["rank_change_text"] for r in first.data["rows"]] == ["", "", ""]
    # Asking again for the first cut-off answers with the published first issue.
    again = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 10, 31))
    assert again.pk == first.pk and again.number == 1


def test_an_earlier_cut_off_cannot_be_slipped_in_behind_a_published_issue(city_bulletin):
    w = city_bulletin
    with pytest.raises(bulletins.BulletinRefused, match="已发布截至2022年11月6日的第1期通报"):
        build_bulletin(campaign=w.campaign, org=w.org, cutoff=monday(2022, 10, 31))


def test_a_cut_off_in_the_future_is_refused(progress_world):
    w = progress_world
    with pytest.raises(bulletins.BulletinRefused, match="尚未到来"):
        build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2099, 1, 5))
    assert not Bulletin.objects.exists()


def test_the_weekly_cut_off_is_the_start_of_the_build_day(settings):
    assert weekly_cutoff(at(2022, 11, 7, 9)) == monday(2022, 11, 7)
    assert weekly_cutoff(at(2022, 11, 7, 7)) == monday(2022, 10, 31)  # before 08:00: last week's
    assert weekly_cutoff(at(2022, 11, 10, 15)) == monday(2022, 11, 7)
    settings.PINGYI_BULLETIN_CUTOFF_WEEKDAY = 6  # count to Friday 24:00, build on Monday
    assert weekly_cutoff(at(2022, 11, 7, 9)) == monday(2022, 11, 5)
    settings.PINGYI_BULLETIN_WEEKDAY, settings.PINGYI_BULLETIN_HOUR = 5, 17  # Friday 17:00
    settings.PINGYI_BULLETIN_CUTOFF_WEEKDAY = 5
    assert weekly_cutoff(at(2022, 11, 11, 18)) == monday(2022, 11, 11)
    assert weekly_cutoff(at(2022, 11, 11, 16)) == monday(2022, 11, 4)


def test_the_weekly_build_is_idempotent_and_covers_the_week_a_campaign_closed_in(progress_world):
    w = progress_world

    def built(now):
        return [o for o in build_weekly_bulletins(now) if o.campaign == w.campaign]

    first = built(at(2022, 11, 7, 8))
    again = built(at(2022, 11, 9, 15))
    assert [(o.org, o.created, o.bulletin.number) for o in first] == [(w.city, True, 1)]
    assert [(o.created, o.bulletin.pk) for o in again] == [(False, first[0].bulletin.pk)]
    assert Bulletin.objects.filter(campaign=w.campaign).count() == 1
    # The campaign closed on Wednesday 30 Nov: the week to 4 Dec is bulletined, the next not.
    closing = built(at(2022, 12, 5, 8))
    assert closing[0].created and closing[0].bulletin.data["until_text"] == "2022年12月4日"
    assert "本次评议活动已结束" in closing[0].bulletin.data["paragraphs"][-1]["text"]
    body = "".join(p["text"] for p in closing[0].bulletin.data["paragraphs"])
    assert "未完成目标任务的单位有2个，其中完成率最低的2个单位是：教育局（0.0%）" in body
    assert built(at(2022, 12, 12, 8)) == []


def test_the_weekly_task_builds_on_the_schedule(progress_world, monkeypatch):
    from reports import tasks

    w = progress_world
    monkeypatch.setattr(tasks.timezone, "now", lambda: at(2022, 11, 7, 8))
    ids = tasks.build_weekly_bulletins.apply().get()
    assert list(Bulletin.objects.filter(pk__in=ids).values_list("org", "cutoff")) == [
        (w.city.pk, monday(2022, 11, 7))
    ]


def test_a_failed_build_leaves_no_published_bulletin_and_a_rebuild_replaces_it(
    progress_world, monkeypatch, login
):
    w = progress_world

    def broken(**kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(bulletins, "progress_table", broken)
    with pytest.raises(RuntimeError):
        build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    failed = Bulletin.objects.get()
    assert failed.status == BulletinStatus.FAILED and "数据库连接中断" in failed.error
    assert not Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).exists()
    page = login(w.city_admin).get(reverse("console:bulletins"))
    assert "还没有已发布的通报" in page.content.decode()

    monkeypatch.undo()
    rebuilt = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    assert rebuilt.pk == failed.pk and rebuilt.status == BulletinStatus.PUBLISHED
    assert rebuilt.error == "" and rebuilt.number == 1


def test_a_build_killed_midway_shows_nowhere_and_is_replaced(progress_world, login):
    w = progress_world
    # A worker that claimed the row and died: the row stays `building`.
    stale = claim_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    assert stale.status == BulletinStatus.BUILDING
    client = login(w.town_admin)
    assert "还没有已发布的通报" in client.get(reverse("console:bulletins")).content.decode()
    assert client.get(reverse("console:bulletin", args=[stale.pk])).status_code == 404
    assert (
        client.get(reverse("console:bulletin_download", args=[stale.pk, "pdf"])).status_code == 404
    )

    done = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    assert done.pk == stale.pk and done.is_published


# Pages and scope


def test_the_page_shows_the_frozen_figures_and_the_download_links(city_bulletin, login):
    w = city_bulletin
    admin = w.org.roles.get(kind="federation_admin").user
    page = login(admin).get(reverse("console:bulletin", args=[w.pk])).content.decode()
    assert "截至11月6日，全市已有3名会员参与评议，完成目标任务的37.5%。" in page
    assert "关于2022年会员网上评议工作进展情况的通报（第1期）" in page
    for fmt in ("docx", "xlsx", "pdf"):
        assert reverse("console:bulletin_download", args=[w.pk, fmt]) in page
    listing = login(admin).get(reverse("console:bulletins")).content.decode()
    assert f'data-bulletin="{w.pk}"' in listing


def test_a_town_admin_reads_the_city_bulletin_but_not_another_towns(progress_world, login):
    w = progress_world
    city = build_bulletin(campaign=w.campaign, org=w.city, cutoff=monday(2022, 11, 7))
    town = build_bulletin(campaign=w.campaign, org=w.town, cutoff=monday(2022, 11, 7))
    assert town.data["headline"].startswith("截至11月6日，全镇已有2名会员参与评议")

    client = login(w.park_admin)
    listing = client.get(reverse("console:bulletins")).content.decode()
    assert f'data-bulletin="{city.pk}"' in listing and f'data-bulletin="{town.pk}"' not in listing
    assert client.get(reverse("console:bulletin", args=[city.pk])).status_code == 200
    assert (
        client.get(reverse("console:bulletin_download", args=[city.pk, "xlsx"])).status_code == 200
    )
    assert client.get(reverse("console:bulletin", args=[town.pk])).status_code == 404
    for fmt in ("docx", "xlsx", "pdf"):
        url = reverse("console:bulletin_download", args=[town.pk, fmt])
        assert client.get(url).status_code == 404

    client = login(w.town_admin)
    assert client.get(reverse("console:bulletin", args=[town.pk])).status_code == 200


def test_a_town_admin_builds_the_towns_bulletin_but_not_the_citys(progress_world, login):
    w = progress_world
    client = login(w.town_admin)
    url = reverse("console:bulletin_build")
    refused = client.post(url, {"target": f"{w.campaign.pk}:{w.city.pk}", "until": "2022-11-06"})
    assert refused.status_code == 403
    assert not Bulletin.objects.exists()

    done = client.post(url, {"target": f"{w.campaign.pk}:{w.town.pk}", "until": "2022-11-06"})
    bulletin = Bulletin.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "console:bulletin", args=[bulletin.pk]
    )
    assert bulletin.is_published and bulletin.org == w.town and bulletin.built_by == w.town_admin
    assert bulletin.cutoff == monday(2022, 11, 7)
    assert bulletin.data["issuer"] == "真州镇"


def test_building_needs_a_managing_role_a_post_and_a_past_date(progress_world, login):
    w = progress_world
    url = reverse("console:bulletin_build")
    target = f"{w.campaign.pk}:{w.city.pk}"
    viewer = login(w.viewer)
    assert viewer.post(url, {"target": target, "until": "2022-11-06"}).status_code == 403
    assert "生成通报</button>" not in viewer.get(reverse("console:bulletins")).content.decode()

    admin = login(w.city_admin)
    assert admin.get(url).status_code == 405
    future = admin.post(url, {"target": target, "until": "2099-01-04"}, follow=True)
    assert "尚未到来" in future.content.decode()
    garbled = admin.post(url, {"target": target, "until": "11/6"}, follow=True)
    assert "统计截至日期“11/6”格式不正确" in garbled.content.decode()
    assert not Bulletin.objects.exists()
    assert (
        admin.post(url, {"target": f"{w.campaign.pk}:999999", "until": "2022-11-06"}).status_code
        == 404
    )


def test_the_csrf_token_is_required_to_build(progress_world, client):
    from django.test import Client

    w = progress_world
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(w.city_admin)
    answer = strict.post(
        reverse("console:bulletin_build"),
        {"target": f"{w.campaign.pk}:{w.city.pk}", "until": "2022-11-06"},
    )
    assert answer.status_code == 403 and not Bulletin.objects.exists()


# The command


def test_the_command_builds_once_and_says_what_it_built(progress_world):
    w = progress_world
    out = StringIO()
    call_command("build_bulletins", "--cutoff", "2022-11-07", "--org", "321081", stdout=out)
    text = out.getvalue()
    assert "已生成：仪征市总工会 · 2022年会员网上评议 第1期" in text
    assert "统计截至2022年11月6日24时" in text
    assert "截至11月6日，全市已有3名会员参与评议，完成目标任务的37.5%。" in text

    out = StringIO()
    call_command(
        "build_bulletins", "--cutoff", "2022-11-07", "--campaign", str(w.campaign.pk), stdout=out
    )
    assert "已存在：仪征市总工会 · 2022年会员网上评议 第1期" in out.getvalue()
    assert Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).count() == 1

    with pytest.raises(CommandError, match="找不到组织代码为 999 的组织"):
        call_command("build_bulletins", "--org", "999")
    out = StringIO()
    call_command("build_bulletins", "--cutoff", "2023-06-05", stdout=out)
    assert "没有时间窗口与该周重叠的评议活动" in out.getvalue()


def test_the_command_reports_a_refused_build(progress_world):
    w = progress_world
    err = StringIO()
    with pytest.raises(CommandError, match="1 期通报生成失败"):
        call_command(
            "build_bulletins",
            "--cutoff",
            "2099-01-05",
            "--campaign",
            str(w.campaign.pk),
            stderr=err,
        )
    assert "尚未到来" in err.getvalue()


def test_the_demo_series_numbers_every_week_of_the_window(progress_world):
    w = progress_world
    series = bulletins.build_weekly_series(campaign=w.campaign)
    # 1 Sept (Thursday) – 30 Nov (Wednesday): cut-offs every Monday from 5 Sept to 5 Dec.
    assert [b.number for b in series] == list(range(1, 15))
    assert series[0].cutoff == monday(2022, 9, 5) and series[-1].cutoff == monday(2022, 12, 5)
    assert series[-1].data["total"]["evaluated"] == 3
    assert series[0].cutoff.tzinfo is not None
    assert SHANGHAI  # the cut-offs are local midnights


def test_the_headline_names_the_area_by_the_kind_of_org(world):
    from orgs.services import create_child_org

    assert [bulletins.area_word(o) for o in (world.city, world.town, world.park)] == [
        "全市",
        "全镇",
        "全园区",
    ]
    assert bulletins.area_word(world.agency) == "本单位"
    sector = create_child_org(parent=world.city, name="交通系统", kind="sector")
    assert bulletins.area_word(sector) == "本单位"
    assert bulletins.area_word(world.town_union_a) == "本单位"
