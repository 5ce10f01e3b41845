"""The CRM API: customers, vehicles, the reception lookup, search, tags and visits.

Reads go through ``restrict`` (another dealer's id answers 404); every write calls a
service function in ``crm.services``, which validates, audits and raises coded errors
that the API turns into ``{"code", "message", "fields"}``."""

import datetime

import django_filters
from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from aftersales.core.api import ERROR
from aftersales.core.drf import ActionPermission, FilterBackend, ScopedByActionMixin
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.crm import selectors, services
from aftersales.crm.api.serializers import (
    Customer360Serializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerTagSerializer,
    CustomerUpdateSerializer,
    DuplicateListSerializer,
    MergeSerializer,
    OdometerReadingSerializer,
    OdometerWriteSerializer,
    OwnedVehicleSerializer,
    OwnershipSerializer,
    ReceptionCardSerializer,
    RevealSerializer,
    SearchResultSerializer,
    ServiceVisitSerializer,
    TransferSerializer,
    VehicleCreateSerializer,
    VehicleSerializer,
    VehicleUpdateSerializer,
)
from aftersales.crm.choices import Segment, VisitKind
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    DealerCustomer,
    DealerVehicle,
    OdometerReading,
    Ownership,
    ServiceVisit,
    Vehicle,
)

STALE = OpenApiResponse(ERROR, description="Stale version (code stale_version): reload first.")
INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
TIMELINE_PAGE_MAX = 200


class CrmViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    """Base of the model-backed CRM viewsets. ``action_verbs`` names the permission verb of
    actions that need more than view (reads) or change (writes)."""

    # no DRF ?search=: customers have ?q=, vehicles exact-identifier filters
    filter_backends = [FilterBackend, OrderingFilter]

    def filter_queryset(self, queryset):
        if self.detail:  # list filters do not apply to one record
            return queryset
        return super().filter_queryset(queryset)

    def paginated(self, rows, serializer_class, **context):
        page = self.paginate_queryset(rows)
        serializer = serializer_class(
            page, many=True, context={**self.get_serializer_context(), **context}
        )
        return self.get_paginated_response(serializer.data)


def _digits(value: str) -> str:
    return "".join(value.split()).replace("-", "")


# ---------------------------------------------------------------- customers


class CustomerFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    tag = django_filters.CharFilter(method="filter_tag", label="Tag name")
    dealer = django_filters.NumberFilter(
        method="filter_dealer", label="Id of a dealer related to the customer"
    )
    city = django_filters.CharFilter()
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    marketing_consent = django_filters.BooleanFilter()
    q = django_filters.CharFilter(
        method="filter_q", label="Name (prefix) or mobile number (whole, or its last digits)"
    )

    class Meta:
        model = Customer
        fields = ["segment", "city", "marketing_consent"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip())

    def filter_dealer(self, queryset, name, value):
        return queryset.filter(
            Exists(DealerCustomer.objects.filter(customer_id=OuterRef("pk"), dealer_id=value))
        )

    def filter_q(self, queryset, name, value):
        value = value.strip()
        digits = _digits(value)
        if digits.isdigit():
            if len(digits) == 11:
                return queryset.filter(mobile=digits)
            return queryset.filter(mobile__endswith=digits) if len(digits) >= 4 else queryset.none()
        return queryset.filter(name__startswith=" ".join(value.split())) if value else queryset


_BEFORE = OpenApiParameter(
    "before",
    OpenApiTypes.DATETIME,
    description="Timeline paging: only entries older than this moment "
    "(the timeline_next_before of the previous page).",
)
_LIMIT = OpenApiParameter(
    "limit", OpenApiTypes.INT, description=f"Timeline entries per page (1-{TIMELINE_PAGE_MAX})."
)


@extend_schema_view(
    list=extend_schema(summary="Customers the user may see (merged ones left out)"),
    retrieve=extend_schema(summary="One customer"),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Customers. The mobile is masked (138****1234) for users without
    crm.contact_customer; the resident ID number is always masked (see reveal-id)."""

    queryset = Customer.objects.prefetch_related("tags")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["id", "name", "created_at", "updated_at", "segment"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_verbs = {
        "create": "add",
        "reveal_id": "reveal",
        "duplicates": "merge",
        "merge": "merge",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.live() if self.action == "list" else queryset

    def _out(self, customer, status_code=status.HTTP_200_OK):
        prefetch_related_objects([customer], "tags")
        return Response(
            CustomerSerializer(customer, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        summary="Register a customer",
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer, 400: INVALID},
    )
    def create(self, request):
        payload = CustomerCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **payload.validated_data)
        return self._out(customer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a customer (optimistic: send the version you read)",
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer, 400: INVALID, 409: STALE},
    )
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        payload = CustomerUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = data.pop("version")
        customer = services.customer_update(
            actor=request.user, customer=customer, version=version, **data
        )
        return self._out(customer)

    @extend_schema(
        summary="Customer 360: vehicles, ownerships, odometer, visits and the timeline",
        parameters=[_BEFORE, _LIMIT],
        responses={200: Customer360Serializer, 400: INVALID},
    )
    @action(detail=True, methods=["get"], url_path="360", url_name="360")
    def customer_360(self, request, pk=None):
        from aftersales.crm.timeline import customer_timeline

        customer = self.get_object()
        before, limit = self._timeline_paging(request)
        view = selectors.customer_360(request.user, customer)
        timeline = view["timeline"]
        if before is not None or limit is not None:
            limit = limit or 50
            timeline = customer_timeline(customer, request.user, limit=limit, before=before)
        else:
            limit = 50
        for ownership in view["ownerships"]:
            ownership.customer = customer  # every row is this customer's: no query per row
        names = self._user_names(view["odometer"])
        context = {**self.get_serializer_context(), "user_names": names}
        full_page = len(timeline) >= limit
        return Response(
            {
                "customer": CustomerSerializer(customer, context=context).data,
                "segment": customer.segment,
                "segment_display": customer.get_segment_display(),
                "tags": [tag.name for tag in view["tags"]],
                "visit_count": view["visit_count"],
                "vehicles": OwnedVehicleSerializer(view["vehicles"], many=True).data,
                "ownerships": OwnershipSerializer(view["ownerships"], many=True).data,
                "odometer": OdometerReadingSerializer(
                    view["odometer"], many=True, context=context
                ).data,
                "timeline": [entry.as_dict() for entry in timeline],
                "timeline_next_before": timeline[-1].at.isoformat()
                if full_page and timeline
                else None,
            }
        )

    @staticmethod
    def _timeline_paging(request):
        before = limit = None
        raw_before = request.query_params.get("before")
        if raw_before:
            before = parse_datetime(raw_before)
            if before is None:
                day = parse_date(raw_before)
                if day is not None:
                    before = datetime.datetime.combine(day, datetime.time.min)
            if before is None:
                raise ValidationFailed(
                    fields={
                        "before": [_("Enter a date and time such as 2026-03-15T09:30:00+08:00.")]
                    }
                )
            if timezone.is_naive(before):
                before = timezone.make_aware(before)
        raw_limit = request.query_params.get("limit")
        if raw_limit:
            try:
                limit = int(raw_limit)
            except ValueError:
                limit = 0
            if not 1 <= limit <= TIMELINE_PAGE_MAX:
                raise ValidationFailed(
                    fields={
                        "limit": [
                            _("Give a number from 1 to %(max)d.") % {"max": TIMELINE_PAGE_MAX}
                        ]
                    }
                )
        return before, limit

    @staticmethod
    def _user_names(readings) -> dict:
        from django.contrib.auth import get_user_model

        ids = {r.recorded_by_id for r in readings if r.recorded_by_id}
        if not ids:
            return {}
        users = get_user_model().objects.filter(pk__in=ids)
        return {u.pk: getattr(u, "display_name", "") or u.get_username() for u in users}

    @extend_schema(
        summary="Reveal the full resident ID number (audited)",
        request=None,
        responses={200: RevealSerializer, 403: OpenApiResponse(ERROR)},
    )
    @action(detail=True, methods=["post"], url_path="reveal-id", url_name="reveal-id")
    def reveal_id(self, request, pk=None):
        customer = self.get_object()
        number = services.customer_reveal_id_number(actor=request.user, customer=customer)
        response = Response({"id_number": number})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Likely duplicates of this customer, with the reasons",
        responses={200: DuplicateListSerializer},
    )
    @action(detail=True, methods=["get"])
    def duplicates(self, request, pk=None):
        customer = self.get_object()
        from aftersales.crm.duplicates import duplicate_candidates  # written alongside

        candidates = list(duplicate_candidates(request.user, customer))
        prefetch_related_objects([c.customer for c in candidates], "tags")
        context = self.get_serializer_context()
        return Response(
            {
                "count": len(candidates),
                "results": [
                    {
                        "customer": CustomerSerializer(c.customer, context=context).data,
                        "reasons": list(c.reasons),
                    }
                    for c in candidates
                ],
            }
        )

    @extend_schema(
        summary="Merge a duplicate into this customer (this one survives)",
        request=MergeSerializer,
        responses={200: CustomerSerializer, 400: INVALID, 409: OpenApiResponse(ERROR)},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        survivor = self.get_object()
        payload = MergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        duplicate = (
            Customer.objects.restrict(request.user, "merge")
            .filter(pk=payload.validated_data["duplicate"])
            .first()
        )
        if duplicate is None:
            raise ValidationFailed(fields={"duplicate": [_("No such customer.")]})
        survivor = services.customer_merge(
            actor=request.user, survivor=survivor, duplicate=duplicate
        )
        return self._out(survivor)


# ---------------------------------------------------------------- vehicles


class VehicleFilter(django_filters.FilterSet):
    plate = django_filters.CharFilter(method="filter_plate")
    vin = django_filters.CharFilter(method="filter_vin", label="Full VIN (17 characters)")
    vin_tail = django_filters.CharFilter(
        method="filter_vin_tail", label="The last 6 or 8 characters of the VIN"
    )
    variant = django_filters.NumberFilter(field_name="variant_id")
    model = django_filters.NumberFilter(field_name="variant__vehicle_model_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    selling_dealer = django_filters.NumberFilter(field_name="selling_dealer_id")
    fuel_type = django_filters.CharFilter(field_name="variant__fuel_type")
    in_warranty = django_filters.BooleanFilter(
        method="filter_in_warranty", label="Under the whole-vehicle warranty today (by date)"
    )

    class Meta:
        model = Vehicle
        fields = []

    def filter_plate(self, queryset, name, value):
        return queryset.filter(plate="".join(value.split()).upper())

    def filter_vin(self, queryset, name, value):
        return queryset.filter(vin="".join(value.split()).upper())

    def filter_vin_tail(self, queryset, name, value):
        tail = "".join(value.split()).upper()
        if len(tail) == 8:
            return queryset.filter(vin_last8=tail)
        if len(tail) == 6:
            return queryset.filter(vin_last6=tail)
        raise ValidationFailed(
            fields={"vin_tail": [_("Give the last 6 or the last 8 characters of the VIN.")]}
        )

    def filter_in_warranty(self, queryset, name, value):
        today = timezone.localdate()
        if value:
            return queryset.filter(warranty_end__gte=today)
        return queryset.filter(Q(warranty_end__lt=today) | Q(warranty_end__isnull=True))


@extend_schema_view(
    list=extend_schema(summary="Vehicles the user may see"),
    retrieve=extend_schema(summary="One vehicle"),
)
class VehicleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Vehicles, with their warranty (from the catalogue) and latest odometer reading."""

    queryset = Vehicle.objects.select_related("variant__vehicle_model", "owner")
    serializer_class = VehicleSerializer
    filterset_class = VehicleFilter
    ordering_fields = ["id", "plate", "sale_date", "created_at", "odometer_km", "warranty_end"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_verbs = {"create": "add"}

    def _out(self, vehicle, status_code=status.HTTP_200_OK):
        vehicle = self.queryset.get(pk=vehicle.pk)
        return Response(
            VehicleSerializer(vehicle, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        summary="Register a vehicle with its owner (and optionally a first odometer reading)",
        request=VehicleCreateSerializer,
        responses={201: VehicleSerializer, 400: INVALID},
    )
    def create(self, request):
        payload = VehicleCreateSerializer(
            data=request.data, owners=selectors.customers(request.user)
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        vehicle = services.vehicle_create(actor=request.user, owner=data.pop("owner"), **data)
        return self._out(vehicle, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a vehicle (optimistic: send the version you read)",
        request=VehicleUpdateSerializer,
        responses={200: VehicleSerializer, 400: INVALID, 409: STALE},
    )
    def partial_update(self, request, pk=None):
        vehicle = self.get_object()
        payload = VehicleUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = data.pop("version")
        vehicle = services.vehicle_update(
            actor=request.user, vehicle=vehicle, version=version, **data
        )
        return self._out(vehicle)

    @extend_schema(
        methods=["GET"],
        summary="The vehicle's odometer readings, newest first",
        filters=False,
        responses={200: OdometerReadingSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record an odometer reading (readings never go back)",
        request=OdometerWriteSerializer,
        responses={201: OdometerReadingSerializer, 400: INVALID},
    )
    @action(detail=True, methods=["get", "post"])
    def odometer(self, request, pk=None):
        vehicle = self.get_object()
        if request.method == "GET":
            readings = OdometerReading.objects.filter(vehicle=vehicle).select_related("recorded_by")
            return self.paginated(readings.order_by("-read_on", "-id"), OdometerReadingSerializer)
        payload = OdometerWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reading = services.odometer_record(
            actor=request.user, vehicle=vehicle, **payload.validated_data
        )
        return Response(OdometerReadingSerializer(reading).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Transfer the vehicle to a new owner (过户)",
        request=TransferSerializer,
        responses={200: VehicleSerializer, 400: INVALID, 409: STALE},
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        vehicle = self.get_object()
        payload = TransferSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        new_owner = selectors.customers(request.user).filter(pk=data["new_owner"]).first()
        if new_owner is None:
            raise ValidationFailed(fields={"new_owner": [_("No such customer.")]})
        services.ownership_transfer(
            actor=request.user,
            vehicle=vehicle,
            new_owner=new_owner,
            on_date=data.get("on_date"),
            version=data["version"],
        )
        return self._out(vehicle)

    @extend_schema(
        summary="Who owned the vehicle when, newest first",
        filters=False,
        responses={200: OwnershipSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def ownerships(self, request, pk=None):
        vehicle = self.get_object()
        rows = Ownership.objects.filter(vehicle=vehicle).select_related("customer", "vehicle")
        return self.paginated(rows.order_by("-started_on", "-id"), OwnershipSerializer)


# ---------------------------------------------------------------- lookups without a model


class OneAnswerSchema(AutoSchema):
    """The ``list`` of these viewsets answers one object, not an array of them."""

    def _is_list_view(self, serializer=None):
        return False


class QueryViewSet(viewsets.ViewSet):
    """A list-only endpoint answering a ``?q=`` query; ``permission`` names what it needs."""

    permission_classes = [ActionPermission]
    schema = OneAnswerSchema()
    permission: str = ""

    def required_permission(self) -> str:
        return self.permission

    @staticmethod
    def query(request, message) -> str:
        q = (request.query_params.get("q") or "").strip()
        if not q:
            raise ValidationFailed(message, code="empty_query", fields={"q": [message]})
        return q


class VehicleLookupViewSet(QueryViewSet):
    """Reception lookup (the one exception to dealer scoping): any dealer's staff who may
    see vehicles find one by its exact full VIN or exact plate, even if it was sold and
    serviced elsewhere. Partial VINs, names and phone numbers find nothing here."""

    permission = "crm.view_vehicle"

    @extend_schema(
        summary="Find a vehicle at reception by exact VIN or plate (any dealer's vehicle)",
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, required=True, description="Full 17-character VIN or plate"
            )
        ],
        responses={
            200: ReceptionCardSerializer,
            400: INVALID,
            404: OpenApiResponse(ERROR, description="No vehicle with this VIN or plate."),
        },
    )
    def list(self, request):
        q = self.query(request, _("Enter the full VIN or the plate number."))
        vehicle = selectors.reception_lookup(request.user, q)
        if vehicle is None:
            raise NotFound(_("No vehicle has this VIN or plate number."))
        user = request.user
        related = bool(
            user.dealer_id
            and DealerVehicle.objects.filter(dealer_id=user.dealer_id, vehicle=vehicle).exists()
        )
        can_open = related or selectors.vehicles(user).filter(pk=vehicle.pk).exists()
        card = ReceptionCardSerializer(
            vehicle, context={"dealer_relationship": related, "can_open": can_open}
        )
        return Response(card.data)


class SearchViewSet(QueryViewSet):
    """One search box: phone, name, plate, full VIN or its last 6/8, resident ID (exact).
    Ranked best first; partial matches only reach the user's related records."""

    permission = "crm.view_customer"

    @extend_schema(
        summary="Search customers and vehicles",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True),
            OpenApiParameter("limit", OpenApiTypes.INT, description="At most 50; default 20."),
        ],
        responses={200: SearchResultSerializer, 400: INVALID},
    )
    def list(self, request):
        q = self.query(
            request,
            _("Type a phone number, name, plate, VIN (or its last 6 or 8) or ID number."),
        )
        try:
            limit = min(max(int(request.query_params.get("limit") or 20), 1), 50)
        except ValueError:
            limit = 20
        hits = selectors.search(request.user, q, limit=limit)
        return Response({"count": len(hits), "results": [hit.as_dict() for hit in hits]})


# ---------------------------------------------------------------- tags and visits


class CustomerTagViewSet(mixins.ListModelMixin, CrmViewSet):
    """Customer tags (shared network-wide)."""

    queryset = CustomerTag.objects.all()
    serializer_class = CustomerTagSerializer
    ordering_fields = ["name"]


class ServiceVisitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=VisitKind.choices)
    visited_after = django_filters.DateFilter(field_name="visited_on", lookup_expr="gte")
    visited_before = django_filters.DateFilter(field_name="visited_on", lookup_expr="lte")

    class Meta:
        model = ServiceVisit
        fields = ["customer", "vehicle", "dealer", "kind"]


class ServiceVisitViewSet(mixins.ListModelMixin, CrmViewSet):
    """Finished service visits (what segmentation and the history count), of the dealers
    the user may see."""

    queryset = ServiceVisit.objects.select_related("vehicle", "dealer")
    serializer_class = ServiceVisitSerializer
    filterset_class = ServiceVisitFilter
    ordering_fields = ["visited_on", "amount", "id"]
