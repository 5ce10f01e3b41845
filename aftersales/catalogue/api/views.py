"""The vehicle catalogue, read-only: the OEM edits it in the Django admin."""

import django_filters
from django.db.models import Count

from aftersales.catalogue.api.serializers import (
    BrandSerializer,
    VariantSerializer,
    VehicleModelSerializer,
)
from aftersales.catalogue.models import Brand, FuelType, Variant, VehicleModel
from aftersales.core.api import RestrictedReadOnlyViewSet


class BrandViewSet(RestrictedReadOnlyViewSet):
    """The brands the OEM sells under."""

    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    filterset_fields = ["code"]
    search_fields = ["code", "name", "name_en"]
    ordering_fields = ["code", "name"]


class VehicleModelFilter(django_filters.FilterSet):
    brand = django_filters.NumberFilter(field_name="brand_id")

    class Meta:
        model = VehicleModel
        fields = ["brand", "code", "active"]


class VehicleModelViewSet(RestrictedReadOnlyViewSet):
    """Model lines with their warranty terms, wear parts and service intervals."""

    # a GROUP BY query ignores Meta.ordering: order explicitly for stable pages
    queryset = (
        VehicleModel.objects.select_related("brand")
        .annotate(variants_count=Count("variants"))
        .order_by("brand__code", "code")
    )
    serializer_class = VehicleModelSerializer
    filterset_class = VehicleModelFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]


class VariantFilter(django_filters.FilterSet):
    model = django_filters.NumberFilter(field_name="vehicle_model_id")
    fuel_type = django_filters.ChoiceFilter(choices=FuelType.choices)

    class Meta:
        model = Variant
        fields = ["model", "fuel_type", "active", "model_year"]


class VariantViewSet(RestrictedReadOnlyViewSet):
    """Sellable configurations: model year, engine or motor, fuel type."""

    queryset = Variant.objects.select_related("vehicle_model__brand")
    serializer_class = VariantSerializer
    filterset_class = VariantFilter
    search_fields = ["code", "name", "engine"]
    ordering_fields = ["code", "model_year"]
