from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("", views.start, name="start"),
    path("<int:org_id>/satisfaction/", views.satisfaction_page, name="satisfaction"),
    path("<int:org_id>/pain-points/", views.pain_points_page, name="pain_points"),
    path("<int:org_id>/needs/", views.needs_page, name="needs"),
    path("<int:org_id>/needs/cloud.png", views.word_cloud, name="word_cloud"),
    path("<int:org_id>/rules/", views.rules_page, name="rules"),
]
