from django.urls import path

from . import review_views

app_name = "integrity"

urlpatterns = [
    path("", review_views.start, name="start"),
    path("scan/", review_views.scan, name="scan"),
    path("log/", review_views.log, name="log"),
    path("settings/<int:campaign_id>/", review_views.settings_page, name="settings"),
    path("<int:org_id>/", review_views.unit, name="unit"),
    path("<int:org_id>/xlsx/", review_views.export, name="export"),
    path("<int:org_id>/decide/", review_views.decide, name="decide"),
    path("<int:org_id>/verdict/", review_views.verdict, name="verdict"),
]
