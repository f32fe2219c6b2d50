"""Excluding evaluations after review: they leave completion, satisfaction and case figures from
the day they were submitted, stay stored and flagged, every decision is logged, and restoring
brings everything back."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from analysis.selectors import satisfaction
from campaigns.services import set_manual_target
from cases.selectors import figures_by_unit
from conftest import SHANGHAI
from evaluations import counters
from evaluations.counters import excluded_counts
from evaluations.exclusions import (
    ExclusionError,
    exclude_evaluations,
    recount_exclusions,
    restore_evaluations,
)
from evaluations.models import (
    AppendOnlyError,
    Evaluation,
    Exclusion,
    ExclusionAction,
    ExclusionCount,
    ExclusionEvent,
)
from reports.figures import cumulative_series, progress_table

from .integrity_world import fabricated, members, ordinary, rate

NIGHT = datetime(2022, 11, 27, 21, 30, tzinfo=SHANGHAI)


@pytest.fixture
def padded(world):
    """真州镇中心小学工会: 10 ordinary evaluations and 6 planted on 27 Nov; the park: 5 ordinary.
    The town's target is 20."""
    w = world
    w.honest = ordinary(w.town_union_a, w.campaign, 10, tag="a")
    w.planted = fabricated(w.town_union_a, w.campaign, 6, start=NIGHT)
    w.park_honest = ordinary(w.park_union, w.campaign, 5, tag="p")
    set_manual_target(campaign=w.campaign, org=w.town, value=20)
    return w


def planted_of(w):
    return Evaluation.objects.filter(pk__in=[e.pk for e in w.planted])


def exclude(w, evaluations=None, reason="经电话核实，会员本人未参加评议"):
    return exclude_evaluations(
        campaign=w.campaign,
        evaluations=evaluations if evaluations is not None else planted_of(w),
        actor=w.city_admin,
        reason=reason,
        address="10.1.1.1",
    )


def town_row(w, until=None):
    table = progress_table(campaign=w.campaign, parent=w.city, until=until)
    return next(r for r in table.rows if r.org == w.town), table


def test_excluded_evaluations_leave_completion_with_the_exclusion_shown(padded):
    w = padded
    before, _table = town_row(w)
    assert (before.evaluated, before.excluded, before.completion) == (16, 0, 16 / 20)

    assert exclude(w) == 6

    after, table = town_row(w)
    assert (after.evaluated, after.excluded) == (10, 6)
    assert after.completion == 10 / 20
    assert after.participation == 10 / 4809
    assert (table.total.evaluated, table.total.excluded) == (15, 6)
    # The evaluations themselves are untouched, and flagged.
    assert Evaluation.objects.filter(campaign=w.campaign).count() == 21
    assert Exclusion.objects.filter(campaign=w.campaign).count() == 6


def test_an_exclusion_counts_from_the_day_the_evaluation_was_submitted(padded):
    w = padded
    exclude(w)
    # Before the planted night nothing changes; from it on, they are out.
    earlier, _t = town_row(w, until=date(2022, 11, 26))
    on_the_night, _t = town_row(w, until=date(2022, 11, 27))
    assert (earlier.evaluated, earlier.excluded) == (10, 0)
    assert (on_the_night.evaluated, on_the_night.excluded) == (10, 6)
    assert on_the_night.week_new == 0  # the week of 21 Nov: six submitted, six excluded
    series = dict(cumulative_series(campaign=w.campaign, org=w.town))
    assert series[date(2022, 11, 26)] == series[date(2022, 11, 27)] == 10


def test_restoring_brings_the_evaluations_back(padded):
    w = padded
    exclude(w)
    restored = restore_evaluations(
        campaign=w.campaign,
        evaluations=Evaluation.objects.filter(pk__in=[e.pk for e in w.planted[:4]]),
        actor=w.city_admin,
        reason="复核：其中 4 人确认本人评议",
    )
    assert restored == 4
    row, _t = town_row(w)
    assert (row.evaluated, row.excluded) == (14, 2)
    assert excluded_counts(campaign=w.campaign, org_ids=[w.city.pk, w.town.pk, w.park.pk]) == {
        w.city.pk: 2,
        w.town.pk: 2,
        w.park.pk: 0,
    }
    assert recount_exclusions(w.campaign) == []
    assert counters.recount(w.campaign) == []  # the submissions' counters are never touched


def test_every_decision_is_logged_with_who_when_why_and_where(padded):
    w = padded
    exclude(w)
    restore_evaluations(
        campaign=w.campaign,
        evaluations=Evaluation.objects.filter(pk=w.planted[0].pk),
        actor=w.city_admin,
        reason="误判",
    )
    events = ExclusionEvent.objects.filter(campaign=w.campaign).order_by("pk")
    assert [e.action for e in events] == [ExclusionAction.EXCLUDE] * 6 + [ExclusionAction.RESTORE]
    first = events[0]
    assert first.actor == w.city_admin and first.address == "10.1.1.1"
    assert first.reason == "经电话核实，会员本人未参加评议"
    assert first.org == w.town_union_a
    assert events.last().reason == "误判"


def test_the_log_cannot_be_rewritten(padded):
    w = padded
    exclude(w)
    event = ExclusionEvent.objects.first()
    event.reason = "改写"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ExclusionEvent.objects.filter(campaign=w.campaign).update(reason="改写")
    with pytest.raises(AppendOnlyError):
        ExclusionEvent.objects.filter(campaign=w.campaign).delete()


def test_excluding_twice_counts_once_and_restoring_what_is_not_excluded_does_nothing(padded):
    w = padded
    assert exclude(w) == 6
    assert exclude(w) == 0
    assert ExclusionEvent.objects.count() == 6
    assert (
        restore_evaluations(
            campaign=w.campaign,
            evaluations=Evaluation.objects.filter(pk=w.honest[0].pk),
            actor=w.city_admin,
            reason="无",
        )
        == 0
    )
    row, _t = town_row(w)
    assert row.excluded == 6
    assert ExclusionCount.objects.filter(org=w.city).get().count == 6


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "请填写理由"), ("   ", "请填写理由"), ("理" * 501, "理由最多 500 字，您写了 501 字")],
)
def test_a_decision_without_a_proper_reason_is_refused_and_changes_nothing(padded, reason, message):
    w = padded
    with pytest.raises(ExclusionError, match=message) as refused:
        exclude(w, reason=reason)
    assert refused.value.field == "reason"
    assert not Exclusion.objects.exists() and not ExclusionEvent.objects.exists()
    assert town_row(w)[0].excluded == 0


def test_evaluations_of_another_campaign_are_not_excluded(padded, open_campaign):
    w = padded
    with pytest.raises(ExclusionError, match="没有选中任何评议"):
        exclude_evaluations(
            campaign=open_campaign, evaluations=planted_of(w), actor=w.city_admin, reason="x"
        )


def test_excluded_evaluations_leave_satisfaction(padded):
    w = padded
    # The town: ten honest ratings (4 5 3 5 4 ×2) and six planted 5s.
    before = satisfaction(campaign=w.campaign, org=w.city)
    town = next(u for u in before.units if u.org == w.town)
    assert town.overall.counts == {3: 2, 4: 4, 5: 10}
    exclude(w)
    after = satisfaction(campaign=w.campaign, org=w.city)
    town = next(u for u in after.units if u.org == w.town)
    assert town.overall.counts == {3: 2, 4: 4, 5: 4}
    assert town.overall.index == pytest.approx((42 / 10 - 1) / 4 * 100)
    restore_evaluations(
        campaign=w.campaign, evaluations=planted_of(w), actor=w.city_admin, reason="恢复"
    )
    again = satisfaction(campaign=w.campaign, org=w.city)
    assert next(u for u in again.units if u.org == w.town).overall.counts[5] == 10


def test_cases_of_excluded_evaluations_leave_the_case_figures(world):
    w = world
    [honest] = members(w.park_union, 1)
    rate(honest, w.campaign, NIGHT, overall=2)
    [smeared] = members(w.town_union_a, 1)
    smear = rate(smeared, w.campaign, NIGHT + timedelta(minutes=5), overall=1)
    table = figures_by_unit(campaign=w.campaign, parent=w.city)
    assert table.total.cases == 2

    exclude_evaluations(
        campaign=w.campaign,
        evaluations=Evaluation.objects.filter(pk=smear.pk),
        actor=w.city_admin,
        reason="同一设备冒用会员账号刷差评",
    )

    table = figures_by_unit(campaign=w.campaign, parent=w.city)
    assert table.total.cases == 1
    assert {r.org.name: r.figures.cases for r in table.rows}["真州镇"] == 0


def test_recount_command_reports_and_fixes_drifted_exclusion_counters(padded):
    w = padded
    exclude(w)
    ExclusionCount.objects.filter(org=w.city).update(count=99)
    out = StringIO()
    call_command("recount_evaluations", "--fix", stdout=out)
    assert recount_exclusions(w.campaign) == []
    assert "剔除" in out.getvalue()
