"""Forms of the booking pages. They render the inputs and parse what the browser sends;
the services (``appointments.bookings``, ``crm.services``) validate everything again and
their refusals are shown on the page."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.appointments.choices import Channel, ServiceType
from aftersales.workorders.choices import FuelLevel

# The channels a member of staff records; "reminder" is the owner's own link.
STAFF_CHANNELS = [(value, label) for value, label in Channel.choices if value != "reminder"]


def new_key() -> str:
    """A fresh idempotency key for a form that creates something (a double submit books
    once)."""
    return uuid.uuid4().hex


def _style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.HiddenInput, forms.CheckboxInput, forms.RadioSelect)):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class OperationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name} ({obj.default_hours} h)"


class PackageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class BookingForm(forms.Form):
    """A booking taken by an advisor or a DCRC agent for a vehicle already found."""

    vehicle = forms.IntegerField(widget=forms.HiddenInput)
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    package = PackageChoiceField(
        label=_("Maintenance package"),
        queryset=None,
        required=False,
        empty_label=_("No package"),
    )
    operations = OperationChoiceField(
        label=_("Operations"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or touch) to choose several; none: the usual hours."),
    )
    concern = forms.CharField(
        label=_("Concern"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    contact_name = forms.CharField(label=_("Contact"), required=False, max_length=50)
    contact_mobile = forms.CharField(
        label=_("Contact mobile"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    day = forms.DateField(
        label=_("Preferred day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    starts_at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    confirm = forms.BooleanField(label=_("Confirmed with the customer"), required=False)

    def __init__(self, *args, **kwargs):
        from aftersales.workorders.models import LabourOperation, MaintenancePackage

        super().__init__(*args, **kwargs)
        self.fields["operations"].queryset = LabourOperation.objects.filter(active=True).order_by(
            "category", "code"
        )
        self.fields["package"].queryset = MaintenancePackage.objects.filter(active=True).order_by(
            "code"
        )
        _style(self)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("starts_at") is None:
            self.add_error("starts_at", _("Choose one of the free times."))
        return data


class QuickVehicleForm(forms.Form):
    """A new customer and their car in one go, when the plate or VIN found nothing."""

    name = forms.CharField(label=_("Customer name"), max_length=50)
    mobile = forms.CharField(
        label=_("Mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    vin = forms.CharField(
        label=_("VIN"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "class": "form-control font-monospace"}
        ),
    )
    plate = forms.CharField(label=_("Plate number"), max_length=12, required=False)
    variant = forms.ChoiceField(label=_("Model and variant"))

    def __init__(self, *args, variants=(), **kwargs):
        from aftersales.crm.forms import VariantChoiceField

        super().__init__(*args, **kwargs)
        self.fields["variant"] = VariantChoiceField(variants, label=_("Model and variant"))
        _style(self)


class CheckInForm(forms.Form):
    """What the advisor records when the booked car arrives."""

    odometer_km = forms.IntegerField(
        label=_("Odometer (km)"),
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    fuel_level = forms.ChoiceField(label=_("Fuel / charge level"), choices=FuelLevel.choices)
    covers_installed = forms.BooleanField(
        label=_("Protective covers installed"), required=False, initial=True
    )
    odometer_reason = forms.CharField(
        label=_("Reason for a lower reading"), required=False, max_length=200
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200)


class PublicBookingForm(forms.Form):
    """The owner's own booking from their link: a free time, and optionally a word."""

    starts_at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"],
    )
    concern = forms.CharField(
        label=_("Anything we should know?"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    contact_mobile = forms.CharField(
        label=_("Mobile to reach you"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("starts_at") is None:
            self.add_error("starts_at", _("Choose one of the free times."))
        return data
