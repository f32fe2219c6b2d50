"""How dates and numbers are written for Chinese readers: 2022年9月1日, 62,301, 70%."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _


def cn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return _("%(year)s年%(month)s月%(day)s日") % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
    }


def cn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{cn_date(local)} {local:%H:%M}"


def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def percent(value: Decimal | float | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{Decimal(value) * 100:.{digits}f}%"
