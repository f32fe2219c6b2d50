from django.contrib import admin

from .models import Campaign, Question, Target, TargetRate, TaskTableImport


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


class TargetRateInline(admin.TabularInline):
    model = TargetRate
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "year", "starts_at", "ends_at"]
    list_filter = ["year"]
    search_fields = ["name", "org__name"]
    raw_id_fields = ["org", "created_by"]
    inlines = [QuestionInline, TargetRateInline]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["campaign", "org", "value", "source", "updated_at"]
    list_filter = ["campaign", "source"]
    search_fields = ["org__name", "org__code"]
    raw_id_fields = ["org", "task_import"]


@admin.register(TaskTableImport)
class TaskTableImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "campaign", "parent", "imported_by", "created_at", "rows_refused"]
    list_filter = ["campaign"]
    raw_id_fields = ["parent", "imported_by"]
    readonly_fields = [f.name for f in TaskTableImport._meta.fields]
