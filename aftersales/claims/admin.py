"""The OEM administrator keeps the symptom and cause codes in the Django admin (audited)."""

from django.contrib import admin

from aftersales.claims.models import CauseCode, SymptomCode
from aftersales.core.admin import AuditedAdminMixin


@admin.register(SymptomCode, CauseCode)
class ClaimCodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_en"]
