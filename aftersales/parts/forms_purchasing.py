"""Forms of the purchasing pages. They check the shape of the input; the services in
``parts.purchasing`` and ``parts.reorder`` check the rules and their errors are shown on
the form (``add_service_errors``)."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.parts.choices import PurchaseOrderStatus
from aftersales.parts.models import Bin, Warehouse


class ServiceErrorsMixin:
    def add_service_errors(self, exc):
        placed = False
        for field, messages in (exc.fields or {}).items():
            if field in self.fields:
                for message in messages:
                    self.add_error(field, message)
                placed = True
        if not placed or exc.message:
            self.add_error(None, str(exc.message))


def _control(widget, css="form-control"):
    widget.attrs.setdefault("class", css)
    return widget


def new_key() -> str:
    return uuid.uuid4().hex


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Order number"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + list(PurchaseOrderStatus.choices),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.none(),
        empty_label=_("All"),
    )

    def __init__(self, *args, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = (
            warehouses if warehouses is not None else Warehouse.objects.none()
        )
        for name in ("q",):
            _control(self.fields[name].widget)
        _control(self.fields["status"].widget, "form-select")
        _control(self.fields["warehouse"].widget, "form-select")


class PurchaseOrderForm(ServiceErrorsMixin, forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.none())
    expected_on = forms.DateField(
        label=_("Expected delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    urgent = forms.BooleanField(label=_("Urgent order"), required=False)
    allow_over_receipt = forms.BooleanField(
        label=_("Allow over-receipt"),
        required=False,
        help_text=_("Accept deliveries larger than ordered (e.g. packs of a fixed size)."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = (
            warehouses if warehouses is not None else Warehouse.objects.none()
        )
        _control(self.fields["warehouse"].widget, "form-select")
        _control(self.fields["expected_on"].widget)
        _control(self.fields["note"].widget)
        for name in ("urgent", "allow_over_receipt"):
            _control(self.fields[name].widget, "form-check-input")
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())


class ScanForm(forms.Form):
    """A part number or part barcode (typed or scanned) and how many."""

    code = forms.CharField(label=_("Part number or barcode"), max_length=60)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=2, min_value=0.01, initial=1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _control(self.fields["code"].widget)
        self.fields["code"].widget.attrs.update(
            {"autofocus": True, "autocomplete": "off", "class": "form-control font-monospace"}
        )
        _control(self.fields["quantity"].widget)


class LineQuantityForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=2)


class StockLevelsForm(ServiceErrorsMixin, forms.Form):
    min_qty = forms.DecimalField(
        label=_("Minimum (reorder point)"), max_digits=12, decimal_places=2
    )
    max_qty = forms.DecimalField(label=_("Maximum (refill to)"), max_digits=12, decimal_places=2)
    default_bin = forms.ModelChoiceField(
        label=_("Default bin"), required=False, queryset=Bin.objects.none()
    )

    def __init__(self, *args, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        if item is not None:
            self.fields["default_bin"].queryset = Bin.objects.filter(
                warehouse_id=item.warehouse_id, active=True
            ).order_by("code")
        _control(self.fields["min_qty"].widget)
        _control(self.fields["max_qty"].widget)
        _control(self.fields["default_bin"].widget, "form-select")
