from django.urls import path

from . import views

app_name = "orgs"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("<int:org_id>/", views.detail, name="detail"),
    path("<int:org_id>/add/", views.add_child, name="add_child"),
    path("<int:org_id>/edit/", views.edit, name="edit"),
    path("<int:org_id>/units.xlsx", views.units_xlsx, name="units_xlsx"),
    path("search/", views.search, name="search"),
]
