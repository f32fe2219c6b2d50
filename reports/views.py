"""The console home page (工作台): the admin's orgs and their units' figures at a glance."""

from django.shortcuts import render

from accounts.models import Role
from campaigns.selectors import current_campaign, unit_table
from orgs.scoping import can_manage, scope_roots
from pingyi.console import console_view


@console_view
def home(request):
    roots = scope_roots(request.user)
    panels = []
    for org in roots[:10]:
        campaign = current_campaign(org)
        panels.append(
            {
                "org": org,
                "campaign": campaign,
                "table": unit_table(campaign=campaign, parent=org),
                "can_manage": can_manage(request.user, org),
            }
        )
    roles = Role.objects.filter(user=request.user).select_related("org")
    return render(
        request,
        "reports/home.html",
        {"panels": panels, "roles": roles, "more_roots": len(roots) > 10, "nav": "home"},
    )
