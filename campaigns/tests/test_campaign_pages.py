"""Campaign pages: settings, questionnaire editing and who may change them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Campaign, QuestionKind
from campaigns.services import ITEMS_2022

pytestmark = pytest.mark.django_db


def test_campaign_page_shows_window_questionnaire_and_rule(world, login):
    html = login(world.town_admin).get(reverse("campaigns:detail", args=[world.campaign.pk]))
    text = html.content.decode()
    assert "2022年9月1日 00:00 至 2022年11月30日 23:59" in text
    assert "工作总体满意度" in text
    for item in ITEMS_2022:
        assert item in text
    assert "镇工会 70%" in text and "机关/事业单位工会 100%" in text
    assert "核实 1 个工作日，整改答复 15 个工作日" in text


def test_town_admin_reads_the_campaign_but_cannot_edit_it(world, login):
    client = login(world.town_admin)
    assert client.get(reverse("campaigns:list")).status_code == 200
    assert client.get(reverse("campaigns:edit", args=[world.campaign.pk])).status_code == 403
    assert (
        client.get(reverse("campaigns:questionnaire", args=[world.campaign.pk])).status_code == 403
    )


def campaign_form(**changes) -> dict:
    """The campaign form as an admin fills it in for 2023."""
    return {
        "name": "2023年会员网上评议",
        "year": "2023",
        "start_date": "2023-09-01",
        "end_date": "2023-11-30",
        "negative_rule": "overall",
        "verify_days": "1",
        "rectify_days": "15",
    } | changes


def test_city_admin_creates_a_campaign_with_the_seed_questionnaire(world, login):
    response = login(world.city_admin).post(
        reverse("campaigns:create"),
        campaign_form(rectify_days="7", rate_town="70", rate_park="70", rate_agency="100"),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="2023年会员网上评议")
    assert campaign.rectify_days == 7
    assert [q.label for q in campaign.questions.filter(kind=QuestionKind.ITEM)] == ITEMS_2022
    assert {r.org_kind for r in campaign.target_rates.all()} == {"town", "park", "agency"}


def test_end_before_start_is_refused(world, login):
    response = login(world.city_admin).post(
        reverse("campaigns:create"),
        campaign_form(name="倒置", start_date="2023-11-30", end_date="2023-09-01"),
    )
    assert "结束日期 2023-09-01 早于开始日期 2023-11-30" in response.content.decode()
    assert not Campaign.objects.filter(name="倒置").exists()


def test_duplicate_campaign_name_is_refused(world, login):
    response = login(world.city_admin).post(
        reverse("campaigns:create"), campaign_form(name="2022年会员网上评议", year="2022")
    )
    assert "已有名为“2022年会员网上评议”的评议活动" in response.content.decode()


def test_questionnaire_relabel_reorder_add_and_remove(world, login):
    client = login(world.city_admin)
    questions = {q.label: q for q in world.campaign.questions.all()}
    data = {}
    for q in questions.values():
        data[f"label_{q.pk}"] = q.label
        data[f"position_{q.pk}"] = str(q.position)
    data[f"label_{questions['民主管理'].pk}"] = "民主管理与厂务公开"
    data[f"position_{questions['民主管理'].pk}"] = "1"
    data[f"position_{questions['职工(代表)大会'].pk}"] = "2"
    data[f"delete_{questions['职工文体活动'].pk}"] = "on"
    data[f"delete_{questions['工作总体满意度'].pk}"] = "on"  # ignored: overall stays
    data["new_label"] = "职工之家建设"
    response = client.post(reverse("campaigns:questionnaire", args=[world.campaign.pk]), data)
    assert response.status_code == 302
    labels = [q.label for q in world.campaign.questions.all()]
    assert labels[:3] == ["工作总体满意度", "民主管理与厂务公开", "职工(代表)大会"]
    assert "职工文体活动" not in labels
    assert "职工之家建设" in labels
    assert world.campaign.questions.filter(kind=QuestionKind.OVERALL, required=True).count() == 1


def test_questionnaire_refuses_an_empty_label(world, login):
    overall = world.campaign.questions.get(kind=QuestionKind.OVERALL)
    response = login(world.city_admin).post(
        reverse("campaigns:questionnaire", args=[world.campaign.pk]),
        {f"label_{overall.pk}": " ", f"position_{overall.pk}": "0"},
    )
    assert "题目不能为空" in response.content.decode()
    overall.refresh_from_db()
    assert overall.label == "工作总体满意度"


def test_campaign_of_another_federation_is_invisible(world, login, other_campaign):
    campaign = other_campaign
    client = login(world.city_admin)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert "扬州评议" not in client.get(reverse("campaigns:list")).content.decode()


def test_city_admin_changes_deadlines_window_and_rates(world, login):
    response = login(world.city_admin).post(
        reverse("campaigns:edit", args=[world.campaign.pk]),
        campaign_form(
            name="2022年会员网上评议",
            year="2022",
            start_date="2022-09-01",
            end_date="2022-12-15",
            negative_rule="overall_or_item",
            verify_days="5",
            rectify_days="7",
            rate_town="80",
            rate_park="70",
        ),
    )
    assert response.status_code == 302
    world.campaign.refresh_from_db()
    assert (world.campaign.verify_days, world.campaign.rectify_days) == (5, 7)
    assert world.campaign.negative_rule == "overall_or_item"
    html = login(world.city_admin).get(reverse("campaigns:detail", args=[world.campaign.pk]))
    text = html.content.decode()
    assert "至 2022年12月15日 23:59" in text
    assert "镇工会 80%" in text
    # Cleared rates leave a kind without a rule-derived target.
    assert "机关/事业单位工会" not in text.split("目标规则")[1].split("</dd>")[0]


def test_the_edit_form_saved_unchanged_keeps_the_rates(world, login):
    """The stored 0.7000 came back as "70.0000", which the form's two decimals refused."""
    from campaigns.services import set_target_rates

    set_target_rates(campaign=world.campaign, rates={"town": Decimal("0.7")})
    client = login(world.city_admin)
    url = reverse("campaigns:edit", args=[world.campaign.pk])
    page = client.get(url)
    assert 'value="70.00"' in page.content.decode()
    form = page.context["form"]
    unchanged = {n: form[n].value() for n in form.fields if form[n].value() is not None}
    assert client.post(url, unchanged).status_code == 302
    assert world.campaign.target_rates.get(org_kind="town").rate == Decimal("0.7")


def test_campaign_page_lists_only_the_task_tables_of_the_admins_subtree(world, login):
    """The city's campaign is read by every town; each town's task-table imports are its own
    (found by the access matrix: the page listed every unit's imports to every reader)."""
    from campaigns.models import TaskTableImport

    for org in (world.town, world.park):
        TaskTableImport.objects.create(
            campaign=world.campaign, parent=org, filename=f"{org.name}任务表.xlsx", file_sha256="0"
        )
    url = reverse("campaigns:detail", args=[world.campaign.pk])

    town = login(world.town_admin).get(url).content.decode()
    assert "真州镇任务表.xlsx" in town
    assert "枣林湾旅游度假区任务表.xlsx" not in town

    union = login(world.union_admin).get(url).content.decode()
    assert "真州镇任务表.xlsx" not in union

    city = login(world.city_admin).get(url).content.decode()
    assert "真州镇任务表.xlsx" in city and "枣林湾旅游度假区任务表.xlsx" in city


def test_the_campaign_page_links_to_the_review_and_the_assessment_for_whom_they_are(world, login):
    from reports.assessment import publish_assessment

    url = reverse("campaigns:detail", args=[world.campaign.pk])
    city = login(world.city_admin).get(url).content.decode()
    assert reverse("integrity:unit", args=[world.city.pk]) in city
    assert reverse("console:assessment_start") in city
    town = login(world.town_admin).get(url).content.decode()
    assert reverse("integrity:unit", args=[world.city.pk]) not in town
    assert f"{reverse('console:assessment_start')}?campaign" not in town  # a draft: 404 to them

    publish_assessment(campaign=world.campaign, by=world.city_admin)
    town = login(world.town_admin).get(url).content.decode()
    assert f"{reverse('console:assessment_start')}?campaign={world.campaign.pk}" in town
