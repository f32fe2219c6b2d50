"""The Yizheng 2022 demo as the federation and a town admin see it in the console."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from campaigns.models import Campaign
from campaigns.rollups import rebuild_rollups, recount
from orgs.models import Org, OrgKind
from orgs.selectors import children_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo")
    return Campaign.objects.get(name="2022年会员网上评议")


def test_demo_has_the_85_units_of_the_task_table(demo):
    root = Org.objects.get(code="321081")
    units = list(children_of(root))
    assert len(units) == 85
    assert [u.name for u in units[:3]] == ["经济开发区", "化学工业园区", "汽车工业园"]
    assert units[-1].name == "市汽车工业公司"
    assert all(children_of(unit).exists() for unit in units)
    assert {u.kind for u in units[4:13]} == {OrgKind.TOWN}
    assert demo.questions.count() == 11  # overall, nine items, suggestion


def test_federation_admin_sees_62301_members_and_50866_target_with_the_warning(demo, client):
    client.force_login(User.objects.get(username="yz_admin"))
    page = client.get(reverse("console:home"))
    html = page.content.decode()
    table = page.context["panels"][0]["table"]
    assert len(table.rows) == 85
    assert (table.own.reported, table.own.target) == (62301, 50866)
    assert (table.total_reported, table.total_target) == (62301, 50866)
    assert "62,301" in html and "50,866" in html
    assert "任务分解表合计栏参评目标为 50,867 人，各行相加为 50,866 人，相差 1 人" in html
    row = next(r for r in table.rows if r.org.name == "枣林湾旅游度假区")
    assert (row.figures.reported, row.figures.target) == (381, 267)


def test_town_admin_sees_only_their_town_and_its_undistributed_target(demo, client):
    client.force_login(User.objects.get(username="zhenzhou"))
    page = client.get(reverse("console:home"))
    html = page.content.decode()
    [panel] = page.context["panels"]
    assert panel["org"].name == "真州镇"
    assert (panel["table"].own.reported, panel["table"].own.target) == (4809, 3366)
    assert "经济开发区" not in html and "教育局" not in html
    assert "尚有 3,366 人未分解" in html
    root = Org.objects.get(code="321081")
    assert client.get(reverse("orgs:detail", args=[root.pk])).status_code == 404


def test_stored_rollups_equal_a_fresh_computation(demo):
    figures, drifted = recount(campaign=demo)
    assert drifted == []
    assert len(figures) == Org.objects.count()
    assert rebuild_rollups(campaign=demo) == demo.rollups.count() == 260


def test_load_demo_twice_changes_nothing(demo):
    before = (Org.objects.count(), User.objects.count())
    call_command("load_demo")
    assert (Org.objects.count(), User.objects.count()) == before
