"""Forms of the CRM staff pages. They only shape the input (types, widgets, labels); the
business rules (identifier formats, uniqueness, dates, odometer order) live in
``services``, whose field errors the views put back next to the fields."""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.crm.choices import ContactChannel, OdometerSource, OwnershipReason, Segment

_TAG_SEPARATORS = re.compile(r"[,，、;；\n]")


class BootstrapForm(forms.Form):
    """Gives every widget its Bootstrap class and marks fields with errors invalid."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-invalid"] = "true"

    def add_service_errors(self, exc, aliases=None):
        """Put a service's ``ValidationFailed`` (or any ``ServiceError``) onto the form:
        field messages next to their fields (``aliases`` maps service field names to form
        field names), the rest at the top."""
        fields = getattr(exc, "fields", None) or {}
        for name, messages in fields.items():
            name = (aliases or {}).get(name, name)
            messages = messages if isinstance(messages, list | tuple) else [messages]
            for message in messages:
                self.add_error(name if name in self.fields else None, str(message))
        if not fields:
            self.add_error(None, str(exc.message))


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in _TAG_SEPARATORS.split(text or "") if t.strip()]


class CustomerForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("Mainland mobile number, 11 digits."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    phone2 = forms.CharField(label=_("Other phone"), max_length=20, required=False)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=30,
        required=False,
        help_text=_("18 characters. Stored encrypted and shown masked; fills in the birthday."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    contact_channel = forms.ChoiceField(
        label=_("Preferred contact channel"), choices=ContactChannel.choices
    )
    quiet_from = forms.TimeField(
        label=_("Do not disturb from"), required=False, widget=_time_widget()
    )
    quiet_until = forms.TimeField(
        label=_("Do not disturb until"), required=False, widget=_time_widget()
    )
    marketing_consent = forms.BooleanField(label=_("Agrees to marketing messages"), required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=300,
        help_text=_("Separate tags with commas, e.g. VIP, fleet."),
        widget=forms.TextInput(attrs={"list": "known-tags", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    SERVICE_FIELDS = (
        "name",
        "mobile",
        "phone2",
        "id_number",
        "email",
        "city",
        "address",
        "contact_channel",
        "quiet_from",
        "quiet_until",
        "marketing_consent",
        "tags",
        "notes",
    )

    def service_data(self, names=None) -> dict:
        """The cleaned values, in the shape the services take."""
        data = {}
        for name in names if names is not None else self.SERVICE_FIELDS:
            value = self.cleaned_data.get(name)
            if name == "tags":
                value = split_tags(value)
            data[name] = value
        return data


class CustomerEditForm(CustomerForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None and customer.id_number_masked:
            self.fields["id_number"].help_text = _(
                "Now %(masked)s. Leave empty to keep it; type a new number to replace it."
            ) % {"masked": customer.id_number_masked}

    def changed_service_fields(self) -> list[str]:
        changed = [n for n in self.changed_data if n in self.SERVICE_FIELDS]
        if "id_number" in changed and not self.cleaned_data.get("id_number"):
            changed.remove("id_number")  # empty keeps the stored number
        if "tags" in changed:
            before = split_tags(str(self.initial.get("tags", "")))
            if before == split_tags(self.cleaned_data.get("tags")):
                changed.remove("tags")
        return changed


class CustomerFilterForm(BootstrapForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    city = forms.CharField(label=_("City"), required=False, max_length=50)

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("All tags"))] + [(t.name, t.name) for t in tags]


def variant_label(variant) -> str:
    """The variant's name, with its model year unless the name already says it."""
    year = str(variant.model_year)
    return variant.name if year in variant.name else f"{year} {variant.name}"


class VariantChoiceField(forms.ChoiceField):
    """The catalogue's variants, grouped by model (one query, when the form is built)."""

    def __init__(self, variants, **kwargs):
        groups: dict[str, list] = {}
        for variant in variants:
            model = variant.vehicle_model
            groups.setdefault(model.name, []).append(
                (str(variant.pk), f"{variant_label(variant)} ({variant.engine})")
            )
        choices = [("", _("Choose a variant"))] + list(groups.items())
        super().__init__(choices=choices, **kwargs)


class VehicleForm(BootstrapForm):
    vin = forms.CharField(
        label=_("VIN"),
        max_length=30,
        help_text=_("17 characters, no I, O or Q; the 9th is a check digit."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace"}),
    )
    plate = forms.CharField(
        label=_("Plate number"),
        max_length=12,
        required=False,
        help_text=_("e.g. 京A12345, or 8 characters for new-energy vehicles (京AD12345)."),
    )
    variant = forms.ChoiceField(label=_("Model and variant"))
    colour = forms.CharField(label=_("Colour"), max_length=20, required=False)
    engine_number = forms.CharField(label=_("Engine number"), max_length=30, required=False)
    sale_date = forms.DateField(label=_("Sale date"), required=False, widget=_date_widget())
    invoice_date = forms.DateField(
        label=_("Invoice date (开票日期)"),
        required=False,
        widget=_date_widget(),
        help_text=_("Warranty runs from this date (or the sale date)."),
    )
    selling_dealer = forms.ModelChoiceField(
        label=_("Selling dealer"), queryset=None, required=False, empty_label=_("Not known")
    )
    insurance_expiry = forms.DateField(
        label=_("Insurance expires"), required=False, widget=_date_widget()
    )
    last_inspection = forms.DateField(
        label=_("Last annual inspection"), required=False, widget=_date_widget()
    )

    SERVICE_FIELDS = (
        "vin",
        "plate",
        "variant",
        "colour",
        "engine_number",
        "sale_date",
        "invoice_date",
        "selling_dealer",
        "insurance_expiry",
        "last_inspection",
    )

    def __init__(self, *args, variants=(), dealers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"] = VariantChoiceField(
            variants, label=_("Model and variant"), widget=forms.Select(attrs={"class": ""})
        )
        self.fields["variant"].widget.attrs["class"] = "form-select"
        self.fields["selling_dealer"].queryset = dealers
        self.fields["selling_dealer"].widget.attrs["class"] = "form-select"

    def service_data(self, names=None) -> dict:
        return {n: self.cleaned_data.get(n) for n in (names or self.SERVICE_FIELDS)}


class VehicleCreateForm(VehicleForm):
    odometer_km = forms.IntegerField(
        label=_("Odometer now (km)"), required=False, min_value=0, max_value=2_000_000
    )


class VehicleEditForm(VehicleForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def changed_service_fields(self) -> list[str]:
        return [n for n in self.changed_data if n in self.SERVICE_FIELDS]


class OwnerLookupForm(BootstrapForm):
    mobile = forms.CharField(
        label=_("Owner's mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


class VehicleFilterForm(BootstrapForm):
    q = forms.CharField(label=_("Plate or VIN"), required=False, max_length=20)
    model = forms.ChoiceField(label=_("Model"), required=False)
    warranty = forms.ChoiceField(
        label=_("Warranty"),
        required=False,
        choices=[("", _("Any warranty")), ("in", _("In warranty")), ("out", _("Out of warranty"))],
    )

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All models"))] + [
            (str(m.pk), m.name) for m in models
        ]


_READING_SOURCES = [
    (s.value, s.label)
    for s in (
        OdometerSource.RECEPTION,
        OdometerSource.MANUAL,
        OdometerSource.OWNER,
        OdometerSource.INSPECTION,
    )
]


class OdometerForm(BootstrapForm):
    km = forms.IntegerField(
        label=_("Odometer (km)"),
        min_value=0,
        max_value=2_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    read_on = forms.DateField(label=_("Read on"), widget=_date_widget())
    source = forms.ChoiceField(label=_("Source"), choices=_READING_SOURCES)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"read_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class TransferForm(BootstrapForm):
    mobile = forms.CharField(
        label=_("New owner's mobile number"),
        max_length=20,
        help_text=_("The new owner must already be one of your customers."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    on_date = forms.DateField(label=_("Transfer date"), widget=_date_widget())
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            (OwnershipReason.TRANSFER.value, OwnershipReason.TRANSFER.label),
            (OwnershipReason.CORRECTION.value, OwnershipReason.CORRECTION.label),
        ],
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("on_date", timezone.localdate())
        super().__init__(*args, **kwargs)


class MergeForm(BootstrapForm):
    survivor = forms.TypedChoiceField(label=_("Keep"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, pair=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [(c.pk, c.name) for c in pair]
        self.fields["survivor"].widget.attrs["class"] = "form-check-input"


class SegmentRuleForm(BootstrapForm):
    window_months = forms.IntegerField(
        label=_("Count visits of the last (months)"), min_value=1, max_value=120
    )
    at_risk_after_days = forms.IntegerField(
        label=_("At risk after (days without a visit)"), min_value=1, max_value=3650
    )
    lost_after_days = forms.IntegerField(
        label=_("Lost after (days without a visit)"), min_value=1, max_value=3650
    )
    loyal_min_visits = forms.IntegerField(
        label=_("Loyal: at least (visits)"), min_value=1, max_value=1000
    )
    loyal_min_amount = forms.DecimalField(
        label=_("Loyal: at least (CNY spent)"), min_value=0, max_digits=12, decimal_places=2
    )
    regular_min_visits = forms.IntegerField(
        label=_("Regular: at least (visits)"), min_value=1, max_value=1000
    )


def parse_before(value: str | None):
    """The ``?before=`` cursor of the timeline: an ISO date-time, or None when absent or
    unreadable (the newest entries are shown then)."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
