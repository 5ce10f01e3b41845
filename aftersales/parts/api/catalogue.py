"""Parts API: the catalogue, read-only (the OEM edits it in the Django admin).

* ``GET /api/parts/categories/``                 categories
* ``GET /api/parts/parts/?q=``                   one box: number, barcode or name, ranked
* ``GET /api/parts/parts/<id>/``                 one part with its supersession and fitments
* ``GET /api/parts/fitment/?vin=&q=&category=``  the parts that fit a VIN

The catalogue is OEM-level: holding ``parts.view_part`` anywhere reads all of it.
"""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from aftersales.core.access import user_has_perm
from aftersales.core.api import ERROR, RestrictedReadOnlyViewSet
from aftersales.core.errors import ValidationFailed
from aftersales.parts import lookup
from aftersales.parts.models import Fitment, Part, PartCategory


class PartCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = PartCategory
        fields = ["id", "code", "name", "name_en"]


class PartRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Part
        fields = ["id", "number", "name", "name_en"]


class PartSerializer(serializers.ModelSerializer):
    """A part; ``replacement`` is the current part that supersedes it (the end of its
    supersession chain), ``null`` when the part is itself current."""

    category = PartCategorySerializer(read_only=True)
    superseded_by = PartRefSerializer(read_only=True)
    replacement = serializers.SerializerMethodField()
    match = serializers.SerializerMethodField()

    class Meta:
        model = Part
        fields = [
            "id",
            "number",
            "name",
            "name_en",
            "category",
            "unit",
            "list_price",
            "dealer_cost",
            "barcode",
            "warranty_months",
            "warranty_km",
            "wear_part",
            "universal",
            "active",
            "superseded_by",
            "replacement",
            "match",
        ]

    @staticmethod
    def _ref(part):
        return PartRefSerializer(part).data if part is not None else None

    @extend_schema_field(PartRefSerializer(allow_null=True))
    def get_replacement(self, part):
        return self._ref(getattr(part, "replacement", None))

    def get_match(self, part) -> str | None:
        """How a search hit matched: number, barcode, number_prefix or name."""
        return getattr(part, "match", None)


class FitmentSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="vehicle_model.name", read_only=True)
    variant_name = serializers.CharField(source="variant.name", read_only=True, default=None)

    class Meta:
        model = Fitment
        fields = ["id", "vehicle_model", "model", "variant", "variant_name", "year_from", "year_to"]


class PartDetailSerializer(PartSerializer):
    supersedes = serializers.SerializerMethodField()
    chain = serializers.SerializerMethodField()
    fitments = serializers.SerializerMethodField()

    class Meta(PartSerializer.Meta):
        fields = PartSerializer.Meta.fields + ["chain", "supersedes", "fitments"]

    @extend_schema_field(PartRefSerializer(many=True))
    def get_chain(self, part):
        """The parts that replace this one, in order (next first, current last)."""
        return PartRefSerializer(lookup.supersession_chain(part), many=True).data

    @extend_schema_field(PartRefSerializer(many=True))
    def get_supersedes(self, part):
        """The older numbers this part replaces, directly or through a chain."""
        return PartRefSerializer(lookup.superseded_parts(part), many=True).data

    @extend_schema_field(FitmentSerializer(many=True))
    def get_fitments(self, part):
        rows = part.fitments.select_related("vehicle_model", "variant").order_by(
            "vehicle_model__code", "variant__code"
        )
        return FitmentSerializer(rows, many=True).data


def _ref(part) -> dict | None:
    if part is None:
        return None
    return {"id": part.pk, "number": part.number, "name": part.name, "name_en": part.name_en}


def part_row(part) -> dict:
    """What ``PartSerializer`` answers, written out: a VIN lists up to 500 parts, and the
    generic serializer took 20-30 ms for a page of 100 (bench/parts_lookup.py)."""
    category = part.category
    return {
        "id": part.pk,
        "number": part.number,
        "name": part.name,
        "name_en": part.name_en,
        "category": {
            "id": category.pk,
            "code": category.code,
            "name": category.name,
            "name_en": category.name_en,
        },
        "unit": part.unit,
        "list_price": f"{part.list_price:.2f}",
        "dealer_cost": f"{part.dealer_cost:.2f}",
        "barcode": part.barcode,
        "warranty_months": part.warranty_months,
        "warranty_km": part.warranty_km,
        "wear_part": part.wear_part,
        "universal": part.universal,
        "active": part.active,
        "superseded_by": _ref(part.superseded_by),
        "replacement": _ref(getattr(part, "replacement", None)),
        "match": getattr(part, "match", None),
    }


class ViewPartPermission(permissions.BasePermission):
    """The catalogue's one permission: ``parts.view_part`` held anywhere."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user_has_perm(user, lookup.VIEW_PART))


class PartCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Part categories (filters, brakes, new-energy…); readable with ``parts.view_part``."""

    permission_classes = [ViewPartPermission]
    queryset = PartCategory.objects.all()
    serializer_class = PartCategorySerializer
    search_fields = ["code", "name", "name_en"]
    ordering_fields = ["code", "name"]


class PartFilter(django_filters.FilterSet):
    category = django_filters.NumberFilter(field_name="category_id")

    class Meta:
        model = Part
        fields = ["category", "active", "universal", "wear_part"]


Q_PARAM = OpenApiParameter(
    "q",
    OpenApiTypes.STR,
    description=(
        "Part number (case, spaces and dashes ignored), barcode or part of a Chinese or "
        "English name. Exact number and barcode hits come first; at most 200 hits."
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="Parts: the whole catalogue by number, or a ranked search with ?q=",
        parameters=[Q_PARAM],
    ),
    retrieve=extend_schema(
        summary="One part with its supersession chain both ways and its fitments",
        responses={200: PartDetailSerializer},
    ),
)
class PartViewSet(RestrictedReadOnlyViewSet):
    """The OEM's parts catalogue. Each part carries ``replacement``: ordering an old
    number offers the new one."""

    queryset = Part.objects.select_related("category", "superseded_by")
    serializer_class = PartSerializer
    filterset_class = PartFilter
    ordering_fields = ["number", "list_price"]

    def get_serializer_class(self):
        return PartDetailSerializer if self.action == "retrieve" else PartSerializer

    def list(self, request, *args, **kwargs):
        q = (request.query_params.get("q") or "").strip()
        if not q:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            lookup.annotate_replacements(page)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        hits = lookup.search_parts(request.user, q, limit=200)
        for hit in hits:
            hit.part.match = hit.match
        page = self.paginate_queryset([hit.part for hit in hits])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        part = self.get_object()
        lookup.annotate_replacements([part])
        return Response(self.get_serializer(part).data)


class FitmentSchema(AutoSchema):
    def _is_list_view(self, serializer=None):
        return False


DECODE = inline_serializer(
    "VinDecode",
    fields={
        "vin": serializers.CharField(),
        "resolved": serializers.ChoiceField(
            ["vehicle", "decoded"],
            help_text="vehicle: the VIN is a known vehicle; decoded: from WMI/VDS and year.",
        ),
        "model": serializers.DictField(),
        "variant": serializers.DictField(allow_null=True),
        "year": serializers.IntegerField(allow_null=True),
        "candidates": serializers.ListField(child=serializers.DictField()),
    },
)


class FitmentViewSet(viewsets.ViewSet):
    """The parts that fit a vehicle, given its VIN. A known vehicle (any dealer's: only its
    variant is used) gives its variant and model year; an unknown one is decoded from
    positions 1-8 (the catalogue's VIN prefix) and 10 (the model year)."""

    permission_classes = [ViewPartPermission]
    schema = FitmentSchema()

    @extend_schema(
        summary="Parts that fit a VIN (by category, then number)",
        parameters=[
            OpenApiParameter("vin", OpenApiTypes.STR, required=True, description="17 characters"),
            OpenApiParameter("q", OpenApiTypes.STR, description="Number start or name part"),
            OpenApiParameter("category", OpenApiTypes.INT, description="Category id"),
            OpenApiParameter(
                "universal", OpenApiTypes.BOOL, description="Add parts that fit every vehicle"
            ),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 500"),
        ],
        responses={
            200: inline_serializer(
                "FitmentAnswer",
                fields={
                    "vehicle": DECODE,
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "results": PartSerializer(many=True),
                },
            ),
            400: OpenApiResponse(ERROR, description="Invalid VIN; `fields.vin` says why."),
            404: OpenApiResponse(
                ERROR, description="Unknown VIN prefix (code unknown_vin_prefix)."
            ),
        },
    )
    def list(self, request):
        params = request.query_params
        vin = (params.get("vin") or "").strip()
        if not vin:
            message = _("Enter the 17-character VIN.")
            raise ValidationFailed(message, code="empty_vin", fields={"vin": [message]})
        category = params.get("category") or None
        if category is not None and not str(category).isdigit():
            message = _("Choose a category from the list.")
            raise ValidationFailed(message, fields={"category": [message]})
        page = _positive(params.get("page"), 1)
        size = min(_positive(params.get("page_size"), 100), 500)
        result = lookup.parts_for_vin(
            request.user,
            vin,
            q=params.get("q"),
            category=int(category) if category else None,
            universal=params.get("universal") in ("1", "true", "True", "yes"),
            limit=size,
            offset=(page - 1) * size,
        )
        return Response(
            {
                "vehicle": result.decode.as_dict(),
                "count": result.count,
                "page": page,
                "results": [part_row(part) for part in result.parts],
            }
        )


def _positive(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def register(router):
    router.register("parts/categories", PartCategoryViewSet, basename="partcategory")
    router.register("parts/parts", PartViewSet, basename="part")
    router.register("parts/fitment", FitmentViewSet, basename="part-fitment")
