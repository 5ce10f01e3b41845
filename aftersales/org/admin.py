from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from aftersales.core.admin import AuditedAdminMixin
from aftersales.org.backends import is_oem_admin
from aftersales.org.models import Dealer, Oem, Region, RoleAssignment, User


def admin_site_has_permission(request):
    """The Django admin is for administrators only: superusers and OEM admins."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return is_oem_admin(user)


@admin.register(Oem)
class OemAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Region)
class RegionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "oem"]


@admin.register(Dealer)
class DealerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "region", "city", "active"]
    list_filter = ["region", "active"]
    search_fields = ["code", "name"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["dealer"]


@admin.register(User)
class StaffAdmin(AuditedAdminMixin, UserAdmin):
    list_display = ["username", "display_name", "mobile", "dealer", "region", "is_active"]
    list_filter = ["is_active", "dealer__region", "dealer"]
    search_fields = ["username", "display_name", "mobile"]
    fieldsets = UserAdmin.fieldsets + (
        ("aftersales", {"fields": ("display_name", "mobile", "dealer", "region")}),
    )
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "dealer", "region", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__username"]
