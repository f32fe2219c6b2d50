"""Deadlines count Chinese working days: the 2022 National Day holiday and its make-up days."""

import logging
from datetime import date

from cases.models import CaseState
from cases.services import deadlines
from cases.workdays import add_working_days, is_working_day

from .conftest import at, negative_review


def test_national_day_2022_is_off_and_its_weekend_is_worked():
    assert not any(is_working_day(date(2022, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2022, 10, 8))  # Saturday, worked
    assert is_working_day(date(2022, 10, 9))  # Sunday, worked


def test_one_working_day_after_the_eve_of_national_day_is_the_saturday_after_it():
    assert add_working_days(date(2022, 9, 30), 1) == date(2022, 10, 8)


def test_fifteen_working_days_across_national_day():
    # 10-08, 10-09, 10-10…14, 10-17…21, 10-24, 10-25, 10-26.
    assert add_working_days(date(2022, 9, 30), 15) == date(2022, 10, 26)


def test_a_review_on_the_eve_of_national_day_is_due_after_the_holiday(case):
    assert case.state == CaseState.VERIFYING
    assert case.verify_due == date(2022, 10, 8)
    assert case.rectify_due == date(2022, 10, 26)


def test_a_review_during_the_holiday_counts_from_the_first_working_day(reviewers):
    case = negative_review(reviewers.li, reviewers.campaign, when=at("2022-10-03"))

    assert case.verify_due == date(2022, 10, 8)
    assert case.rectify_due == date(2022, 10, 26)  # the same days as from 09-30


def test_deadlines_are_campaign_settings(world):
    world.campaign.verify_days, world.campaign.rectify_days = 5, 7

    verify_due, rectify_due = deadlines(world.campaign, date(2022, 9, 30))

    assert verify_due == date(2022, 10, 12)  # 10-08, 09, 10, 11, 12
    assert rectify_due == date(2022, 10, 14)


def test_a_year_the_library_does_not_know_falls_back_to_monday_to_friday_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="cases.workdays"):
        due = add_working_days(date(2031, 12, 31), 2)  # Wednesday → Friday 01-02

    assert due == date(2032, 1, 2)
    assert "2032" in caplog.text
    assert not is_working_day(date(2032, 1, 3))  # a Saturday
