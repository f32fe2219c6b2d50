"""Member pages: registration, login, 我的, 工作评议, 我的评议记录 and help (members/urls.py)."""

from django.urls import path

from evaluations import urls_h5 as evaluation_pages

from . import h5_views, outreach_views

urlpatterns = [
    path("", h5_views.home, name="home"),
    path("register/", h5_views.register, name="register"),
    path("login/", h5_views.login_view, name="login"),
    path("logout/", h5_views.logout_view, name="logout"),
    path("login/via/<slug:key>/", h5_views.provider_start, name="provider_start"),
    path("login/via/<slug:key>/callback/", h5_views.provider_callback, name="provider_callback"),
    # 工作评议 and 我的评议记录 live in the evaluations app.
    *evaluation_pages.urlpatterns,
    path("help/", h5_views.help_page, name="help"),
    # A unit's signed link (宣传): members/promotion.py.
    path("u/<str:token>/", outreach_views.unit_link, name="unit_link"),
]
