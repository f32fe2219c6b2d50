"""The unit table exports as the task table and imports again unchanged; finding units."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.task_table import plan_task_table, read_table
from orgs.services import create_child_org

pytestmark = pytest.mark.django_db


def _xlsx(response) -> list[list]:
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)], data


def test_export_is_the_task_table_with_totals(world, login):
    response = login(world.city_admin).get(
        reverse("orgs:units_xlsx", args=[world.city.pk]) + f"?campaign={world.campaign.pk}"
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows, _ = _xlsx(response)
    assert rows[0][0] == "仪征市总工会2022年会员网上评议任务分解表"
    assert rows[1][0].startswith("导出日期：")
    assert rows[2][:4] == ["序号", "名称", "年报工会会员人数(人)", "参评目标工会会员数(人)"]
    assert rows[3][:4] == [1, "真州镇", 4809, 3366]
    assert rows[4][:4] == [2, "枣林湾旅游度假区", 381, 267]
    assert rows[6][:4] == [None, "合计", 4809 + 381 + 4130, 3366 + 267 + 4130]


def test_exported_table_imports_again_without_change(world, login):
    response = login(world.city_admin).get(reverse("orgs:units_xlsx", args=[world.city.pk]))
    _, data = _xlsx(response)
    plan = plan_task_table(
        campaign=world.campaign, parent=world.city, table=read_table(data, "导出.xlsx")
    )
    assert not plan.refused and not plan.created
    # Targets set by the rule become explicit ones on import; nothing else changes.
    assert {row.name for row in plan.unchanged} | {row.name for row in plan.updated} == {
        "真州镇",
        "枣林湾旅游度假区",
        "教育局",
    }


def test_a_text_cell_that_looks_like_a_formula_stays_text(world, login):
    create_child_org(parent=world.town, name='=HYPERLINK("http://x")', kind="grassroots")
    response = login(world.town_admin).get(reverse("orgs:units_xlsx", args=[world.town.pk]))
    _, data = _xlsx(response)
    sheet = load_workbook(io.BytesIO(data)).active
    cell = next(c for row in sheet.iter_rows() for c in row if "=HYPER" in str(c.value))
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://x")'


def test_another_towns_export_answers_404(world, login):
    response = login(world.town_admin).get(reverse("orgs:units_xlsx", args=[world.park.pk]))
    assert response.status_code == 404


def test_search_finds_units_in_scope_only(world, login):
    html = login(world.town_admin).get(reverse("orgs:search"), {"q": "工会"}).content.decode()
    assert "真州镇中心小学工会" in html and "真州镇卫生院工会" in html
    assert "枣林湾酒店工会" not in html
    assert "仪征市总工会" not in html  # ancestors outside the scope are not named


def test_search_by_code_and_nothing_found(world, login):
    client = login(world.city_admin)
    html = client.get(reverse("orgs:search"), {"q": world.park_union.code}).content.decode()
    assert "枣林湾酒店工会" in html and "仪征市总工会 › 枣林湾旅游度假区" in html
    html = client.get(reverse("orgs:search"), {"q": "不存在的单位"}).content.decode()
    assert "没有名称含“不存在的单位”" in html
