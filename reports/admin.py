from django.contrib import admin

from .models import Bulletin


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    """Read only: a published bulletin is a frozen snapshot; builds go through build_bulletins."""

    list_display = ["campaign", "org", "number", "cutoff", "status", "built_at"]
    list_filter = ["status", "campaign"]
    readonly_fields = [f.name for f in Bulletin._meta.fields]
    raw_id_fields = ["org"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
