"""满意度 and 堵点痛点 against figures computed by hand (see conftest.py for the data set)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from analysis.selectors import pain_points, satisfaction

from .factories import PARK, add_evaluations


def _page(client, name, org, campaign, **params):
    query = {"campaign": campaign.pk, **params}
    return client.get(reverse(f"analysis:{name}", args=[org.pk]), query)


def _xlsx_rows(response) -> list[list]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _row(rows, name):
    return next(r for r in rows if name in r)


def test_figures_of_the_city_and_its_units_match_the_hand_computed_ones(rated):
    w = rated
    report = satisfaction(campaign=w.campaign, org=w.city)
    total = report.total.overall
    # 5 5 4 3 2 1 5 5 5 4: ten evaluations, mean 3.9.
    assert total.n == 10
    assert total.satisfied_rate == pytest.approx(0.8)
    assert total.good_rate == pytest.approx(0.7)
    assert total.bad_rate == pytest.approx(0.2)
    assert total.index == pytest.approx(72.5)
    assert total.counts == {5: 5, 4: 2, 3: 1, 2: 1, 1: 1}

    town, park, agency = report.units
    assert (town.org, park.org, agency.org) == (w.town, w.park, w.agency)
    # 真州镇 includes 卫生院工会's 1★: 5 5 4 3 2 1, mean 20/6.
    assert town.overall.n == 6
    assert town.overall.satisfied_rate == pytest.approx(4 / 6)
    assert town.overall.good_rate == pytest.approx(0.5)
    assert town.overall.bad_rate == pytest.approx(2 / 6)
    assert town.overall.index == pytest.approx((20 / 6 - 1) / 4 * 100)
    assert park.overall.n == 4 and not park.overall.sufficient
    assert agency.overall.n == 0

    item1, item2, item3 = report.items[:3]
    # Per item, over those who rated it: 5 4 4 2 1 in the town; with the park's 5 5 5 4.
    assert town.item(item1.pk).index == pytest.approx(55.0)
    assert town.item(item1.pk).bad_rate == pytest.approx(0.4)
    assert town.item(item2.pk).index == pytest.approx(95.0)
    assert town.item(item3.pk).n == 4 and not town.item(item3.pk).sufficient
    assert report.total.item(item1.pk).index == pytest.approx((35 / 9 - 1) / 4 * 100)
    assert [u.org for u in report.ranking] == [w.town]  # the park is too small to rank


def test_pain_points_name_the_weakest_items_of_each_unit(rated):
    w = rated
    report = satisfaction(campaign=w.campaign, org=w.city)
    item1, item2 = report.items[:2]
    points = pain_points(report)
    town = points[0]
    assert [p.question for p in town.lowest_index] == [item1, item2]
    assert [p.question for p in town.most_negative] == [item1]  # item 2 has no 1★–2★
    assert [p.question for p in town.below_parent] == [item1]
    assert town.below_parent[0].gap == pytest.approx(55.0 - (35 / 9 - 1) / 4 * 100)
    assert not points[1].sufficient and points[1].lowest_index == []


def test_satisfaction_page_shows_the_figures_heatmap_and_ranking(rated, login):
    w = rated
    html = _page(login(w.city_admin), "satisfaction", w.city, w.campaign).content.decode()
    assert 'data-stat="index">72.5<' in html
    assert 'data-stat="satisfied">80.0%<' in html
    assert 'data-stat="bad">20.0%<' in html
    assert "58.3" in html  # 真州镇's index, in the table and the ranking
    assert "55.0" in html  # 真州镇 × item 1 in the heatmap
    assert "<svg" in html and "各单位满意度指数排名" in html
    assert "hsl(" in html  # the heatmap's colours


def test_the_previous_campaign_is_compared_with_arrows(previous, login):
    w = previous
    client = login(w.city_admin)
    html = _page(client, "satisfaction", w.city, w.campaign).content.decode()
    assert "上次指数" in html and "2021年会员网上评议" in html
    # 真州镇: 100.0 → 58.3.
    assert "-41.7" in html and "▼" in html
    rows = _xlsx_rows(_page(client, "satisfaction", w.city, w.campaign, format="xlsx"))
    town = _row(rows, "真州镇")
    assert 100.0 in town and "-41.7" in town


def test_export_holds_the_figures_and_withholds_small_units(rated, login):
    w = rated
    rows = _xlsx_rows(_page(login(w.city_admin), "satisfaction", w.city, w.campaign, format="xlsx"))
    assert rows[0][0] == "会员满意度分析"
    town = _row(rows, "真州镇")
    assert town[2:7] == [6, pytest.approx(4 / 6), 0.5, pytest.approx(2 / 6), 58.3]
    assert town[7] == 55.0
    park = _row(rows, "枣林湾旅游度假区")
    assert park[2:] == ["样本不足"] * (len(park) - 2)
    totals = _row(rows, "合计")
    assert totals[2] == 10 and totals[6] == 72.5


def test_pain_points_page_and_export(rated, login):
    w = rated
    client = login(w.city_admin)
    html = _page(client, "pain_points", w.city, w.campaign).content.decode()
    item1 = satisfaction(campaign=w.campaign, org=w.city).items[0].label
    assert f"{item1} 55.0" in html and f"{item1} 40.0%" in html and f"{item1} -17.2" in html
    rows = _xlsx_rows(_page(client, "pain_points", w.city, w.campaign, format="xlsx"))
    assert _row(rows, "枣林湾旅游度假区")[1:] == ["样本不足"] * 4
    assert f"{item1} -17.2" in _row(rows, "真州镇")[4]


def test_four_evaluations_show_insufficient_and_five_show_figures(rated, login):
    """The park: four evaluations → 样本不足 on the page, the export and the API; a fifth →
    its figures."""
    w = rated
    client = login(w.city_admin)
    api = f"/api/v1/analysis/campaigns/{w.campaign.pk}/orgs/{w.park.pk}/satisfaction"

    html = _page(client, "satisfaction", w.park, w.campaign).content.decode()
    assert 'data-stat="insufficient">样本不足<' in html and 'data-stat="index"' not in html
    rows = _xlsx_rows(_page(client, "satisfaction", w.park, w.campaign, format="xlsx"))
    assert _row(rows, "合计")[2:7] == ["样本不足"] * 5
    body = client.get(api).json()
    assert body["overall"] == {
        "sample": "样本不足",
        "evaluations": None,
        "satisfied_rate": None,
        "good_rate": None,
        "bad_rate": None,
        "index": None,
    }
    units = client.get(
        f"/api/v1/analysis/campaigns/{w.campaign.pk}/orgs/{w.city.pk}/satisfaction"
    ).json()["units"]
    assert units[1]["overall"]["sample"] == "样本不足"

    add_evaluations(w, w.campaign, [PARK[3]])  # a fifth: 5 5 5 4 4, mean 4.6 → 90.0

    html = _page(client, "satisfaction", w.park, w.campaign).content.decode()
    assert 'data-stat="index">90.0<' in html and 'data-stat="insufficient"' not in html
    rows = _xlsx_rows(_page(client, "satisfaction", w.park, w.campaign, format="xlsx"))
    assert _row(rows, "合计")[2] == 5 and _row(rows, "合计")[6] == 90.0
    body = client.get(api).json()
    assert body["overall"]["evaluations"] == 5 and body["overall"]["index"] == 90.0


def test_kind_filter_keeps_only_units_of_that_kind(rated, login):
    w = rated
    report = satisfaction(campaign=w.campaign, org=w.city, kind="town")
    assert [u.org for u in report.units] == [w.town]
    assert report.total.overall.n == 6
    html = _page(login(w.city_admin), "satisfaction", w.city, w.campaign, kind="town")
    assert "枣林湾" not in html.content.decode()


def test_another_towns_admin_gets_404_on_pages_exports_and_api(rated, login):
    w = rated
    client = login(w.town_admin)
    for name in ("satisfaction", "pain_points", "needs", "rules"):
        assert _page(client, name, w.park, w.campaign).status_code == 404
    assert _page(client, "satisfaction", w.park, w.campaign, format="xlsx").status_code == 404
    for path in ("satisfaction", "pain-points", "needs"):
        response = client.get(f"/api/v1/analysis/campaigns/{w.campaign.pk}/orgs/{w.park.pk}/{path}")
        assert response.status_code == 404
    # Their own town they do see.
    assert _page(client, "satisfaction", w.town, w.campaign).status_code == 200


def test_an_admin_cannot_read_another_citys_campaign(rated, other_campaign, login):
    w = rated
    response = _page(login(w.city_admin), "satisfaction", w.city, other_campaign)
    assert response.status_code == 404


def test_an_upheld_appeal_leaves_the_evaluation_out_of_satisfaction_not_participation(rated, login):
    from django.utils import timezone

    from cases.models import Case, CaseState
    from cases.services import open_case
    from evaluations.counters import evaluated_counts

    w = rated
    client = login(w.city_admin)
    assert (
        'data-stat="index">72.5<'
        in _page(client, "satisfaction", w.city, w.campaign).content.decode()
    )
    one_star = w.town_evaluations[-1]  # 卫生院工会's 1★
    case = open_case(evaluation=one_star)
    Case.objects.filter(pk=case.pk).update(
        excluded=True, state=CaseState.CLOSED, closed_at=timezone.now()
    )

    report = satisfaction(campaign=w.campaign, org=w.city)
    # 5 5 4 3 2 5 5 5 4: nine left, mean 38/9.
    assert report.total.overall.n == 9
    assert report.total.overall.index == pytest.approx((38 / 9 - 1) / 4 * 100)
    assert report.units[0].overall.bad_rate == pytest.approx(1 / 5)
    html = _page(client, "satisfaction", w.city, w.campaign).content.decode()
    assert 'data-stat="index">80.6<' in html  # the cached figures were not served
    # Participation still counts it.
    assert evaluated_counts(campaign=w.campaign, org_ids=[w.town.pk]) == {w.town.pk: 6}
