"""The admin API answers within the caller's subtree, with JSON errors in Chinese."""

import pytest

pytestmark = pytest.mark.django_db


def test_api_needs_login(client):
    response = client.get("/api/v1/orgs")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "请先登录"}


def test_town_admin_lists_their_town_and_its_unions(world, login):
    client = login(world.town_admin)
    assert [o["name"] for o in client.get("/api/v1/orgs").json()] == ["真州镇"]
    children = client.get(f"/api/v1/orgs/{world.town.pk}/children").json()
    assert [c["name"] for c in children] == ["真州镇中心小学工会", "真州镇卫生院工会"]
    assert children[0]["kind_label"] == "基层工会"


def test_another_units_children_answer_404_in_chinese(world, login):
    response = login(world.town_admin).get(f"/api/v1/orgs/{world.park.pk}/children")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "不在您的管理范围内" in response.json()["message"]


def test_unit_figures_follow_the_target_rule(world, login):
    client = login(world.city_admin)
    rows = client.get(f"/api/v1/campaigns/{world.campaign.pk}/orgs/{world.city.pk}/units").json()
    by_name = {r["name"]: r for r in rows}
    assert by_name["枣林湾旅游度假区"]["reported_members"] == 381
    assert by_name["枣林湾旅游度假区"]["target"] == 267
    assert by_name["枣林湾旅游度假区"]["target_source"] == "rule"


def test_unit_figures_refuse_another_units_org(world, login):
    client = login(world.park_admin)
    url = f"/api/v1/campaigns/{world.campaign.pk}/orgs/{world.town.pk}/units"
    assert client.get(url).status_code == 404


def test_bad_path_parameter_is_a_json_error(world, login):
    response = login(world.city_admin).get("/api/v1/orgs/abc/children")
    assert response.status_code in (404, 422)


def test_openapi_docs_are_served_without_outside_assets(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "工会会员网上评议 API"


def test_campaign_questionnaire_through_the_api(world, login):
    client = login(world.town_admin)
    [listed] = client.get("/api/v1/campaigns").json()
    assert listed["name"] == "2022年会员网上评议" and listed["status"] == "closed"
    detail = client.get(f"/api/v1/campaigns/{world.campaign.pk}").json()
    assert [q["label"] for q in detail["questions"]][:2] == ["工作总体满意度", "职工(代表)大会"]
    assert detail["questions"][0]["required"] is True
    assert detail["questions"][-1]["max_length"] == 500
    assert detail["scale"][0] == {"value": 5, "label": "非常满意"}
    assert detail["target_rates"]["town"] == 0.7
    assert (detail["verify_days"], detail["rectify_days"]) == (1, 15)


def test_campaign_of_another_federation_is_404_through_the_api(world, login, other_campaign):
    campaign = other_campaign
    client = login(world.city_admin)
    assert client.get(f"/api/v1/campaigns/{campaign.pk}").json()["code"] == "not_found"
    assert [c["name"] for c in client.get("/api/v1/campaigns").json()] == ["2022年会员网上评议"]
