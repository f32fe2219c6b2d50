"""The target rule (rate × reported members, rounded half up) and which target wins."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rollups import subtree_figures
from campaigns.rules import target_from_rate
from campaigns.services import set_manual_target, set_target_rates
from orgs.services import set_reported_members


@pytest.mark.parametrize(
    ("reported", "rate", "target"),
    [
        (381, "0.7", 267),  # 266.7 → 267: the seed's 枣林湾旅游度假区
        (5018, "0.7", 3513),  # 3512.6 → 3513
        (1022, "0.7", 715),  # 715.4 → 715
        (5, "0.7", 4),  # 3.5 → 4: half rounds up, not to even
        (15, "0.7", 11),  # 10.5 → 11
        (4130, "1", 4130),
        (0, "0.7", 0),
    ],
)
def test_target_from_rate_rounds_half_up(reported, rate, target):
    assert target_from_rate(reported, Decimal(rate)) == target


@given(st.integers(min_value=0, max_value=10_000_000), st.integers(min_value=0, max_value=10_000))
def test_target_never_exceeds_membership_and_is_within_half(reported, basis_points):
    rate = Decimal(basis_points) / Decimal(10_000)
    target = target_from_rate(reported, rate)
    assert 0 <= target <= reported
    assert abs(Decimal(target) - reported * rate) <= Decimal("0.5")


@pytest.mark.django_db
def test_rule_applies_by_kind_and_an_imported_target_wins(world):
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    assert (figures[world.park.pk].target, figures[world.park.pk].target_source) == (267, "rule")
    assert figures[world.agency.pk].target == 4130

    set_manual_target(campaign=world.campaign, org=world.park, value=300)
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    assert (figures[world.park.pk].target, figures[world.park.pk].target_source) == (300, "import")


@pytest.mark.django_db
def test_a_kind_without_rate_sums_its_sub_units(world):
    set_target_rates(campaign=world.campaign, rates={"town": None})
    set_reported_members(org=world.town_union_a, year=2022, count=100)
    set_manual_target(campaign=world.campaign, org=world.town_union_a, value=80)
    set_manual_target(campaign=world.campaign, org=world.town_union_b, value=40)
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    assert (figures[world.town.pk].target, figures[world.town.pk].target_source) == (
        120,
        "children",
    )


@pytest.mark.django_db
def test_reported_members_roll_up_when_an_org_reports_none_itself(world):
    set_reported_members(org=world.town_union_a, year=2022, count=100)
    set_reported_members(org=world.town_union_b, year=2022, count=50)
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    # The town's own annual figure wins over its unions' sum …
    assert figures[world.town.pk].reported == 4809
    # … and the city, which reports none itself, is the sum of its units.
    assert figures[world.city.pk].reported == 4809 + 381 + 4130


@pytest.mark.django_db
def test_figures_of_another_year_do_not_count(world):
    set_reported_members(org=world.park, year=2021, count=999)
    figures = subtree_figures(campaign=world.campaign, root=world.city)
    assert figures[world.park.pk].reported == 381
