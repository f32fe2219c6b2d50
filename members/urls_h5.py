"""Member pages: registration, login, 我的 and help (see members/urls.py)."""

from django.urls import path

from . import h5_views

urlpatterns = [
    path("", h5_views.home, name="home"),
    path("register/", h5_views.register, name="register"),
    path("login/", h5_views.login_view, name="login"),
    path("logout/", h5_views.logout_view, name="logout"),
    path("login/via/<slug:key>/", h5_views.provider_start, name="provider_start"),
    path("login/via/<slug:key>/callback/", h5_views.provider_callback, name="provider_callback"),
    path("campaigns/", h5_views.campaigns, name="campaigns"),
    path("history/", h5_views.history, name="history"),
    path("help/", h5_views.help_page, name="help"),
]
