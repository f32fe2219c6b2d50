"""Member pages of self-service (我要转会, 信息更正): see members/urls.py."""

from django.urls import path

from . import self_views

urlpatterns = [
    path("transfer/", self_views.transfer, name="transfer"),
    path("transfer/search.json", self_views.transfer_search, name="transfer_search"),
    path("correction/", self_views.correction, name="correction"),
    path("correction/done/", self_views.correction_done, name="correction_done"),
    path("corrections/", self_views.corrections_mine, name="corrections_mine"),
]
