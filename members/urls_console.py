"""Console pages of the roster and the correction queue."""

app_name = "member_console"

urlpatterns: list = []
