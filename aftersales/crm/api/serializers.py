"""Shapes of the CRM API. Output serializers never carry ciphertext or hashes: the resident
ID number is only ever its masked form, the mobile masked for users without
crm.contact_customer. Input serializers check shape only; every rule (mobile format,
VIN check digit, uniqueness...) is the service's, which names what is wrong."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.catalogue.models import Variant
from aftersales.crm.choices import ContactChannel, CustomerSource, OdometerSource
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    OdometerReading,
    Ownership,
    ServiceVisit,
    Vehicle,
)
from aftersales.crm.selectors import can_see_phone
from aftersales.crm.validators import mask_mobile
from aftersales.org.models import Dealer


def _can_see_phone(context) -> bool:
    """Computed once per response (the permission check is cached per user anyway)."""
    if "can_see_phone" not in context:
        request = context.get("request")
        context["can_see_phone"] = bool(request and can_see_phone(request.user))
    return context["can_see_phone"]


def _shown_phone(context, number: str) -> str:
    return number if _can_see_phone(context) else mask_mobile(number)


# ---------------------------------------------------------------- input


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know instead of silently ignoring them, so a client that
    sends ``segment`` or ``id_number_hash`` learns it cannot change them."""

    def to_internal_value(self, data):
        unknown = sorted(set(getattr(data, "keys", list)()) - set(self.fields))
        errors = {key: [_("This field cannot be changed.")] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                exc.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class CustomerWriteSerializer(StrictSerializer):
    """Fields a customer is created or changed with; unknown or read-only keys are refused."""

    name = serializers.CharField(required=False, allow_blank=True)
    mobile = serializers.CharField(required=False, allow_blank=True)
    phone2 = serializers.CharField(required=False, allow_blank=True)
    id_number = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Resident ID number (GB 11643); blank removes it. Stored encrypted.",
    )
    email = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    contact_channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False)
    quiet_from = serializers.TimeField(required=False, allow_null=True)
    quiet_until = serializers.TimeField(required=False, allow_null=True)
    marketing_consent = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Tag names."
    )


class CustomerCreateSerializer(CustomerWriteSerializer):
    name = serializers.CharField(allow_blank=True)
    mobile = serializers.CharField(allow_blank=True)
    dealer = serializers.PrimaryKeyRelatedField(
        queryset=Dealer.objects.all(),
        required=False,
        help_text="The dealer the customer is registered at (OEM-level staff); "
        "default: the user's dealer.",
    )


class CustomerUpdateSerializer(CustomerWriteSerializer):
    version = serializers.IntegerField(
        help_text="The version you read; a stale one answers 409 stale_version."
    )


class MergeSerializer(StrictSerializer):
    duplicate = serializers.IntegerField(help_text="Id of the customer folded into this one.")


class VehicleWriteSerializer(StrictSerializer):
    vin = serializers.CharField(required=False)
    plate = serializers.CharField(required=False, allow_blank=True)
    variant = serializers.PrimaryKeyRelatedField(
        queryset=Variant.objects.select_related("vehicle_model"), required=False
    )
    colour = serializers.CharField(required=False, allow_blank=True)
    engine_number = serializers.CharField(required=False, allow_blank=True)
    sale_date = serializers.DateField(required=False, allow_null=True)
    invoice_date = serializers.DateField(required=False, allow_null=True)
    selling_dealer = serializers.PrimaryKeyRelatedField(
        queryset=Dealer.objects.all(), required=False, allow_null=True
    )
    insurance_expiry = serializers.DateField(required=False, allow_null=True)
    last_inspection = serializers.DateField(required=False, allow_null=True)


class VehicleCreateSerializer(VehicleWriteSerializer):
    vin = serializers.CharField()
    variant = serializers.PrimaryKeyRelatedField(
        queryset=Variant.objects.select_related("vehicle_model")
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(), help_text="The current owner (a customer id)."
    )
    odometer_km = serializers.IntegerField(required=False, allow_null=True)
    odometer_on = serializers.DateField(required=False, allow_null=True)
    dealer = serializers.PrimaryKeyRelatedField(
        queryset=Dealer.objects.all(),
        required=False,
        help_text="The dealer registering the vehicle (OEM-level staff); default: the user's.",
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"].queryset = owners


class VehicleUpdateSerializer(VehicleWriteSerializer):
    version = serializers.IntegerField(
        help_text="The version you read; a stale one answers 409 stale_version."
    )


class OdometerWriteSerializer(StrictSerializer):
    km = serializers.IntegerField()
    read_on = serializers.DateField(required=False, help_text="Default: today.")
    source = serializers.ChoiceField(
        choices=OdometerSource.choices, required=False, default=OdometerSource.MANUAL
    )


class TransferSerializer(StrictSerializer):
    new_owner = serializers.IntegerField(help_text="Id of the customer who now owns it.")
    on_date = serializers.DateField(required=False, help_text="Default: today.")
    version = serializers.IntegerField(
        help_text="The vehicle version you read; a stale one answers 409 stale_version."
    )


# ---------------------------------------------------------------- output


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as staff see it: PII masked as the user's roles require."""

    mobile = serializers.SerializerMethodField()
    phone2 = serializers.SerializerMethodField()
    id_number = serializers.CharField(
        source="id_number_masked",
        read_only=True,
        help_text="Always masked (first 6 and last 4); reveal-id returns the full number.",
    )
    tags = serializers.SerializerMethodField()
    segment_display = serializers.CharField(source="get_segment_display", read_only=True)
    contact_channel_display = serializers.CharField(
        source="get_contact_channel_display", read_only=True
    )
    # a plain string in the schema: an enum named after the field would clash with the
    # odometer readings' "source" enum (spectacular names enum components by field name)
    source = serializers.CharField(
        read_only=True, help_text="One of: " + ", ".join(CustomerSource.values) + "."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "mobile",
            "phone2",
            "id_number",
            "birthday",
            "gender",
            "email",
            "city",
            "address",
            "contact_channel",
            "contact_channel_display",
            "quiet_from",
            "quiet_until",
            "marketing_consent",
            "marketing_consent_at",
            "tags",
            "segment",
            "segment_display",
            "segment_at",
            "loyalty_points",
            "notes",
            "source",
            "origin_dealer",
            "merged_into",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_mobile(self, customer) -> str:
        return _shown_phone(self.context, customer.mobile)

    def get_phone2(self, customer) -> str:
        return _shown_phone(self.context, customer.phone2) if customer.phone2 else ""

    def get_tags(self, customer) -> list[str]:
        return [tag.name for tag in customer.tags.all()]


class CustomerBriefSerializer(serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "name", "mobile"]

    def get_mobile(self, customer) -> str:
        return _shown_phone(self.context, customer.mobile)


class WarrantyStatusSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    vehicle_until = serializers.DateField(allow_null=True)
    vehicle_km = serializers.IntegerField(allow_null=True)
    vehicle_in_warranty = serializers.BooleanField()
    powertrain_until = serializers.DateField(allow_null=True)
    powertrain_km = serializers.IntegerField(allow_null=True)
    powertrain_in_warranty = serializers.BooleanField()


def _in_warranty(until, km_limit, odometer) -> bool:
    if until is None or until < timezone.localdate():
        return False
    return not (km_limit and odometer and odometer > km_limit)


def warranty_status(vehicle: Vehicle) -> dict:
    """Whether the vehicle and its powertrain are under warranty today: time and distance,
    whichever runs out first."""
    return {
        "start": vehicle.warranty_start,
        "vehicle_until": vehicle.warranty_end,
        "vehicle_km": vehicle.warranty_km,
        "vehicle_in_warranty": _in_warranty(
            vehicle.warranty_end, vehicle.warranty_km, vehicle.odometer_km
        ),
        "powertrain_until": vehicle.powertrain_warranty_end,
        "powertrain_km": vehicle.powertrain_warranty_km,
        "powertrain_in_warranty": _in_warranty(
            vehicle.powertrain_warranty_end, vehicle.powertrain_warranty_km, vehicle.odometer_km
        ),
    }


class _VehicleBase(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    variant_name = serializers.CharField(source="variant.name", read_only=True)
    model_year = serializers.IntegerField(source="variant.model_year", read_only=True)
    fuel_type = serializers.CharField(source="variant.fuel_type", read_only=True)
    in_warranty = serializers.SerializerMethodField()

    base_fields = [
        "id",
        "vin",
        "plate",
        "variant",
        "variant_name",
        "model",
        "model_year",
        "fuel_type",
        "colour",
        "engine_number",
        "sale_date",
        "invoice_date",
        "selling_dealer",
        "warranty_start",
        "warranty_end",
        "warranty_km",
        "powertrain_warranty_end",
        "powertrain_warranty_km",
        "in_warranty",
        "insurance_expiry",
        "last_inspection",
        "odometer_km",
        "odometer_on",
        "version",
        "created_at",
        "updated_at",
    ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
            },
        }
    )
    def get_model(self, vehicle) -> dict:
        model = vehicle.variant.vehicle_model
        return {"id": model.pk, "code": model.code, "name": model.name}

    def get_in_warranty(self, vehicle) -> bool:
        """Under the whole-vehicle warranty today (by date)."""
        return bool(vehicle.warranty_end and vehicle.warranty_end >= timezone.localdate())


class VehicleSerializer(_VehicleBase):
    owner_name = serializers.CharField(source="owner.name", read_only=True, default="")

    class Meta:
        model = Vehicle
        fields = [*_VehicleBase.base_fields, "owner", "owner_name"]
        read_only_fields = fields


class OwnedVehicleSerializer(_VehicleBase):
    """A vehicle in its owner's 360 view, with its latest odometer readings."""

    class Meta:
        model = Vehicle
        fields = _VehicleBase.base_fields
        read_only_fields = fields


class OdometerReadingSerializer(serializers.ModelSerializer):
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = OdometerReading
        fields = [
            "id",
            "vehicle",
            "km",
            "read_on",
            "source",
            "source_display",
            "dealer",
            "recorded_by",
            "recorded_by_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_recorded_by_name(self, reading) -> str:
        if reading.recorded_by_id is None:
            return ""
        names = self.context.get("user_names")
        if names is not None:  # loaded in one query by the caller
            return names.get(reading.recorded_by_id, "")
        user = reading.recorded_by
        if user is None:
            return ""
        return getattr(user, "display_name", "") or user.get_username()


class OwnershipSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    vehicle_label = serializers.CharField(source="vehicle.__str__", read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = Ownership
        fields = [
            "id",
            "vehicle",
            "vehicle_label",
            "customer",
            "customer_name",
            "started_on",
            "ended_on",
            "reason",
            "reason_display",
        ]
        read_only_fields = fields


class CustomerTagSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerTag
        fields = ["id", "name"]


class ServiceVisitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    dealer_name = serializers.CharField(source="dealer.name", read_only=True)
    vehicle_label = serializers.CharField(source="vehicle.__str__", read_only=True)

    class Meta:
        model = ServiceVisit
        fields = [
            "id",
            "customer",
            "vehicle",
            "vehicle_label",
            "dealer",
            "dealer_name",
            "visited_on",
            "kind",
            "kind_display",
            "amount",
            "odometer_km",
            "reference",
        ]
        read_only_fields = fields


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="The source, e.g. crm.odometer.")
    title = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField()


class Customer360Serializer(serializers.Serializer):
    """Schema of the customer 360 (built by the view from ``selectors.customer_360``)."""

    customer = CustomerSerializer()
    segment = serializers.CharField()
    segment_display = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    visit_count = serializers.IntegerField()
    vehicles = OwnedVehicleSerializer(many=True)
    ownerships = OwnershipSerializer(many=True)
    odometer = OdometerReadingSerializer(many=True)
    timeline = TimelineEntrySerializer(many=True)
    timeline_next_before = serializers.DateTimeField(
        allow_null=True,
        help_text="Pass as ?before= to read the next (older) page of the timeline; "
        "null at the end.",
    )


class RevealSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text="The full resident ID number (audited).")


class DuplicateSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["same_mobile", "same_id", "similar_mobile_same_name"]
        )
    )


class DuplicateListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DuplicateSerializer(many=True)


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["customer", "vehicle"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    match = serializers.CharField(
        help_text="What matched: mobile, name, plate, vin, vin_tail or id_number."
    )
    rank = serializers.IntegerField(help_text="Higher is a better match; results come best first.")
    customer_id = serializers.IntegerField(allow_null=True)


class SearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = SearchHitSerializer(many=True)


class ReceptionCardSerializer(serializers.Serializer):
    """What reception sees of a vehicle found by exact VIN or plate, wherever it was sold."""

    id = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    colour = serializers.CharField()
    brand = serializers.CharField()
    model = serializers.CharField()
    variant = serializers.CharField()
    model_year = serializers.IntegerField()
    fuel_type = serializers.CharField()
    odometer_km = serializers.IntegerField(allow_null=True)
    sale_date = serializers.DateField(allow_null=True)
    selling_dealer = serializers.CharField(allow_null=True)
    warranty = WarrantyStatusSerializer()
    owner_name = serializers.CharField()
    owner_mobile = serializers.CharField(help_text="Always masked.")
    dealer_relationship = serializers.BooleanField(
        help_text="The user's dealer already sold or serviced this vehicle."
    )
    can_open = serializers.BooleanField(
        help_text="The user may open the full vehicle and customer records."
    )

    def to_representation(self, vehicle):
        variant = vehicle.variant
        owner = vehicle.owner
        return {
            "id": vehicle.pk,
            "vin": vehicle.vin,
            "plate": vehicle.plate,
            "colour": vehicle.colour,
            "brand": variant.vehicle_model.brand.name,
            "model": variant.vehicle_model.name,
            "variant": variant.name,
            "model_year": variant.model_year,
            "fuel_type": variant.fuel_type,
            "odometer_km": vehicle.odometer_km,
            "sale_date": _iso(vehicle.sale_date),
            "selling_dealer": vehicle.selling_dealer.name if vehicle.selling_dealer else None,
            "warranty": {k: _iso(v) for k, v in warranty_status(vehicle).items()},
            "owner_name": owner.name if owner else "",
            "owner_mobile": mask_mobile(owner.mobile) if owner else "",
            "dealer_relationship": self.context["dealer_relationship"],
            "can_open": self.context["can_open"],
        }


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.date) else value
