"""Cases of the tests: negative reviews submitted in the 2022 campaign around National Day."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from conftest import register_member_account
from evaluations.selectors import questionnaire
from evaluations.services import Answers, submit_evaluation

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The Friday before the 2022 National Day holiday (10-01..10-07 off, 10-08 and 10-09 worked).
EVE_OF_NATIONAL_DAY = datetime(2022, 9, 30, 15, 0, tzinfo=SHANGHAI)


def at(day: str, hour: int = 10) -> datetime:
    """A moment of a day in Beijing time: at("2022-10-09")."""
    y, m, d = (int(p) for p in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def negative_review(member, campaign, *, when=EVE_OF_NATIONAL_DAY, return_visit=False, **extra):
    """The member rates their union 不满意 (the items: 非常不满意 for the first) and the case
    opens with the submission."""
    items = questionnaire(campaign).items
    done = submit_evaluation(
        member=member,
        campaign=campaign,
        answers=Answers(
            overall=extra.get("overall", 2),
            ratings={items[0].pk: 1, items[1].pk: 4},
            suggestion=extra.get("suggestion", "工会活动太少，意见没人听"),
            return_visit=return_visit,
        ),
        now=when,
    )
    from cases.models import Case

    return Case.objects.filter(evaluation=done.evaluation).first()


@pytest.fixture
def reviewers(roster):
    """李华 and 王芳 (真州镇中心小学工会) and 赵明 (枣林湾酒店工会), all registered."""
    for member in (roster.li, roster.wang, roster.zhao):
        register_member_account(member)
    return roster


@pytest.fixture
def case(reviewers):
    """李华's 不满意 of 2022-09-30 15:00 (no return visit agreed): a case of 真州镇中心小学工会."""
    return negative_review(reviewers.li, reviewers.campaign)


@pytest.fixture
def consenting_case(reviewers):
    """王芳's 不满意 with 愿意接受回访 ticked."""
    return negative_review(reviewers.wang, reviewers.campaign, return_visit=True)


def xlsx_text(content: bytes) -> str:
    """Every cell of every sheet as one text, for asserting what an export holds."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def xlsx_rows(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def live_case(reviewers, open_campaign):
    """李华's 不满意 in the campaign open now, submitted now: deadlines ahead of today."""
    from django.utils import timezone

    reviewers.open_campaign = open_campaign
    return negative_review(reviewers.li, open_campaign, when=timezone.now())
