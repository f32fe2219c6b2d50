"""Console pages of the roster import."""

from django.urls import path

from . import import_views

app_name = "roster_imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("new/", import_views.import_new, name="new"),
    path("confirm/", import_views.import_confirm, name="confirm"),
    path("<int:import_id>/", import_views.import_detail, name="detail"),
    path("<int:import_id>/progress.json", import_views.import_progress_json, name="progress"),
    path("<int:import_id>/refused.xlsx", import_views.refused_xlsx, name="refused_xlsx"),
]
