from django.contrib import admin

from .models import AssessmentScheme, Bulletin


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


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(admin.ModelAdmin):
    """Read only: schemes are set and published in the console (考核评分) or by
    publish_assessment; a published result is a frozen snapshot."""

    list_display = ["campaign", "status", "updated_at", "published_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AssessmentScheme._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
