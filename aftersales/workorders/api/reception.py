"""Reception API (routes under ``workorders/reception``): open a repair order for a vehicle
(``Idempotency-Key`` honoured: a retry returns the same order), read and change the
reception data (PATCH with ``version``), check in, photos (upload multipart or base64
JSON, list, file, remove) and the comeback link.

Reads and writes are scoped with ``restrict`` (another dealer's order answers 404); the
services check the permission at the order's dealer and answer coded errors
``{"code", "message", "fields"}`` (stale version and refused steps are 409)."""

import base64
import binascii

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from aftersales.core.api import IDEMPOTENCY
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import request_key
from aftersales.crm.selectors import reception_lookup, shown_mobile, vehicles
from aftersales.workorders import reception
from aftersales.workorders.choices import FuelLevel, ROKind, ROStatus
from aftersales.workorders.models import PhotoKind, RepairOrder, RepairOrderPhoto
from aftersales.workorders.transitions import refusals

ERROR = OpenApiResponse(description='{"code", "message", "fields"}')


# ---------------------------------------------------------------- serializers


class RepairOrderPhotoSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrderPhoto
        fields = [
            "id",
            "kind",
            "kind_display",
            "caption",
            "content_type",
            "uploaded_by",
            "uploaded_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, photo) -> str:
        from django.urls import reverse

        return reverse(
            "api:ro-reception-photo-file",
            kwargs={"pk": photo.repair_order_id, "photo_id": photo.pk},
        )


class ReceptionSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    vehicle_vin = serializers.CharField(source="vehicle.vin", read_only=True)
    vehicle_plate = serializers.CharField(source="vehicle.plate", read_only=True)
    contact_mobile = serializers.SerializerMethodField()
    comeback_of_number = serializers.CharField(
        source="comeback_of.number", read_only=True, default=None
    )
    warnings = serializers.SerializerMethodField()
    check_in_refusals = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "status",
            "status_display",
            "version",
            "dealer",
            "dealer_code",
            "kind",
            "vehicle",
            "vehicle_vin",
            "vehicle_plate",
            "customer",
            "contact_name",
            "contact_mobile",
            "service_advisor",
            "warehouse",
            "odometer_km",
            "odometer_suspect",
            "odometer_reason",
            "fuel_level",
            "concern",
            "diagnosis",
            "valuables",
            "covers_installed",
            "walkaround",
            "walkaround_note",
            "warranty_status",
            "warranty_reason",
            "comeback_of",
            "comeback_of_number",
            "checked_in_at",
            "created_at",
            "warnings",
            "check_in_refusals",
        ]
        read_only_fields = fields

    def get_contact_mobile(self, order) -> str:
        return shown_mobile(self.context["request"].user, order.contact_mobile)

    def get_warnings(self, order) -> list[str]:
        found = list(getattr(order, "warnings", None) or [])
        if not found and order.odometer_suspect:
            found.append(reception.odometer_warning(order))
        return [str(w) for w in found]

    def get_check_in_refusals(self, order) -> list[dict]:
        """Why the order cannot be checked in now (empty when it can, or is past that)."""
        if order.status != ROStatus.DRAFT:
            return []
        return [
            {"code": r.code, "message": str(r.message), "field": r.field}
            for r in refusals(order, ROStatus.CHECKED_IN, self.context["request"].user)
        ]


class ReceptionOpenSerializer(serializers.Serializer):
    vehicle = serializers.IntegerField(
        required=False, help_text="Id of a vehicle your dealer already knows."
    )
    vin = serializers.CharField(required=False, help_text="Exact full VIN (any vehicle).")
    plate = serializers.CharField(required=False, help_text="Exact plate (any vehicle).")
    dealer = serializers.IntegerField(required=False, help_text="Default: your dealer.")
    kind = serializers.ChoiceField(choices=ROKind.choices, default=ROKind.REPAIR)
    concern = serializers.CharField(required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_mobile = serializers.CharField(required=False, allow_blank=True, default="")
    # the reception data may come with the opening, and the check-in too (one request
    # from a reception screen that is filled in before it is saved)
    odometer_km = serializers.IntegerField(required=False, allow_null=True)
    odometer_reason = serializers.CharField(required=False, allow_blank=True)
    fuel_level = serializers.ChoiceField(choices=FuelLevel.choices, required=False)
    diagnosis = serializers.CharField(required=False, allow_blank=True)
    valuables = serializers.CharField(required=False, allow_blank=True)
    covers_installed = serializers.BooleanField(required=False)
    walkaround = serializers.JSONField(required=False)
    walkaround_note = serializers.CharField(required=False, allow_blank=True)
    check_in = serializers.BooleanField(
        required=False, default=False, help_text="Check the car in right away."
    )


RECEPTION_AT_OPEN = (
    "odometer_km",
    "odometer_reason",
    "fuel_level",
    "diagnosis",
    "valuables",
    "covers_installed",
    "walkaround",
    "walkaround_note",
)


class ReceptionUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    odometer_km = serializers.IntegerField(required=False, allow_null=True)
    odometer_reason = serializers.CharField(required=False, allow_blank=True)
    fuel_level = serializers.ChoiceField(choices=FuelLevel.choices, required=False)
    concern = serializers.CharField(required=False, allow_blank=True)
    diagnosis = serializers.CharField(required=False, allow_blank=True)
    valuables = serializers.CharField(required=False, allow_blank=True)
    covers_installed = serializers.BooleanField(required=False)
    walkaround = serializers.JSONField(
        required=False, help_text='Damage marks: [{"x": 0-100, "y": 0-100, "kind", "note"}]'
    )
    walkaround_note = serializers.CharField(required=False, allow_blank=True)
    contact_name = serializers.CharField(required=False, allow_blank=True)
    contact_mobile = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=ROKind.choices, required=False)


class ReceptionVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()


class ReceptionComebackSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    comeback_of = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Id or number of the earlier order; empty or null clears the link.",
    )


class ReceptionPhotoInSerializer(serializers.Serializer):
    image = serializers.FileField(required=False, help_text="JPEG, PNG or WebP, at most 10 MB.")
    image_base64 = serializers.CharField(
        required=False, help_text="The image, base64-encoded (instead of a multipart file)."
    )
    kind = serializers.ChoiceField(choices=PhotoKind.choices, default=PhotoKind.WALKAROUND)
    caption = serializers.CharField(required=False, allow_blank=True, default="")


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# ---------------------------------------------------------------- the viewset


class ReceptionViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    """Reception of a repair order. Permission verbs: open, change, check in and set the
    comeback need ``add_repairorder``; photos need view here and one of the photo
    permissions at the order's dealer (checked by the service)."""

    queryset = RepairOrder.objects.select_related("dealer", "vehicle", "comeback_of")
    serializer_class = ReceptionSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_verbs = {
        "create": "add",
        "partial_update": "add",
        "check_in": "add",
        "comeback": "add",
        "photos": "view",
        "photo_file": "view",
    }

    def filter_queryset(self, queryset):
        return queryset

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(ReceptionSerializer(order, context={"request": self.request}).data, code)

    @extend_schema(
        request=ReceptionOpenSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: ReceptionSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        """Open a draft repair order for a vehicle (by id, exact VIN or exact plate)."""
        from aftersales.org.models import Dealer

        data = _valid(ReceptionOpenSerializer, request.data)
        user = request.user
        vehicle = None
        if data.get("vehicle"):
            vehicle = vehicles(user).filter(pk=data["vehicle"]).first()
        elif data.get("vin") or data.get("plate"):
            vehicle = reception_lookup(user, data.get("vin") or data.get("plate"))
        if vehicle is None:
            message = _("No vehicle with this VIN or plate.")
            raise ValidationFailed(message, fields={"vehicle": [message]})
        dealer_id = data.get("dealer") or user.dealer_id
        dealer = Dealer.objects.filter(pk=dealer_id).first() if dealer_id else None
        if dealer is None:
            message = _("Choose the dealer.")
            raise ValidationFailed(message, fields={"dealer": [message]})
        with transaction.atomic():  # opened, filled in and checked in: all or nothing
            order = reception.repair_order_open(
                actor=user,
                dealer=dealer,
                vehicle=vehicle,
                kind=data["kind"],
                concern=data["concern"],
                contact_name=data["contact_name"],
                contact_mobile=data["contact_mobile"],
                idempotency_key=request_key(request),
            )
            fields = {k: data[k] for k in RECEPTION_AT_OPEN if k in data}
            # a retry answers with the order the first request opened, as it is now
            if order.status == ROStatus.DRAFT and fields:
                order = reception.reception_update(
                    actor=user, repair_order=order, version=order.version, **fields
                )
            if order.status == ROStatus.DRAFT and data["check_in"]:
                order = reception.repair_order_check_in(
                    actor=user, repair_order=order, version=order.version
                )
        return self._answer(order, status.HTTP_201_CREATED)

    @extend_schema(responses={200: ReceptionSerializer})
    def retrieve(self, request, pk=None):
        """The order's reception data, with the reasons it cannot be checked in yet."""
        return self._answer(self.get_object())

    @extend_schema(
        request=ReceptionUpdateSerializer,
        responses={200: ReceptionSerializer, 400: ERROR, 409: ERROR},
    )
    def partial_update(self, request, pk=None):
        """Change reception data; ``version`` is the one last read (stale: 409)."""
        order = self.get_object()
        data = dict(_valid(ReceptionUpdateSerializer, request.data))
        version = data.pop("version")
        order = reception.reception_update(
            actor=request.user, repair_order=order, version=version, **data
        )
        return self._answer(order)

    @extend_schema(
        request=ReceptionVersionSerializer,
        responses={200: ReceptionSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Check the car in (warranty, odometer to the vehicle history, comeback check)."""
        order = self.get_object()
        data = _valid(ReceptionVersionSerializer, request.data)
        order = reception.repair_order_check_in(
            actor=request.user, repair_order=order, version=data["version"]
        )
        return self._answer(order)

    @extend_schema(
        request=ReceptionComebackSerializer,
        responses={200: ReceptionSerializer, 400: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def comeback(self, request, pk=None):
        """Confirm, correct or clear the comeback link."""
        order = self.get_object()
        data = _valid(ReceptionComebackSerializer, request.data)
        order = reception.repair_order_set_comeback(
            actor=request.user,
            repair_order=order,
            version=data["version"],
            comeback_of=data.get("comeback_of") or None,
        )
        return self._answer(order)

    @extend_schema(
        methods=["get"], request=None, responses={200: RepairOrderPhotoSerializer(many=True)}
    )
    @extend_schema(
        methods=["post"],
        request=ReceptionPhotoInSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: RepairOrderPhotoSerializer, 400: ERROR, 403: ERROR},
    )
    @action(detail=True, methods=["get", "post"])
    def photos(self, request, pk=None):
        """The order's photos; POST adds one (multipart ``image`` or ``image_base64``)."""
        order = self.get_object()
        if request.method == "GET":
            rows = order.photos.all()
            return Response(RepairOrderPhotoSerializer(rows, many=True).data)
        data = _valid(ReceptionPhotoInSerializer, request.data)
        upload = data.get("image")
        if upload is None and data.get("image_base64"):
            try:
                raw = base64.b64decode(data["image_base64"], validate=True)
            except (binascii.Error, ValueError):
                message = _("The image is not valid base64.")
                raise ValidationFailed(message, fields={"image_base64": [message]}) from None
            upload = ContentFile(raw, name="upload")
        if upload is None:
            message = _("Choose a photo to upload.")
            raise ValidationFailed(message, fields={"image": [message]})
        from aftersales.core.idempotency import once

        photo, _acted = once(
            user=request.user,
            scope=f"workorders.photo_add:{order.pk}",
            key=request_key(request),
            action=lambda: reception.photo_add(
                actor=request.user,
                repair_order=order,
                upload=upload,
                kind=data["kind"],
                caption=data["caption"],
            ),
            model=RepairOrderPhoto,
        )
        return Response(RepairOrderPhotoSerializer(photo).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses={(200, "image/*"): OpenApiTypes.BINARY})
    @extend_schema(methods=["delete"], responses={204: None, 403: ERROR, 409: ERROR})
    @action(
        detail=True,
        methods=["get", "delete"],
        url_path=r"photos/(?P<photo_id>\d+)",
        url_name="photo-file",
    )
    def photo_file(self, request, pk=None, photo_id=None):
        """The photo's image (only through this access-checked URL); DELETE removes it."""
        order = self.get_object()
        photo = get_object_or_404(RepairOrderPhoto, pk=photo_id, repair_order=order)
        if request.method == "DELETE":
            reception.photo_remove(actor=request.user, photo=photo)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return photo_response(photo)


def photo_response(photo):
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def register(router):
    router.register("workorders/reception", ReceptionViewSet, basename="ro-reception")
