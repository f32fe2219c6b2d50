from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views
from .forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path("admins/", views.admin_list, name="admins"),
    path("admins/new/", views.admin_new, name="admin_new"),
    path("admins/<int:role_id>/reset/", views.admin_reset_password, name="admin_reset"),
    path("admins/<int:role_id>/revoke/", views.admin_revoke, name="admin_revoke"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
            # LoginView sets site_name to the request's host (no django.contrib.sites): keep ours.
            extra_context={"site_name": settings.PINGYI_SITE_NAME},
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
]
