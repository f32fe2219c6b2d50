"""Member pages: see members/urls.py."""

urlpatterns: list = []
