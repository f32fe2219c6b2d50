"""Console pages of the roster import."""

app_name = "roster_imports"

urlpatterns: list = []
