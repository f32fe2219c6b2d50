"""The console's 差评处置 link with the count of unread notices for the admin's orgs."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from cases.selectors import unread_notice_count

register = template.Library()


@register.simple_tag(takes_context=True)
def cases_nav_link(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    count = unread_notice_count(user) if user is not None else 0
    active = " active" if context.get("nav") == "cases" else ""
    badge = (
        format_html(' <span class="tag err" title="{}">{}</span>', _("未读处置提醒"), count)
        if count
        else ""
    )
    return format_html(
        '<a href="{}" class="{}">{}{}</a>',
        reverse("cases:queue"),
        active.strip(),
        _("差评处置"),
        badge,
    )
