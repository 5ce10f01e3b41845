"""Forms of the labour catalogue and workshop set-up pages. They convert and present;
the services in ``labour`` validate the business rules."""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from aftersales.catalogue.models import Variant, VehicleModel
from aftersales.workorders.choices import BayKind, OperationCategory, PayType, WarrantyScope

_TEXT = {"class": "form-control form-control-lg"}
_SELECT = {"class": "form-select form-select-lg"}
_NUMBER = {"class": "form-control form-control-lg", "inputmode": "decimal"}
_CHECK = {"class": "form-check-input"}


def add_service_errors(form, exc):
    """Show a service's refusal on the form: on its fields when they are the form's,
    always as the form's message."""
    known = set(form.fields)
    for name, messages in (exc.fields or {}).items():
        for message in messages:
            if name in known:
                form.add_error(name, message)
    form.add_error(None, str(exc.message))


class OperationSearchForm(forms.Form):
    q = forms.CharField(
        label=_l("Code or name"),
        required=False,
        widget=forms.TextInput(attrs={**_TEXT, "type": "search"}),
    )
    category = forms.ChoiceField(
        label=_l("Category"),
        required=False,
        choices=[("", _l("All categories")), *OperationCategory.choices],
        widget=forms.Select(attrs=_SELECT),
    )


class OperationForm(forms.Form):
    code = forms.CharField(
        label=_l("Operation code"), max_length=20, widget=forms.TextInput(attrs=_TEXT)
    )
    name = forms.CharField(label=_l("Name"), max_length=100, widget=forms.TextInput(attrs=_TEXT))
    name_en = forms.CharField(
        label=_l("English name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
    )
    category = forms.ChoiceField(
        label=_l("Category"), choices=OperationCategory.choices, widget=forms.Select(attrs=_SELECT)
    )
    warranty_scope = forms.ChoiceField(
        label=_l("Warranty"),
        choices=WarrantyScope.choices,
        initial=WarrantyScope.VEHICLE,
        widget=forms.Select(attrs=_SELECT),
        help_text=_l("Maintenance work is never under warranty."),
    )
    default_hours = forms.DecimalField(
        label=_l("Standard hours"),
        min_value=Decimal("0.01"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_NUMBER, "step": "0.01"}),
    )
    active = forms.BooleanField(
        label=_l("Active"), required=False, initial=True, widget=forms.CheckboxInput(attrs=_CHECK)
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class LabourTimeForm(forms.Form):
    vehicle_model = forms.ModelChoiceField(
        label=_l("Vehicle model"),
        queryset=VehicleModel.objects.none(),
        widget=forms.Select(attrs=_SELECT),
    )
    variant = forms.ModelChoiceField(
        label=_l("Variant"),
        queryset=Variant.objects.none(),
        required=False,
        empty_label=_l("Every variant of the model"),
        widget=forms.Select(attrs=_SELECT),
    )
    hours = forms.DecimalField(
        label=_l("Standard hours"),
        min_value=Decimal("0.01"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_NUMBER, "step": "0.01"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle_model"].queryset = VehicleModel.objects.order_by("code")
        self.fields["variant"].queryset = Variant.objects.select_related("vehicle_model").order_by(
            "vehicle_model__code", "-model_year", "code"
        )


_PART_LINE = re.compile(r"^\s*(?P<number>[^\s×xX*]+)\s*(?:[×xX*]\s*)?(?P<qty>[\d.]+)?\s*$")


class PackageForm(forms.Form):
    code = forms.CharField(label=_l("Code"), max_length=20, widget=forms.TextInput(attrs=_TEXT))
    name = forms.CharField(label=_l("Name"), max_length=100, widget=forms.TextInput(attrs=_TEXT))
    name_en = forms.CharField(
        label=_l("English name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
    )
    vehicle_model = forms.ModelChoiceField(
        label=_l("Vehicle model"),
        queryset=VehicleModel.objects.none(),
        required=False,
        empty_label=_l("Every model"),
        widget=forms.Select(attrs=_SELECT),
    )
    interval_km = forms.IntegerField(
        label=_l("Every (km)"), required=False, min_value=1, widget=forms.NumberInput(attrs=_NUMBER)
    )
    interval_months = forms.IntegerField(
        label=_l("Every (months)"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    active = forms.BooleanField(
        label=_l("Active"), required=False, initial=True, widget=forms.CheckboxInput(attrs=_CHECK)
    )
    operations = forms.CharField(
        label=_l("Operations"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 4}),
        help_text=_l("Operation codes, one per line or separated by commas."),
    )
    parts = forms.CharField(
        label=_l("Parts"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 4}),
        help_text=_l("One part per line: part number and quantity, e.g. 10000011 × 4."),
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle_model"].queryset = VehicleModel.objects.order_by("code")
        if editing:
            del self.fields["code"]

    def clean_operations(self):
        from aftersales.workorders.models import LabourOperation

        codes = [
            c.strip().upper() for c in re.split(r"[\s,;，、]+", self.cleaned_data["operations"])
        ]
        codes = [c for c in codes if c]
        found = {op.code: op for op in LabourOperation.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise forms.ValidationError(
                _("Unknown operation codes: %(codes)s") % {"codes": ", ".join(missing)}
            )
        return [found[c] for c in codes]

    def clean_parts(self):
        from aftersales.parts.models import Part

        wanted = []
        for line in self.cleaned_data["parts"].splitlines():
            if not line.strip():
                continue
            match = _PART_LINE.match(line)
            if not match:
                raise forms.ValidationError(
                    _("Write each part as its number and quantity: %(line)s") % {"line": line}
                )
            wanted.append((match["number"], match["qty"] or "1"))
        found = {p.number: p for p in Part.objects.filter(number__in=[n for n, _q in wanted])}
        missing = [n for n, _q in wanted if n not in found]
        if missing:
            raise forms.ValidationError(
                _("Unknown part numbers: %(numbers)s") % {"numbers": ", ".join(missing)}
            )
        return [(found[n], q) for n, q in wanted]


def package_initial(package) -> dict:
    return {
        "name": package.name,
        "name_en": package.name_en,
        "vehicle_model": package.vehicle_model_id,
        "interval_km": package.interval_km,
        "interval_months": package.interval_months,
        "active": package.active,
        "operations": "\n".join(po.operation.code for po in package.operations.all()),
        "parts": "\n".join(
            f"{pp.part.number} × {pp.quantity.normalize():f}" for pp in package.parts.all()
        ),
    }


class RatesForm(forms.Form):
    """One rate per pay type (an empty box leaves that rate as it is)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in PayType.choices:
            self.fields[value] = forms.DecimalField(
                label=label,
                required=False,
                min_value=Decimal("0"),
                max_digits=12,
                decimal_places=2,
                widget=forms.NumberInput(attrs={**_NUMBER, "step": "0.01"}),
            )


class BayForm(forms.Form):
    code = forms.CharField(label=_l("Code"), max_length=10, widget=forms.TextInput(attrs=_TEXT))
    name = forms.CharField(label=_l("Name"), max_length=40, widget=forms.TextInput(attrs=_TEXT))
    kind = forms.ChoiceField(
        label=_l("Kind"), choices=BayKind.choices, widget=forms.Select(attrs=_SELECT)
    )


class BayEditForm(forms.Form):
    name = forms.CharField(label=_l("Name"), max_length=40, widget=forms.TextInput(attrs=_TEXT))
    kind = forms.ChoiceField(
        label=_l("Kind"), choices=BayKind.choices, widget=forms.Select(attrs=_SELECT)
    )
    active = forms.BooleanField(
        label=_l("Active"), required=False, widget=forms.CheckboxInput(attrs=_CHECK)
    )


class SettingsForm(forms.Form):
    follow_up_after_hours = forms.IntegerField(
        label=_l("Follow-up call opens after (hours)"),
        min_value=0,
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    follow_up_due_hours = forms.IntegerField(
        label=_l("Follow-up call due within (hours)"),
        min_value=0,
        widget=forms.NumberInput(attrs=_NUMBER),
        help_text=_l("Counted from the delivery: 24 hours to 7 days."),
    )
    follow_up_attempts = forms.IntegerField(
        label=_l("Call attempts before giving up"),
        min_value=0,
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    low_score = forms.IntegerField(
        label=_l("Alert the service manager at scores up to"),
        min_value=0,
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    comeback_days = forms.IntegerField(
        label=_l("Comeback window (days)"),
        min_value=0,
        widget=forms.NumberInput(attrs=_NUMBER),
        help_text=_l("A new order for the same vehicle and concern within it is a comeback."),
    )
    workday_start = forms.TimeField(
        label=_l("Workshop opens"), widget=forms.TimeInput(attrs={**_TEXT, "type": "time"})
    )
    workday_end = forms.TimeField(
        label=_l("Workshop closes"), widget=forms.TimeInput(attrs={**_TEXT, "type": "time"})
    )


def settings_initial(settings) -> dict:
    return {name: getattr(settings, name) for name in SettingsForm.base_fields}
