"""The OEM administrator maintains the catalogue in the Django admin (audited)."""

from django.contrib import admin

from aftersales.catalogue.models import Brand, Variant, VehicleModel
from aftersales.core.admin import AuditedAdminMixin


@admin.register(Brand)
class BrandAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name"]


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["code", "name", "model_year", "engine", "fuel_type", "transmission", "vin_prefix"]


@admin.register(VehicleModel)
class VehicleModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "brand",
        "warranty_years",
        "warranty_km",
        "powertrain_years",
        "powertrain_km",
        "service_interval_months",
        "service_interval_km",
        "active",
    ]
    list_filter = ["brand", "active"]
    search_fields = ["code", "name"]
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "vehicle_model", "model_year", "fuel_type", "active"]
    list_filter = ["vehicle_model", "fuel_type", "model_year", "active"]
    search_fields = ["code", "name"]
