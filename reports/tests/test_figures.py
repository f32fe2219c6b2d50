"""reports/figures.py: every figure equals a count straight from the Evaluation/Member tables."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Rollup
from evaluations.services import Answers, submit_evaluation
from members.models import Member
from members.transfer import transfer_member
from reports.figures import cumulative_series, progress_table
from reports.tests.conftest import straight_evaluated, straight_registered

pytestmark = pytest.mark.django_db


def assert_matches_the_tables(table):
    """Each unit's figures against a count of the rows, and the rollups for reported/target."""
    for unit in [table.total, *table.rows]:
        rollup = Rollup.objects.filter(campaign=table.campaign, org=unit.org).first()
        assert unit.reported == (rollup.reported if rollup else None), unit.org.name
        assert unit.target == (rollup.target if rollup else None), unit.org.name
        assert unit.evaluated == straight_evaluated(table.campaign, unit.org, table.until)
        assert unit.week_new == straight_evaluated(
            table.campaign, unit.org, table.until, since=table.week_start
        )
        assert unit.registered == straight_registered(unit.org, table.until), unit.org.name


def test_the_citys_figures_at_a_past_cut_off_equal_counts_of_the_rows(progress_world):
    w = progress_world
    table = progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 2))

    assert table.week_start == date(2022, 10, 31)  # the Monday
    assert [u.org.name for u in table.rows] == ["真州镇", "枣林湾旅游度假区", "教育局"]
    town, park, agency = table.rows
    assert (town.evaluated, town.week_new, town.registered, town.target) == (2, 1, 3, 4)
    assert (park.evaluated, park.week_new, park.registered, park.target) == (1, 1, 1, 1)
    assert (agency.evaluated, agency.registered) == (0, 0)
    assert (table.total.evaluated, table.total.week_new, table.total.registered) == (3, 2, 4)
    assert town.completion == 0.5 and park.completion == 1.0 and agency.completion == 0.0
    assert town.participation == 2 / 4809 and town.registration_rate == 3 / 4809
    assert [park.rank, town.rank, agency.rank] == [1, 2, 3]
    assert_matches_the_tables(table)


@pytest.mark.parametrize("until", [date(2022, 9, 5), date(2022, 9, 9), date(2022, 10, 31)])
def test_earlier_cut_offs_leave_out_what_came_later(progress_world, until):
    w = progress_world
    for parent in (w.city, w.town):
        assert_matches_the_tables(progress_table(campaign=w.campaign, parent=parent, until=until))


def test_the_end_of_a_day_is_the_local_midnight(progress_world):
    # 王芳 evaluated and 钱一 registered at 23:00 Shanghai on 2 Nov (15:00 UTC): that is 2 Nov.
    w = progress_world
    first = progress_table(campaign=w.campaign, parent=w.town, until=date(2022, 11, 1))
    second = progress_table(campaign=w.campaign, parent=w.town, until=date(2022, 11, 2))
    assert (first.total.evaluated, first.total.registered) == (1, 2)
    assert (second.total.evaluated, second.total.registered) == (2, 3)


def test_no_until_means_the_windows_last_day_for_a_closed_campaign(progress_world):
    w = progress_world
    table = progress_table(campaign=w.campaign, parent=w.city)
    assert table.until == date(2022, 11, 30) and table.elapsed_share == 1.0
    assert table.total.evaluated == 3


def test_a_transfer_after_evaluating_moves_the_registration_not_the_evaluation(evaluators):
    w = evaluators
    campaign = w.open_campaign
    submit_evaluation(member=w.li, campaign=campaign, answers=Answers(overall=5, ratings={}))
    from members.counters import rebuild_registration_counts

    rebuild_registration_counts()  # the conftest's accounts are made without the counters
    before = progress_table(campaign=campaign, parent=w.city)
    assert [(u.evaluated, u.registered) for u in before.rows[:2]] == [(1, 1), (0, 1)]

    transfer_member(member=Member.objects.get(pk=w.li.pk), to_org=w.park_union)

    after = progress_table(campaign=campaign, parent=w.city)
    town, park = after.rows[:2]
    assert (town.evaluated, town.registered) == (1, 0)  # the evaluation stays with the town
    assert (park.evaluated, park.registered) == (0, 2)
    assert after.total.registered == 2 and after.total.evaluated == 1
    assert_matches_the_tables(after)


def test_ties_share_a_rank_and_a_unit_without_target_has_none(progress_world):
    from campaigns.services import set_manual_target
    from orgs.models import OrgKind
    from orgs.services import create_child_org

    w = progress_world
    set_manual_target(campaign=w.campaign, org=w.town, value=2)  # 2 of 2: 100%, like 枣林湾
    create_child_org(parent=w.city, name="新建工会", kind=OrgKind.DIRECT, seq=9)  # no figures
    table = progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 30))
    town, park, agency, new = table.rows
    assert (town.rank, park.rank, agency.rank) == (1, 1, 3)
    assert new.target is None and new.rank is None and new.completion is None
    assert not new.behind


def test_behind_is_below_the_elapsed_share_times_the_pace(progress_world):
    w = progress_world
    # 2 Nov 2022 ends day 63 of a 91-day window: 69.2% of the time passed
    table = progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 2))
    assert table.elapsed_share == pytest.approx(63 / 91, abs=0.001)
    town, park, agency = table.rows
    assert (town.behind, park.behind, agency.behind) == (True, False, True)
    lenient = progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 2), pace=0.7)
    assert lenient.expected == pytest.approx(0.7 * 63 / 91)
    assert [u.behind for u in lenient.rows] == [False, False, True]  # 50% ≥ 48.5%


def test_cumulative_series_has_every_day_of_the_window_up_to_until(progress_world):
    w = progress_world
    series = cumulative_series(campaign=w.campaign, org=w.city, until=date(2022, 11, 2))
    assert series[0] == (date(2022, 9, 1), 0)
    assert len(series) == 63 and series[-1] == (date(2022, 11, 2), 3)
    assert dict(series)[date(2022, 9, 10)] == 1 and dict(series)[date(2022, 10, 30)] == 1
    days = [d for d, _n in series]
    assert days == [date(2022, 9, 1) + timedelta(days=i) for i in range(63)]
    for day, n in series[::7]:
        assert n == straight_evaluated(w.campaign, w.city, day)


def test_a_table_is_a_handful_of_queries_whatever_the_number_of_units(progress_world):
    w = progress_world
    with CaptureQueriesContext(connection) as small:
        progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 2))
    from orgs.models import OrgKind
    from orgs.services import create_child_org

    for i in range(30):
        create_child_org(parent=w.city, name=f"新单位{i}", kind=OrgKind.SECTOR, seq=10 + i)
    with CaptureQueriesContext(connection) as large:
        progress_table(campaign=w.campaign, parent=w.city, until=date(2022, 11, 2))
    assert len(large) == len(small) <= 5
    assert not any("evaluations_evaluation" in q["sql"] for q in large.captured_queries)
    assert not any('"members_member"' in q["sql"] for q in large.captured_queries)
