"""Fixtures of the analysis tests: the data set of factories.py in the test world."""

from datetime import datetime

import pytest

from conftest import SHANGHAI

from .factories import PARK, TOWN, add_evaluations


@pytest.fixture
def rated(world):
    """The world with the evaluations above in world.campaign."""
    world.town_evaluations = add_evaluations(world, world.campaign, TOWN)
    world.park_evaluations = add_evaluations(world, world.campaign, PARK)
    return world


@pytest.fixture
def previous(rated):
    """The city's 2021 campaign, where 真州镇 rated everything 5 (index 100)."""
    from campaigns.services import create_campaign

    w = rated
    w.campaign_2021 = create_campaign(
        org=w.city,
        name="2021年会员网上评议",
        year=2021,
        starts_at=datetime(2021, 9, 1, tzinfo=SHANGHAI),
        ends_at=datetime(2021, 11, 30, tzinfo=SHANGHAI),
    )
    add_evaluations(w, w.campaign_2021, [("town_union_a", 5, {0: 5, 1: 5}, "")] * 5)
    return w
