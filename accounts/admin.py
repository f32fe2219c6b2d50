from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Role, User


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    raw_id_fields = ["org"]


@admin.register(User)
class PingyiUserAdmin(UserAdmin):
    inlines = [RoleInline]
    list_display = ["username", "display_name", "is_active", "is_superuser", "last_login"]
    fieldsets = [*UserAdmin.fieldsets, (_("评议"), {"fields": ["display_name"]})]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "org"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "org"]
    search_fields = ["user__username", "org__name", "org__code"]
