"""Bookings API (/api/appointments/bookings/ and /api/appointments/slots/<dealer>/):
list and detail scoped with ``restrict`` (another dealer's id answers 404), create
(``Idempotency-Key``: a retry answers the first booking), confirm, reschedule, cancel and
check in, and the slot finder of a dealer."""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.appointments import bookings as services
from aftersales.appointments import selectors
from aftersales.appointments.models import Booking, BookingEvent, BookingOperation
from aftersales.appointments.slots import find_slots, needs_for
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ActionPermission, ScopedByActionMixin
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.idempotency import request_key

INVALID = OpenApiResponse(ERROR, description="Invalid input; `code` and `fields` say why.")
REFUSED = OpenApiResponse(
    ERROR, description="slot_taken, illegal_transition, stale, or a refused check-in step."
)


class BookingOperationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="operation.code", read_only=True)
    name = serializers.CharField(source="operation.name", read_only=True)

    class Meta:
        model = BookingOperation
        fields = ["operation", "code", "name", "hours"]
        read_only_fields = fields


class BookingEventSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = BookingEvent
        fields = ["id", "at", "kind", "actor_label", "from_starts_at", "to_starts_at", "message"]
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="requested, confirmed, checked_in, no_show or cancelled"
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    channel = serializers.CharField(read_only=True)
    service_type = serializers.CharField(read_only=True)
    bay_kind = serializers.CharField(read_only=True)
    advisor_name = serializers.SerializerMethodField()
    technician_name = serializers.SerializerMethodField()
    bay_code = serializers.CharField(source="bay.code", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "number",
            "dealer",
            "dealer_code",
            "status",
            "status_label",
            "channel",
            "service_type",
            "vehicle",
            "plate",
            "vin",
            "customer",
            "contact_name",
            "contact_mobile",
            "concern",
            "bay_kind",
            "hours",
            "starts_at",
            "ends_at",
            "advisor",
            "advisor_name",
            "bay",
            "bay_code",
            "technician",
            "technician_name",
            "repair_order",
            "reschedules",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_advisor_name(self, booking) -> str:
        return str(booking.advisor)

    def get_technician_name(self, booking) -> str:
        return str(booking.technician)


class BookingDetailSerializer(BookingSerializer):
    operations = BookingOperationSerializer(many=True, read_only=True)
    events = BookingEventSerializer(many=True, read_only=True)

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "cancel_reason", "operations", "events"]
        read_only_fields = fields


class BookingCreateSerializer(serializers.Serializer):
    dealer = serializers.IntegerField(required=False, help_text="Default: the user's dealer.")
    vehicle = serializers.IntegerField()
    service_type = serializers.CharField(
        help_text="maintenance, repair, warranty, campaign or inspection"
    )
    channel = serializers.CharField(help_text="phone, app, web, wechat, walk_in, dcrc or reminder")
    starts_at = serializers.DateTimeField()
    operations = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Labour-operation ids or codes.",
    )
    package = serializers.IntegerField(required=False, allow_null=True, default=None)
    concern = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    contact_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50
    )
    contact_mobile = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20
    )
    confirm = serializers.BooleanField(required=False, default=False)


class BookingVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()


class BookingRescheduleSerializer(BookingVersionSerializer):
    starts_at = serializers.DateTimeField()


class BookingCancelSerializer(BookingVersionSerializer):
    reason = serializers.CharField(max_length=200)


class BookingCheckInSerializer(BookingVersionSerializer):
    odometer_km = serializers.IntegerField(min_value=0)
    fuel_level = serializers.CharField(help_text="0, 25, 50, 75 or 100")
    covers_installed = serializers.BooleanField(default=True)
    odometer_reason = serializers.CharField(required=False, allow_blank=True, default="")


class CheckedInSerializer(serializers.Serializer):
    booking = BookingDetailSerializer()
    repair_order = serializers.IntegerField()
    repair_order_number = serializers.CharField()


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    advisor = serializers.IntegerField(source="advisor_id")
    bay = serializers.IntegerField(source="bay_id")
    technician = serializers.IntegerField(source="technician_id")
    load = serializers.IntegerField(
        help_text="Minutes already booked that day on the bay and technician."
    )


class SlotsSerializer(serializers.Serializer):
    dealer = serializers.IntegerField()
    bay_kind = serializers.CharField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    slots = SlotSerializer(many=True)


def _valid(serializer_class, data):
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def operations_from(values):
    """Labour operations by id or code; unknown ones are refused by name."""
    from aftersales.workorders.models import LabourOperation

    wanted = [str(v).strip() for v in values if str(v).strip()]
    if not wanted:
        return []
    ids = [int(v) for v in wanted if v.isdigit()]
    found = list(LabourOperation.objects.filter(active=True, pk__in=ids)) + list(
        LabourOperation.objects.filter(active=True, code__in=wanted)
    )
    known = {str(op.pk) for op in found} | {op.code for op in found}
    missing = [v for v in wanted if v not in known]
    if missing:
        message = _("Unknown labour operation %(code)s.") % {"code": missing[0]}
        raise ValidationFailed(message, fields={"operations": [message]})
    unique = {op.pk: op for op in found}
    return list(unique.values())


def _date_param(request, name, default):
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(fields={name: [_("Enter a date as YYYY-MM-DD.")]}) from None


LIST_FILTERS = [
    OpenApiParameter("dealer", OpenApiTypes.INT),
    OpenApiParameter("first", OpenApiTypes.DATE, description="Arriving on or after."),
    OpenApiParameter("last", OpenApiTypes.DATE, description="Arriving on or before."),
    OpenApiParameter("status", OpenApiTypes.STR, description="Comma-separated statuses."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="Comma-separated channels."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Number, plate, VIN or mobile."),
]


@extend_schema_view(
    list=extend_schema(summary="Bookings the user may see", parameters=LIST_FILTERS),
    retrieve=extend_schema(summary="One booking with its operations and history"),
)
class BookingViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Booking.objects.select_related(
        "dealer", "vehicle", "advisor", "technician", "bay"
    ).order_by("starts_at", "id")
    serializer_class = BookingSerializer
    action_verbs = {
        "create": "add",
        "confirm": "change",
        "reschedule": "change",
        "cancel": "cancel",
        "check_in": "checkin",
    }

    def get_queryset(self):
        rows = super().get_queryset()
        if self.action == "list":
            params = self.request.query_params
            first = _date_param(self.request, "first", None)
            last = _date_param(self.request, "last", first)
            if first is not None:
                start, end = selectors.day_bounds(first, last)
                rows = rows.filter(starts_at__gte=start, starts_at__lt=end)
            if params.get("dealer", "").isdigit():
                rows = rows.filter(dealer_id=int(params["dealer"]))
            if params.get("status"):
                rows = rows.filter(status__in=params["status"].split(","))
            if params.get("channel"):
                rows = rows.filter(channel__in=params["channel"].split(","))
            if params.get("q"):
                q = params["q"].strip()
                rows = rows.filter(
                    Q(number__icontains=q)
                    | Q(vehicle__plate__icontains=q)
                    | Q(vehicle__vin__icontains=q)
                    | Q(contact_mobile__contains=q)
                )
        elif self.action == "retrieve":
            rows = rows.prefetch_related("operations__operation", "events")
        return rows

    def get_serializer_class(self):
        return BookingSerializer if self.action == "list" else BookingDetailSerializer

    def _out(self, booking, code=status.HTTP_200_OK):
        fresh = selectors.booking_detail(self.request.user, booking.pk)
        return Response(BookingDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Book a vehicle (advisor, bay and technician chosen unless the slot says)",
        parameters=[IDEMPOTENCY],
        request=BookingCreateSerializer,
        responses={201: BookingDetailSerializer, 400: INVALID, 404: ERROR, 409: REFUSED},
    )
    def create(self, request):
        from aftersales.crm.models import Vehicle
        from aftersales.org.models import Dealer
        from aftersales.workorders.models import MaintenancePackage

        data = _valid(BookingCreateSerializer, request.data)
        dealer_id = data.get("dealer") or request.user.dealer_id
        dealer = (
            selectors.dealers_with(request.user, "appointments.add_booking")
            .filter(pk=dealer_id)
            .first()
        )
        if dealer is None:
            raise NotFound(fields={"dealer": [_("Not found.")]})
        vehicle = Vehicle.objects.filter(pk=data["vehicle"]).first()
        if vehicle is None:
            raise NotFound(fields={"vehicle": [_("Not found.")]})
        package = None
        if data.get("package"):
            package = MaintenancePackage.objects.filter(pk=data["package"]).first()
            if package is None:
                raise NotFound(fields={"package": [_("Not found.")]})
        booking = services.booking_create(
            actor=request.user,
            dealer=Dealer.objects.get(pk=dealer.pk),
            vehicle=vehicle,
            service_type=data["service_type"],
            channel=data["channel"],
            starts_at=data["starts_at"],
            operations=operations_from(data["operations"]),
            package=package,
            concern=data["concern"],
            contact_name=data["contact_name"],
            contact_mobile=data["contact_mobile"],
            confirm=data["confirm"],
            idempotency_key=request_key(request),
        )
        return self._out(booking, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm a requested booking (the customer gets a message)",
        request=BookingVersionSerializer,
        responses={200: BookingDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="confirm")
    def confirm(self, request, pk=None):
        data = _valid(BookingVersionSerializer, request.data)
        booking = services.booking_confirm(
            actor=request.user, booking=self.get_object(), version=data["version"]
        )
        return self._out(booking)

    @extend_schema(
        summary="Move a booking to another time (refused when the slot is full)",
        request=BookingRescheduleSerializer,
        responses={200: BookingDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="reschedule")
    def reschedule(self, request, pk=None):
        data = _valid(BookingRescheduleSerializer, request.data)
        booking = services.booking_reschedule(
            actor=request.user,
            booking=self.get_object(),
            version=data["version"],
            starts_at=data["starts_at"],
        )
        return self._out(booking)

    @extend_schema(
        summary="Cancel a booking with the reason",
        request=BookingCancelSerializer,
        responses={200: BookingDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request, pk=None):
        data = _valid(BookingCancelSerializer, request.data)
        booking = services.booking_cancel(
            actor=request.user,
            booking=self.get_object(),
            version=data["version"],
            reason=data["reason"],
        )
        return self._out(booking)

    @extend_schema(
        summary="The car arrived: open its repair order, checked in with the booked work",
        request=BookingCheckInSerializer,
        responses={201: CheckedInSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        data = _valid(BookingCheckInSerializer, request.data)
        order = services.booking_check_in(
            actor=request.user,
            booking=self.get_object(),
            version=data["version"],
            odometer_km=data["odometer_km"],
            fuel_level=data["fuel_level"],
            covers_installed=data["covers_installed"],
            odometer_reason=data["odometer_reason"],
        )
        booking = selectors.booking_detail(request.user, pk)
        return Response(
            {
                "booking": BookingDetailSerializer(booking).data,
                "repair_order": order.pk,
                "repair_order_number": order.number,
            },
            status=status.HTTP_201_CREATED,
        )


SLOT_PARAMS = [
    OpenApiParameter("service_type", OpenApiTypes.STR, description="Default maintenance."),
    OpenApiParameter("operations", OpenApiTypes.STR, description="Comma-separated ids or codes."),
    OpenApiParameter("package", OpenApiTypes.INT),
    OpenApiParameter("vehicle", OpenApiTypes.INT, description="For its standard hours."),
    OpenApiParameter("first", OpenApiTypes.DATE, description="Default today."),
    OpenApiParameter("last", OpenApiTypes.DATE, description="Default first + 6 days."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="At most this many (default 200)."),
]


class SlotViewSet(viewsets.GenericViewSet):
    """The free start times of one dealer (the id in the path)."""

    permission_classes = [ActionPermission]
    queryset = Booking.objects.none()

    def required_permission(self) -> str:
        return "appointments.view_booking"

    @extend_schema(
        summary="Free start times of a dealer for a job (advisor, bay and technician free)",
        parameters=SLOT_PARAMS,
        responses={200: SlotsSerializer, 400: INVALID, 404: ERROR},
    )
    def retrieve(self, request, pk=None):
        from aftersales.crm.models import Vehicle
        from aftersales.workorders.models import MaintenancePackage

        dealer = (
            selectors.dealers_with(request.user, "appointments.view_booking")
            .filter(pk=int(pk) if str(pk).isdigit() else -1)
            .first()
        )
        if dealer is None:
            raise NotFound()
        params = request.query_params
        service_type = params.get("service_type") or "maintenance"
        package = vehicle = None
        if params.get("package", "").isdigit():
            package = MaintenancePackage.objects.filter(pk=int(params["package"])).first()
        if params.get("vehicle", "").isdigit():
            vehicle = Vehicle.objects.filter(pk=int(params["vehicle"])).first()
        needs = needs_for(
            operations=operations_from((params.get("operations") or "").split(",")),
            service_type=service_type,
            package=package,
            vehicle=vehicle,
        )
        today = timezone.localdate()
        first = _date_param(request, "first", today)
        last = _date_param(request, "last", first + datetime.timedelta(days=6))
        if last < first or (last - first).days > 31:
            raise ValidationFailed(fields={"last": [_("At most 31 days from the first day.")]})
        limit = params.get("limit", "")
        slots = find_slots(
            dealer=dealer,
            first=first,
            last=last,
            bay_kind=needs.bay_kind,
            categories=needs.categories,
            hours=needs.hours,
            limit=min(int(limit), 1000) if limit.isdigit() else 200,
        )
        return Response(
            SlotsSerializer(
                {
                    "dealer": dealer.pk,
                    "bay_kind": needs.bay_kind,
                    "hours": needs.hours,
                    "slots": slots,
                }
            ).data
        )


def register(router):
    router.register("appointments/slots", SlotViewSet, basename="booking-slots")
    router.register("appointments/bookings", BookingViewSet, basename="booking")
