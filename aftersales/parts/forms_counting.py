"""Forms of the stocktake and transfer pages."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.parts.models import Bin, Warehouse


def new_key() -> str:
    return uuid.uuid4().hex


class StocktakeStartForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    bins = forms.ModelMultipleChoiceField(
        label=_("Bins"),
        queryset=Bin.objects.none(),
        required=False,
        help_text=_("Leave empty to count the whole warehouse."),
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 8}),
    )
    blind = forms.BooleanField(
        label=_("Blind count"),
        required=False,
        initial=True,
        help_text=_("Counters do not see the expected quantity."),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses
        self.fields["bins"].queryset = (
            Bin.objects.filter(warehouse__in=warehouses, active=True)
            .select_related("warehouse")
            .order_by("warehouse__code", "code")
        )
        self.fields["bins"].label_from_instance = lambda b: f"{b.warehouse.code} / {b.code}"

    def clean(self):
        data = super().clean()
        warehouse, bins = data.get("warehouse"), data.get("bins") or []
        if warehouse is not None and any(b.warehouse_id != warehouse.pk for b in bins):
            self.add_error("bins", _("Choose bins of the chosen warehouse only."))
        return data


class TransferRequestForm(forms.Form):
    from_warehouse = forms.ModelChoiceField(
        label=_("From warehouse"),
        queryset=Warehouse.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    to_warehouse = forms.ModelChoiceField(
        label=_("To warehouse"),
        queryset=Warehouse.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, sources, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_warehouse"].queryset = sources
        self.fields["to_warehouse"].queryset = targets
        for name in ("from_warehouse", "to_warehouse"):
            self.fields[name].label_from_instance = lambda w: f"{w.dealer.code} / {w.code} {w.name}"
        self.initial.setdefault("idempotency_key", new_key())
