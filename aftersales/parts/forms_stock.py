"""Forms of the stock pages: the stock list filters, manual movements (scanner friendly),
warehouses and bins, reports."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.parts.models import PartCategory, Warehouse
from aftersales.parts.reports import DEAD_DAYS

_SELECT = {"class": "form-select"}
_TEXT = {"class": "form-control"}


def new_key() -> str:
    return uuid.uuid4().hex


class StockFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={**_TEXT, "placeholder": _("Number, name, barcode or bin"), "autofocus": True}
        ),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.none(),
        required=False,
        empty_label=_("All warehouses"),
        widget=forms.Select(attrs=_SELECT),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=PartCategory.objects.all(),
        required=False,
        empty_label=_("All categories"),
        widget=forms.Select(attrs=_SELECT),
    )
    low = forms.BooleanField(
        label=_("Below minimum"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses


class MovementForm(forms.Form):
    """One line of a manual movement. ``part`` and ``bin`` take what a scanner types:
    a part number or barcode, a bin label (BIN:<id>) or bin code."""

    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    part = forms.CharField(
        label=_("Part"),
        max_length=40,
        widget=forms.TextInput(
            attrs={**_TEXT, "class": "form-control font-monospace", "autocomplete": "off"}
        ),
    )
    bin = forms.CharField(
        label=_("Bin"),
        max_length=30,
        required=False,
        widget=forms.TextInput(
            attrs={**_TEXT, "class": "form-control font-monospace", "autocomplete": "off"}
        ),
    )
    to_bin = forms.CharField(
        label=_("To bin"),
        max_length=30,
        required=False,
        widget=forms.TextInput(
            attrs={**_TEXT, "class": "form-control font-monospace", "autocomplete": "off"}
        ),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_TEXT, "step": "any", "inputmode": "decimal"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, warehouses=None, kind="issue", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses
        self.kind = kind
        if kind != "relocate":
            del self.fields["to_bin"]
        else:
            self.fields["bin"].label = _("From bin")
            self.fields["bin"].required = True
            self.fields["to_bin"].required = True
            del self.fields["reason"]
        if kind == "adjust":
            self.fields["reason"].required = True
            self.fields["quantity"].help_text = _(
                "Positive adds units (found), negative removes them (damaged, lost)."
            )

    def add_service_errors(self, exc):
        known = set(self.fields)
        for name, messages in (exc.fields or {}).items():
            for message in messages:
                self.add_error(name if name in known else None, message)
        if not exc.fields or not set(exc.fields) & known:
            self.add_error(None, str(exc.message))
        elif str(exc.message) not in [str(e) for e in self.non_field_errors()]:
            self.add_error(None, str(exc.message))


class WarehouseForm(forms.Form):
    dealer = forms.ModelChoiceField(
        label=_("Dealer"), queryset=None, widget=forms.Select(attrs=_SELECT)
    )
    code = forms.CharField(label=_("Code"), max_length=20, widget=forms.TextInput(attrs=_TEXT))
    name = forms.CharField(label=_("Name"), max_length=60, widget=forms.TextInput(attrs=_TEXT))

    def __init__(self, *args, dealers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dealer"].queryset = dealers


class BinAddForm(forms.Form):
    codes = forms.CharField(
        label=_("Bins"),
        max_length=2000,
        help_text=_("One code, several separated by commas, or a range: A-01-01..A-01-10."),
        widget=forms.TextInput(
            attrs={
                **_TEXT,
                "class": "form-control font-monospace",
                "placeholder": "A-01-01..A-01-10",
            }
        ),
    )


class ReportFilterForm(forms.Form):
    dealer = forms.ModelChoiceField(
        label=_("Dealer"),
        queryset=None,
        required=False,
        empty_label=_("All my dealers"),
        widget=forms.Select(attrs=_SELECT),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.none(),
        required=False,
        empty_label=_("All warehouses"),
        widget=forms.Select(attrs=_SELECT),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={**_TEXT, "type": "date"})
    )
    until = forms.DateField(
        label=_("To (exclusive)"),
        required=False,
        widget=forms.DateInput(attrs={**_TEXT, "type": "date"}),
    )
    days = forms.IntegerField(
        label=_("No movement for (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        initial=DEAD_DAYS,
        widget=forms.NumberInput(attrs=_TEXT),
    )

    def __init__(self, *args, dealers=None, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dealer"].queryset = dealers
        self.fields["warehouse"].queryset = warehouses

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("Must be after the start."))
        return data
