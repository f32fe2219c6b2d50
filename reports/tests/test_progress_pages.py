"""评议进度 pages: the figures on the page and in the .xlsx equal counts from the database."""

import io
import re
from datetime import date

import openpyxl
import pytest

from pingyi.formatting import percent, thousands
from reports.tests.conftest import (
    evaluation_days,
    registered_paths,
    straight_evaluated,
    straight_registered,
)

pytestmark = pytest.mark.django_db

UNTIL = "2022-11-02"  # a Wednesday: the week began Monday 31 Oct


def url(org, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/console/progress/{org.pk}/" + (f"?{query}" if query else "")


def page(client, org, **params):
    response = client.get(url(org, **params))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows_of(html: str) -> list[dict]:
    """The table's body rows as {org id, name, column → text}, in the page's order."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = []
    for m in re.finditer(r'<tr data-org="(\d+)"( class="behind")?>(.*?)</tr>', body, re.S):
        cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', m.group(3)))
        name = re.search(r"<a [^>]*>([^<]*)</a>", m.group(3)).group(1)
        rows.append({"org": int(m.group(1)), "behind": bool(m.group(2)), "name": name, **cells})
    return rows


def total_of(html: str) -> dict:
    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    return dict(re.findall(r'data-col="(\w+)">([^<]*)<', foot))


def expected_cells(campaign, org, target, reported, until: date) -> dict:
    evaluated = straight_evaluated(campaign, org, until)
    registered = straight_registered(org, until)

    def rate(n, d):
        return percent(n / d, 1) if d else "—"

    return {
        "reported": thousands(reported) if reported is not None else "—",
        "target": thousands(target) if target is not None else "—",
        "registered": thousands(registered),
        "evaluated": thousands(evaluated),
        "completion": rate(evaluated, target),
        "participation": rate(evaluated, reported),
        "registration": rate(registered, reported),
        "week_new": thousands(straight_evaluated(campaign, org, until, since=date(2022, 10, 31))),
    }


def test_the_citys_page_shows_counts_from_the_database(progress_world, login):
    w = progress_world
    html = page(login(w.city_admin), w.city, campaign=w.campaign.pk, until=UNTIL)

    assert "2022年会员网上评议进展情况（仪征市总工会）" in html
    assert "截至2022年11月2日" in html
    rows = rows_of(html)
    assert [r["name"] for r in rows] == ["真州镇", "枣林湾旅游度假区", "教育局"]
    until = date(2022, 11, 2)
    for row, org, target, reported in [
        (rows[0], w.town, 4, 4809),
        (rows[1], w.park, 1, 381),
        (rows[2], w.agency, 3, 4130),
    ]:
        cells = {k: v for k, v in row.items() if k not in ("org", "behind", "name", "rank")}
        assert cells == expected_cells(w.campaign, org, target, reported, until), org.name
    assert [r["rank"] for r in rows] == ["2", "1", "3"]
    assert rows[0]["completion"] == "50.0%" and rows[0]["registered"] == "3"
    total = total_of(html)
    assert total == expected_cells(w.campaign, w.city, 8, 9320, until)
    assert total["evaluated"] == "3" and total["week_new"] == "2"


def test_the_xlsx_holds_the_pages_numbers_in_the_pages_order(progress_world, login):
    w = progress_world
    client = login(w.city_admin)
    params = {"campaign": w.campaign.pk, "until": UNTIL, "sort": "completion", "dir": "desc"}
    html = page(client, w.city, **params)
    response = client.get(f"/console/progress/{w.city.pk}/xlsx/?" + _qs(params))
    assert response.status_code == 200
    assert (
        "评议进度" in response["Content-Disposition"]
        or "filename" in response["Content-Disposition"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active

    assert sheet["A1"].value == "2022年会员网上评议进展情况（仪征市总工会）"
    assert sheet["A2"].value == "截至2022年11月2日"
    header = [c.value for c in sheet[3]]
    assert header[:11] == [
        "序号",
        "名称",
        "年报工会会员人数(人)",
        "参评目标工会会员数(人)",
        "已注册(人)",
        "已评议(人)",
        "完成率",
        "参评率",
        "注册率",
        "本周新增(人)",
        "排名",
    ]
    shown = rows_of(html)
    for line, row in zip(range(4, 7), shown, strict=True):
        cells = [c.value for c in sheet[line]]
        assert cells[0] == line - 3 and cells[1] == row["name"]
        assert _int_text(cells[2]) == row["reported"] and _int_text(cells[3]) == row["target"]
        assert _int_text(cells[4]) == row["registered"]
        assert _int_text(cells[5]) == row["evaluated"]
        assert percent(cells[6], 1) == row["completion"]
        assert percent(cells[7], 1) == row["participation"]
        assert percent(cells[8], 1) == row["registration"]
        assert _int_text(cells[9]) == row["week_new"] and str(cells[10]) == row["rank"]
        assert (cells[11] == "落后于时间进度") == row["behind"]
        assert sheet.cell(line, 7).number_format == "0.0%"
    totals = [c.value for c in sheet[7]]
    assert totals[1] == "合计"
    total = total_of(html)
    assert _int_text(totals[5]) == total["evaluated"] == "3"
    assert percent(totals[6], 1) == total["completion"] == "37.5%"


def _qs(params):
    return "&".join(f"{k}={v}" for k, v in params.items())


def _int_text(value):
    return thousands(int(value)) if value is not None else "—"


def test_sorting_by_any_column_both_ways_with_accessible_header_links(progress_world, login):
    w = progress_world
    client = login(w.city_admin)
    base = {"campaign": w.campaign.pk, "until": UNTIL}
    by_completion = rows_of(page(client, w.city, **base, sort="completion", dir="desc"))
    assert [r["name"] for r in by_completion] == ["枣林湾旅游度假区", "真州镇", "教育局"]
    ascending = rows_of(page(client, w.city, **base, sort="completion", dir="asc"))
    assert [r["name"] for r in ascending] == ["教育局", "真州镇", "枣林湾旅游度假区"]
    by_reported = rows_of(page(client, w.city, **base, sort="reported", dir="desc"))
    assert [r["reported"] for r in by_reported] == ["4,809", "4,130", "381"]

    html = page(client, w.city, **base, sort="completion", dir="desc")
    header = re.search(r'<th [^>]*aria-sort="descending"><a href="([^"]+)">完成率', html)
    assert header, "the sorted column says so to a screen reader"
    assert "sort=completion" in header.group(1) and "dir=asc" in header.group(1)
    assert html.count('aria-sort="none"') == 10
    # the export button keeps the sort
    assert re.search(r'href="/console/progress/\d+/xlsx/\?[^"]*sort=completion&amp;dir=desc', html)


def test_a_unit_drills_down_to_its_grassroots_unions(progress_world, login):
    w = progress_world
    client = login(w.city_admin)
    html = page(client, w.city, campaign=w.campaign.pk, until=UNTIL, pace=90)
    link = re.search(rf'href="(/console/progress/{w.town.pk}/[^"]*)">真州镇</a>', html).group(1)
    assert "pace=90" in link and f"campaign={w.campaign.pk}" in link

    town = client.get(link.replace("&amp;", "&")).content.decode()
    assert [r["name"] for r in rows_of(town)] == ["真州镇中心小学工会", "真州镇卫生院工会"]
    assert re.search(r'<a href="/console/progress/\d+/[^"]*">仪征市总工会</a> ›', town)
    school = rows_of(town)[0]
    assert (school["evaluated"], school["registered"], school["completion"]) == ("2", "2", "100.0%")

    union = page(client, w.town_union_a, campaign=w.campaign.pk, until=UNTIL)
    assert "<tbody>" not in union  # no sub-units: its own figures only
    assert re.search(r'data-stat="evaluated">2<', union)
    assert re.search(r'data-stat="registered">2<', union)
    assert re.search(r'data-stat="completion">100.0%<', union)
    assert "真州镇</a> ›" in union and "union-actions" in union


def test_behind_rows_are_highlighted_and_the_pace_is_adjustable(progress_world, login):
    w = progress_world
    client = login(w.city_admin)
    html = page(client, w.city, campaign=w.campaign.pk, until=UNTIL)
    # 2 Nov ends day 63 of 91: 69.2% of the time has passed
    assert "落后：完成率低于时间进度 69.2%" in html
    behind = {r["name"]: r["behind"] for r in rows_of(html)}
    assert behind == {"真州镇": True, "枣林湾旅游度假区": False, "教育局": True}

    lenient = page(client, w.city, campaign=w.campaign.pk, until=UNTIL, pace=70)
    assert "落后：完成率低于时间进度 48.5%" in lenient  # 69.2% × 70%
    behind = {r["name"]: r["behind"] for r in rows_of(lenient)}
    assert behind == {"真州镇": False, "枣林湾旅游度假区": False, "教育局": True}
    sort_link = re.search(r'<a href="([^"]+)">完成率', lenient).group(1)
    assert "pace=70" in sort_link


def test_a_bad_pace_or_date_is_named_in_chinese_and_ignored(progress_world, login):
    w = progress_world
    html = page(login(w.city_admin), w.city, campaign=w.campaign.pk, pace="abc", until="11/2")
    assert "进度系数“abc”无效" in html
    assert "截至日期“11/2”无效：应写作 2022-11-06" in html
    assert "截至2022年11月30日" in html  # the closed campaign's last day


def test_another_towns_admin_gets_404_and_cannot_export(progress_world, login):
    w = progress_world
    client = login(w.park_admin)
    for org in (w.town, w.town_union_a, w.city):
        assert client.get(url(org, campaign=w.campaign.pk)).status_code == 404
        assert client.get(f"/console/progress/{org.pk}/xlsx/").status_code == 404
    assert client.get(url(w.park, campaign=w.campaign.pk)).status_code == 200


def test_a_campaign_of_another_federation_is_404(progress_world, other_campaign, login):
    w = progress_world
    response = login(w.city_admin).get(url(w.city, campaign=other_campaign.pk))
    assert response.status_code == 404


def test_a_town_admin_lands_on_their_towns_table(progress_world, login):
    w = progress_world
    client = login(w.town_admin)
    response = client.get("/console/progress/")
    assert response.status_code == 302 and response.url == f"/console/progress/{w.town.pk}/"
    html = page(client, w.town, until=UNTIL)
    assert "2022年会员网上评议进展情况（真州镇）" in html
    assert [r["name"] for r in rows_of(html)] == ["真州镇中心小学工会", "真州镇卫生院工会"]
    assert "仪征市总工会</a>" not in html  # the city is outside the breadcrumb of their scope
    assert total_of(html)["evaluated"] == "2"
    # from the city's campaign page, the link leads to their own part of it
    response = client.get(f"/console/progress/?campaign={w.campaign.pk}")
    assert response.url == f"/console/progress/{w.town.pk}/?campaign={w.campaign.pk}"


def test_the_charts_are_inline_svg_with_chinese_title_and_description(progress_world, login):
    w = progress_world
    html = page(login(w.city_admin), w.city, campaign=w.campaign.pk, until=UNTIL)
    assert html.count('<svg class="chart-') == 2
    assert '<title id="chart-cumulative-title">仪征市总工会 累计评议人数</title>' in html
    assert "累计评议 3 人；参评目标 8 人，完成 37.5%" in html
    assert '<title id="chart-completion-title">仪征市总工会 各单位完成率</title>' in html
    assert "完成率最高 100.0%，最低 0.0%" in html
    assert "<script" not in html.split("<main", 1)[1]
    assert not re.search(r'(src|href)="https?://', html)


def test_the_nav_and_the_home_page_link_to_progress(progress_world, login):
    w = progress_world
    html = login(w.city_admin).get("/console/").content.decode()
    assert re.search(r'<a href="/console/progress/"[^>]*>评议进度</a>', html)
    assert f'href="/console/progress/{w.city.pk}/?campaign=' in html


def test_the_demos_root_page_equals_counts_from_the_database(client):
    """The Yizheng demo (ten members a union, to stay quick): every row of the root's table."""
    from campaigns.models import Campaign
    from demo.services import load_demo
    from members.counters import recount_registrations
    from orgs.models import Org

    load_demo(members_per_union_cap=10)
    campaign = Campaign.objects.select_related("org").get(name="2022年会员网上评议")
    root = campaign.org
    client.force_login(_superuser())
    html = page(client, root, campaign=campaign.pk)
    until = date(2022, 11, 30)
    rows = rows_of(html)
    assert len(rows) == Org.objects.filter(depth=root.depth + 1).count() > 30
    orgs = Org.objects.in_bulk([r["org"] for r in rows])
    evaluations, registered = evaluation_days(campaign), registered_paths(until)
    for row in rows:
        org = orgs[row["org"]]
        evaluated = straight_evaluated(campaign, org, until, rows=evaluations)
        assert row["evaluated"] == thousands(evaluated), org.name
        assert row["registered"] == thousands(straight_registered(org, until, registered))
    assert total_of(html)["evaluated"] == thousands(campaign.evaluations.count())
    assert recount_registrations() == []


def _superuser():
    from accounts.models import User

    return User.objects.create_superuser(username="root-admin", password="pingyi-test-pw")
