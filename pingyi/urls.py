"""URL routes: the admin console, accounts, the JSON API and Django's admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from api.urls import api

from . import views

admin.site.site_header = _("工会会员网上评议 · 数据管理")
admin.site.site_title = _("评议数据管理")

urlpatterns = [
    path("", views.landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("console/", include("reports.urls")),
    path("console/orgs/", include("orgs.urls")),
    path("console/campaigns/", include("campaigns.urls")),
    path("console/imports/", include("campaigns.import_urls")),
    path("console/members/", include("members.urls_console")),
    path("console/roster-imports/", include("members.urls_imports")),
    path("console/outreach/", include("members.urls_outreach")),
    path("console/cases/", include("cases.urls")),
    path("console/analysis/", include("analysis.urls")),
    path("console/integrity/", include("evaluations.urls_review")),
    path("m/", include("members.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
