"""The union tree in the console: figures, drill-down and the admin's subtree."""

import pytest
from django.urls import reverse

from orgs.models import OrgKind
from orgs.selectors import children_of
from orgs.services import create_child_org

pytestmark = pytest.mark.django_db


def test_city_admin_sees_units_with_reported_members_and_targets(world, login):
    page = login(world.city_admin).get(reverse("orgs:detail", args=[world.city.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("真州镇", "枣林湾旅游度假区", "教育局"):
        assert name in html
    # 4809 × 70% = 3366.3 → 3366; 381 × 70% = 266.7 → 267; 4130 × 100%
    assert "3,366" in html and "267" in html and "4,130" in html
    assert page.context["table"].total_reported == 4809 + 381 + 4130
    assert page.context["table"].total_target == 3366 + 267 + 4130


def test_town_admin_sees_only_their_town(world, login):
    client = login(world.town_admin)
    home = client.get(reverse("console:home")).content.decode()
    assert "真州镇中心小学工会" in home
    assert "枣林湾" not in home and "教育局" not in home
    assert client.get(reverse("orgs:detail", args=[world.park.pk])).status_code == 404
    assert client.get(reverse("orgs:detail", args=[world.city.pk])).status_code == 404


def test_grassroots_admin_cannot_add_units_to_the_town(world, login):
    client = login(world.union_admin)
    response = client.post(
        reverse("orgs:add_child", args=[world.town.pk]), {"name": "新工会", "kind": "grassroots"}
    )
    assert response.status_code == 404
    assert not children_of(world.town).filter(name="新工会").exists()


def test_viewer_reads_but_cannot_change(world, login):
    client = login(world.viewer)
    assert client.get(reverse("orgs:detail", args=[world.town.pk])).status_code == 200
    response = client.post(
        reverse("orgs:add_child", args=[world.town.pk]), {"name": "新工会", "kind": "grassroots"}
    )
    assert response.status_code == 403


def test_town_admin_adds_a_grassroots_union_with_a_target(world, login):
    client = login(world.town_admin)
    response = client.post(
        reverse("orgs:add_child", args=[world.town.pk]) + f"?campaign={world.campaign.pk}",
        {
            "name": " 真州镇 自来水厂工会 ",
            "kind": OrgKind.GRASSROOTS,
            "reported_members": "120",
            "target": "100",
        },
    )
    assert response.status_code == 302
    child = children_of(world.town).get(name="真州镇自来水厂工会")
    assert child.code == "321081-001-003"
    page = client.get(
        reverse("orgs:detail", args=[world.town.pk]) + f"?campaign={world.campaign.pk}"
    )
    assert page.context["table"].total_target == 100


def test_target_above_membership_is_refused_on_the_form(world, login):
    client = login(world.town_admin)
    response = client.post(
        reverse("orgs:add_child", args=[world.town.pk]) + f"?campaign={world.campaign.pk}",
        {"name": "某厂工会", "kind": OrgKind.GRASSROOTS, "reported_members": "10", "target": "11"},
    )
    assert response.status_code == 200
    assert "参评目标 11 人超过年报工会会员人数 10 人" in response.content.decode()


def test_duplicate_sibling_name_is_refused(world, login):
    create_child_org(parent=world.town, name="重名工会", kind=OrgKind.GRASSROOTS)
    response = login(world.town_admin).post(
        reverse("orgs:add_child", args=[world.town.pk]), {"name": "重名 工会", "kind": "grassroots"}
    )
    assert "“真州镇”下已有名为“重名工会”的组织" in response.content.decode()


def test_town_admin_edits_a_union_and_sets_its_figures(world, login):
    client = login(world.town_admin)
    url = reverse("orgs:edit", args=[world.town_union_a.pk]) + f"?campaign={world.campaign.pk}"
    response = client.post(
        url,
        {
            "name": "真州镇中心小学工会委员会",
            "kind": "grassroots",
            "seq": "1",
            "reported_members": "88",
            "target": "80",
        },
    )
    assert response.status_code == 302
    page = client.get(
        reverse("orgs:detail", args=[world.town.pk]) + f"?campaign={world.campaign.pk}"
    )
    row = next(r for r in page.context["table"].rows if r.org.pk == world.town_union_a.pk)
    assert row.org.name == "真州镇中心小学工会委员会"
    assert (row.figures.reported, row.figures.target, row.figures.target_source) == (
        88,
        80,
        "import",
    )


def test_clearing_a_manual_target_falls_back_to_the_rule(world, login):
    client = login(world.city_admin)
    url = reverse("orgs:edit", args=[world.park.pk]) + f"?campaign={world.campaign.pk}"
    client.post(
        url,
        {"name": "枣林湾旅游度假区", "kind": "park", "reported_members": "381", "target": "300"},
    )
    client.post(
        url, {"name": "枣林湾旅游度假区", "kind": "park", "reported_members": "381", "target": ""}
    )
    page = client.get(
        reverse("orgs:detail", args=[world.city.pk]) + f"?campaign={world.campaign.pk}"
    )
    row = next(r for r in page.context["table"].rows if r.org.pk == world.park.pk)
    assert (row.figures.target, row.figures.target_source) == (267, "rule")


def test_town_admin_cannot_edit_the_town_next_door(world, login):
    response = login(world.town_admin).post(
        reverse("orgs:edit", args=[world.park.pk]), {"name": "改名", "kind": "park"}
    )
    assert response.status_code == 404
    world.park.refresh_from_db()
    assert world.park.name == "枣林湾旅游度假区"


def test_town_admin_cannot_edit_their_own_town_or_its_target(world, login):
    client = login(world.town_admin)
    page = client.get(reverse("orgs:detail", args=[world.town.pk])).content.decode()
    assert "修改本组织" not in page
    response = client.post(
        reverse("orgs:edit", args=[world.town.pk]) + f"?campaign={world.campaign.pk}",
        {"name": "真州镇", "kind": "town", "reported_members": "4809", "target": "1"},
    )
    assert response.status_code == 403
    assert "由上级工会管理员修改" in response.content.decode()
    assert not world.campaign.targets.filter(org=world.town).exists()


def test_city_admin_sees_the_edit_button_on_a_town(world, login):
    page = login(world.city_admin).get(reverse("orgs:detail", args=[world.town.pk]))
    assert "修改本组织" in page.content.decode()
