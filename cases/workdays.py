"""Chinese working days for case deadlines: public holidays and make-up working days included.

The calendar is the `chinesecalendar` library (pinned), which carries the State Council's
yearly holiday arrangement. A year the library does not know yet (the arrangement is
published each November; the library follows) falls back to Monday–Friday, with a warning
naming the year in the log, so a deadline is always computed and an operator learns that the
library needs upgrading. Such a deadline may miss a holiday of that year by a few days.
"""

import logging
from datetime import date, timedelta

import chinese_calendar

logger = logging.getLogger(__name__)

_warned_years: set[int] = set()


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinesecalendar 不含 %s 年的节假日安排，差评处置时限按周一至周五计算；"
                "请升级 chinesecalendar",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (start itself not counted: a review that came in
    on a Friday afternoon with one working day to verify is due on the next working day)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
