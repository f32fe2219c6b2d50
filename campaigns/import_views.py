"""Console pages of the task-table (任务分解表) import."""

from django.shortcuts import render

from orgs.scoping import restrict_to_scope
from pingyi.console import console_view

from .models import TaskTableImport


@console_view
def import_list(request):
    imports = restrict_to_scope(
        TaskTableImport.objects.select_related("campaign", "parent", "imported_by"),
        request.user,
        org_field="parent",
    )
    return render(
        request, "campaigns/import_list.html", {"imports": imports[:100], "nav": "imports"}
    )
