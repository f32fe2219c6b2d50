"""Console pages of 差评处置 under /console/cases/."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("export/", views.export_queue, name="export"),
    path("figures/", views.figures, name="figures"),
    path("figures/export/", views.export_figures, name="export_figures"),
    path("ledger/", views.ledger_view, name="ledger"),
    path("notices/", views.notices, name="notices"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/verify/", views.verify, name="verify"),
    path("<int:case_id>/reply/", views.reply, name="reply"),
    path("<int:case_id>/visit/", views.visit, name="visit"),
    path("<int:case_id>/rectified/", views.rectified, name="rectified"),
    path("<int:case_id>/appeal/", views.appeal, name="appeal"),
    path("<int:case_id>/decide/", views.decide, name="decide"),
]
