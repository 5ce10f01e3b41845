from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.catalogue.models import Brand, Variant, VehicleModel


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "code", "name", "name_en"]


class VehicleModelSerializer(serializers.ModelSerializer):
    """A model line with the warranty it is sold with and its maintenance schedule."""

    brand = BrandSerializer(read_only=True)
    wear_parts = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Wear parts not covered by the warranty, one item per part.",
    )
    warranty = serializers.SerializerMethodField()
    powertrain_warranty = serializers.SerializerMethodField()
    first_service = serializers.SerializerMethodField()
    service_interval = serializers.SerializerMethodField()
    variants_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = VehicleModel
        fields = [
            "id",
            "code",
            "name",
            "body_type",
            "active",
            "brand",
            "warranty",
            "powertrain_warranty",
            "wear_parts",
            "first_service",
            "service_interval",
            "variants_count",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"years": {"type": "integer"}, "km": {"type": "integer"}},
        }
    )
    def get_warranty(self, model) -> dict:
        return {"years": model.warranty_years, "km": model.warranty_km}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"years": {"type": "integer"}, "km": {"type": "integer"}},
        }
    )
    def get_powertrain_warranty(self, model) -> dict:
        return {"years": model.powertrain_years, "km": model.powertrain_km}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"months": {"type": "integer"}, "km": {"type": "integer"}},
        }
    )
    def get_first_service(self, model) -> dict:
        return {"months": model.first_service_months, "km": model.first_service_km}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"months": {"type": "integer"}, "km": {"type": "integer"}},
        }
    )
    def get_service_interval(self, model) -> dict:
        return {"months": model.service_interval_months, "km": model.service_interval_km}


class VehicleModelBriefSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.name", read_only=True)

    class Meta:
        model = VehicleModel
        fields = ["id", "code", "name", "brand"]


class VariantSerializer(serializers.ModelSerializer):
    vehicle_model = VehicleModelBriefSerializer(read_only=True)
    fuel_type_display = serializers.CharField(source="get_fuel_type_display", read_only=True)
    is_new_energy = serializers.BooleanField(read_only=True)

    class Meta:
        model = Variant
        fields = [
            "id",
            "code",
            "name",
            "model_year",
            "engine",
            "fuel_type",
            "fuel_type_display",
            "is_new_energy",
            "transmission",
            "vin_prefix",
            "active",
            "vehicle_model",
        ]
