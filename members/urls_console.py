"""Console pages of the roster, the correction queue and the identity audit log."""

from django.urls import path

from . import console_views

app_name = "member_console"

urlpatterns = [
    path("", console_views.member_list, name="list"),
    path("<int:member_id>/", console_views.member_detail, name="detail"),
    path("<int:member_id>/reveal/", console_views.member_reveal, name="reveal"),
    path("corrections/", console_views.correction_list, name="corrections"),
    path(
        "corrections/<int:request_id>/",
        console_views.correction_detail,
        name="correction_detail",
    ),
    path(
        "corrections/<int:request_id>/approve/",
        console_views.correction_approve,
        name="correction_approve",
    ),
    path(
        "corrections/<int:request_id>/refuse/",
        console_views.correction_refuse,
        name="correction_refuse",
    ),
    path("audit/", console_views.audit_log, name="audit"),
]
