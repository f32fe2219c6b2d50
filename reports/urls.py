from django.urls import path

from . import assessment_views, bulletin_views, progress_views, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("progress/", progress_views.progress_start, name="progress_start"),
    path("progress/<int:org_id>/", progress_views.progress, name="progress"),
    path("progress/<int:org_id>/xlsx/", progress_views.progress_export, name="progress_xlsx"),
    path("bulletins/", bulletin_views.bulletin_list, name="bulletins"),
    path("bulletins/build/", bulletin_views.bulletin_build, name="bulletin_build"),
    path("bulletins/<int:bulletin_id>/", bulletin_views.bulletin_detail, name="bulletin"),
    path(
        "bulletins/<int:bulletin_id>/<str:fmt>/",
        bulletin_views.bulletin_download,
        name="bulletin_download",
    ),
    path("assessment/", assessment_views.assessment_start, name="assessment_start"),
    path("assessment/<int:campaign_id>/", assessment_views.assessment, name="assessment"),
    path(
        "assessment/<int:campaign_id>/xlsx/",
        assessment_views.assessment_export,
        name="assessment_xlsx",
    ),
    path(
        "assessment/<int:campaign_id>/scheme/",
        assessment_views.assessment_scheme,
        name="assessment_scheme",
    ),
    path(
        "assessment/<int:campaign_id>/publish/",
        assessment_views.assessment_publish,
        name="assessment_publish",
    ),
]
