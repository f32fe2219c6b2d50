"""Member pages (H5, under /m/): registration and login, 我的, transfer, corrections."""

from . import urls_h5, urls_self

app_name = "members"

urlpatterns = [*urls_h5.urlpatterns, *urls_self.urlpatterns]
