from django.contrib import admin
from django.utils.translation import gettext as _

from .audit import record_audit
from .models import (
    AuditAction,
    AuditEvent,
    CorrectionRequest,
    Member,
    MemberTransfer,
    RosterImport,
)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    # Masked columns only: the ciphertexts and hashes are no use to a person.
    list_display = ("name", "id_masked", "phone_masked", "org", "status", "registered_at")
    list_filter = ("status",)
    search_fields = ("name",)
    raw_id_fields = ("org", "user")
    exclude = ("id_cipher", "id_hash", "phone_cipher", "phone_hash")
    readonly_fields = ("id_masked", "phone_masked")

    def save_model(self, request, obj, form, change):
        # Raw edits here are identity changes like any other: they go to the audit log.
        changes = {
            field: (form.initial.get(field), form.cleaned_data.get(field))
            for field in form.changed_data
        }
        super().save_model(request, obj, form, change)
        record_audit(
            action=AuditAction.EDITED,
            actor=request.user,
            member=obj,
            changes=changes,
            note=_("数据管理后台") if change else _("数据管理后台新增"),
        )


@admin.register(MemberTransfer)
class MemberTransferAdmin(admin.ModelAdmin):
    list_display = ("member", "from_org", "to_org", "transferred_at")
    raw_id_fields = ("member", "from_org", "to_org", "by")


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(admin.ModelAdmin):
    list_display = ("name", "id_masked", "kind", "status", "org", "submitted_at")
    list_filter = ("status", "kind")
    raw_id_fields = ("member", "org", "submitted_by", "decided_by")
    exclude = ("id_cipher", "id_hash", "phone_cipher")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "member", "org")
    list_filter = ("action",)
    raw_id_fields = ("actor", "member", "org")


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ("filename", "parent", "status", "created_count", "updated_count", "created_at")
    exclude = ("refused_cipher",)
    raw_id_fields = ("parent", "imported_by")
