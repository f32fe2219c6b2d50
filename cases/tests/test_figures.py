"""Case figures per unit (回复率, 回访率, 按期整改率, 整改满意率) on the page and in the xlsx."""

from decimal import Decimal

import pytest

from cases.models import Case, Outcome
from cases.selectors import figures_by_unit
from cases.services import (
    open_missing_cases,
    rate_handling,
    record_return_visit,
    reply_case,
    verify_case,
)

from .conftest import at, negative_review, xlsx_rows


@pytest.fixture
def worked(reviewers):
    """真州镇: 李华's case answered in time and rated 满意, 王芳's (回访 agreed) answered late,
    visited and rated 不满意; 枣林湾: 赵明's case never touched."""
    w = reviewers
    li = negative_review(w.li, w.campaign)
    wang = negative_review(w.wang, w.campaign, return_visit=True)
    negative_review(w.zhao, w.campaign)
    for case, day in ((li, "2022-10-20"), (wang, "2022-11-02")):
        verify_case(case=case, by=w.union_admin, finding="属实", now=at("2022-10-08"))
        reply_case(
            case=case,
            by=w.union_admin,
            outcome=Outcome.FIXED,
            measures="整改",
            reply="答复",
            now=at(day),
        )
    record_return_visit(case=wang, by=w.union_admin, note="已回访", now=at("2022-11-03"))
    rate_handling(case=li, member=w.li, rating="satisfied", now=at("2022-10-21"))
    rate_handling(case=wang, member=w.wang, rating="dissatisfied", now=at("2022-11-04"))
    return w


def test_figures_per_unit(worked):
    w = worked
    table = figures_by_unit(campaign=w.campaign, parent=w.city)
    rows = {row.org.name: row.figures for row in table.rows}

    town = rows["真州镇"]
    assert (town.cases, town.replied, town.reply_rate) == (2, 2, Decimal(1))
    assert (town.consented, town.visited, town.visit_rate) == (1, 1, Decimal(1))
    assert (town.on_time, town.due, town.on_time_rate) == (1, 2, Decimal("0.5"))
    assert (town.satisfied, town.rated, town.satisfaction_rate) == (1, 2, Decimal("0.5"))

    park = rows["枣林湾旅游度假区"]
    assert (park.cases, park.reply_rate, park.visit_rate) == (1, Decimal(0), None)
    assert (park.due, park.on_time_rate, park.satisfaction_rate) == (1, Decimal(0), None)
    assert rows["教育局"].cases == 0
    assert table.total.cases == 3 and table.total.replied == 2


def test_a_grassroots_admin_sees_their_own_union(worked):
    table = figures_by_unit(campaign=worked.campaign, parent=worked.town_union_a)

    assert [row.org.name for row in table.rows] == ["真州镇中心小学工会"]
    assert table.total.cases == 2


def test_figures_page_and_export(worked, login):
    w = worked
    admin = login(w.city_admin)

    page = admin.get(f"/console/cases/figures/?campaign={w.campaign.pk}").content.decode()
    assert "真州镇" in page and "50.0%" in page and "100.0%" in page

    export = admin.get(f"/console/cases/figures/export/?campaign={w.campaign.pk}")
    rows = xlsx_rows(export.getvalue())
    town = next(r for r in rows if r[0] == "真州镇")
    assert town[1:4] == [2, 2, 1.0]
    assert town[9] == 0.5 and town[12] == 0.5
    totals = next(r for r in rows if r[0] == "合计")
    assert totals[1] == 3


def test_the_town_cannot_read_the_citys_figures_of_another_unit(worked, login):
    response = login(worked.town_admin).get(
        f"/console/cases/figures/?campaign={worked.campaign.pk}&org={worked.park.pk}"
    )

    assert response.status_code == 404


def test_queue_export_rows(worked, login):
    w = worked
    rows = xlsx_rows(
        login(w.town_admin).get(f"/console/cases/export/?campaign={w.campaign.pk}").getvalue()
    )
    header = rows[2]
    data = [r for r in rows[3:] if r and r[0] and str(r[0]).startswith("CP")]

    assert header[:3] == ["编号", "被评工会", "受理时间"]
    assert len(data) == 2  # the town's two; 枣林湾's case is not in the town's scope
    assert {r[1] for r in data} == {"真州镇中心小学工会"}
    low_items = {r[4] for r in data}
    assert low_items == {"职工(代表)大会"}


def test_the_queue_filters_by_a_low_rated_item(worked, login):
    from evaluations.selectors import questionnaire

    w = worked
    items = questionnaire(w.campaign).items
    admin = login(w.city_admin)

    low = admin.get(f"/console/cases/?campaign={w.campaign.pk}&item={items[0].pk}")
    high = admin.get(f"/console/cases/?campaign={w.campaign.pk}&item={items[1].pk}")

    assert low.content.decode().count("CP2022-") == 3
    assert high.content.decode().count("CP2022-") == 0


def test_cases_are_opened_for_negative_reviews_stored_without_one(reviewers):
    from evaluations.models import Channel, Evaluation

    w = reviewers
    # As a bulk load stores them: rows written directly, no case opened.
    Evaluation.objects.create(
        campaign=w.campaign,
        member=w.zhao,
        org=w.park_union,
        overall=1,
        is_negative=True,
        submitted_at=at("2022-09-30", 15),
        channel=Channel.DEMO,
    )
    Evaluation.objects.create(
        campaign=w.campaign,
        member=w.li,
        org=w.town_union_a,
        overall=5,
        submitted_at=at("2022-09-30", 15),
        channel=Channel.DEMO,
    )

    assert open_missing_cases(campaign=w.campaign) == 1
    assert open_missing_cases(campaign=w.campaign) == 0
    case = Case.objects.get()
    assert case.org == w.park_union
    assert case.verify_due.isoformat() == "2022-10-08"
    assert case.rectify_due.isoformat() == "2022-10-26"
    assert case.events.get().kind == "opened"
