"""Member pages of 评议 under /m/: listed by members/urls_h5.py, so their names are members:…"""

from django.urls import path

from . import h5_views

urlpatterns = [
    path("campaigns/", h5_views.campaigns, name="campaigns"),
    path("campaigns/<int:campaign_id>/", h5_views.evaluate, name="evaluate"),
    path("history/", h5_views.history, name="history"),
    path("history/<int:evaluation_id>/", h5_views.history_detail, name="history_detail"),
]
