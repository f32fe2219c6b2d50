"""Raw records of 差评处置 for superusers: read only, the steps are taken in the console."""

from django.contrib import admin

from .models import Appeal, Case, CaseEvent, Notification


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "actor_org", "by_member", "text"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = ["pk", "org", "state", "verify_due", "rectify_due", "escalated_to", "excluded"]
    list_filter = ["campaign", "state", "excluded"]
    raw_id_fields = ["evaluation", "org", "escalated_to"]
    inlines = [CaseEventInline]


@admin.register(Appeal)
class AppealAdmin(ReadOnly):
    list_display = ["case", "claim", "decision", "filed_at", "decided_at"]
    list_filter = ["decision", "claim"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ["created_at", "org", "kind", "message", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["org", "case"]
