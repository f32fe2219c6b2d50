from django.contrib import admin

from .models import Answer, Evaluation


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    can_delete = False
    readonly_fields = ["question", "rating"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """Read only: evaluations are append-only, here as everywhere."""

    list_display = ["campaign", "org", "overall", "is_negative", "submitted_at", "channel"]
    list_filter = ["campaign", "is_negative", "channel"]
    readonly_fields = [f.name for f in Evaluation._meta.fields]
    inlines = [AnswerInline]
    raw_id_fields = ["member", "org"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
