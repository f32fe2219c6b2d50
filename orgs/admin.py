from django.contrib import admin

from .models import Org, ReportedMembers


class ReportedMembersInline(admin.TabularInline):
    model = ReportedMembers
    extra = 0


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    """Raw records. New orgs are added in the console (or an import) so their paths stay right."""

    list_display = ["name", "code", "kind", "depth", "numchild"]
    list_filter = ["kind", "depth"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "depth", "numchild", "created_at", "updated_at"]
    ordering = ["path"]
    inlines = [ReportedMembersInline]
    show_full_result_count = False  # a province has 150,000 orgs; counting them all is slow

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportedMembers)
class ReportedMembersAdmin(admin.ModelAdmin):
    list_display = ["org", "year", "count", "updated_at"]
    list_filter = ["year"]
    search_fields = ["org__name", "org__code"]
    raw_id_fields = ["org"]
