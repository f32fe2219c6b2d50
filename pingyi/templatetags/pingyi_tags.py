"""Template filters for Chinese dates and numbers."""

from django import template

from pingyi import formatting

register = template.Library()

register.filter("cn_date", formatting.cn_date)
register.filter("cn_datetime", formatting.cn_datetime)
register.filter("thousands", formatting.thousands)
register.filter("percent", formatting.percent)
