"""Console pages of 提醒与宣传 under /console/outreach/: reminders, the unit's link and poster."""

from django.urls import path

from . import outreach_views

app_name = "outreach"

urlpatterns = [
    path("", outreach_views.unit_index, name="index"),
    path("<int:org_id>/members/", outreach_views.member_list, name="members"),
    path("<int:org_id>/remind/", outreach_views.send, name="send"),
    path("<int:org_id>/reminders/", outreach_views.reminder_log, name="log"),
    path("<int:org_id>/poster/", outreach_views.poster, name="poster"),
    path("<int:org_id>/poster.png", outreach_views.poster_png, name="poster_png"),
]
