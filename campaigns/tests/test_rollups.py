"""Stored rollups stay equal to a fresh computation whatever admins change, in any order."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.rollups import subtree_figures
from campaigns.selectors import unit_table
from campaigns.services import record_reported_members, set_manual_target, set_target_rates

pytestmark = pytest.mark.django_db

ORGS = ["city", "town", "park", "agency", "town_union_a", "town_union_b", "park_union"]
operation = st.one_of(
    st.tuples(st.just("reported"), st.sampled_from(ORGS), st.none() | st.integers(0, 5000)),
    st.tuples(st.just("target"), st.sampled_from(ORGS), st.none() | st.integers(0, 5000)),
    st.tuples(
        st.just("rate"),
        st.sampled_from(["town", "park", "grassroots"]),
        st.none() | st.sampled_from(["0.5", "0.7", "1"]),
    ),
)


def _stored(world):
    return {r.org_id: (r.reported, r.target, r.target_source) for r in world.campaign.rollups.all()}


def _fresh(world):
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    return {
        k: (f.reported, f.target, f.target_source) for k, f in figures.items() if not f.is_empty
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operation, max_size=8))
def test_incremental_rollups_match_a_full_recount(world, operations):
    for kind, name, value in operations:
        if kind == "reported":
            record_reported_members(org=getattr(world, name), year=2022, count=value)
        elif kind == "target":
            set_manual_target(campaign=world.campaign, org=getattr(world, name), value=value)
        else:
            rate = None if value is None else Decimal(value)
            set_target_rates(campaign=world.campaign, rates={name: rate})
        assert _stored(world) == _fresh(world)


def test_a_grassroots_figure_rolls_up_to_the_city(world):
    set_target_rates(campaign=world.campaign, rates={"town": None})
    record_reported_members(org=world.town, year=2022, count=None)
    record_reported_members(org=world.town_union_a, year=2022, count=100)
    set_manual_target(campaign=world.campaign, org=world.town_union_a, value=90)
    table = unit_table(campaign=world.campaign, parent=world.city)
    town = next(r for r in table.rows if r.org == world.town)
    assert (town.figures.reported, town.figures.target) == (100, 90)
    assert table.own.reported == 100 + 381 + 4130
