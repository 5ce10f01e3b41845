"""Forms of the customer-care pages. They render the inputs and parse what the browser
sends; the services check everything again (permission, terms, state) and their refusals
are shown next to the form."""

import datetime
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.care.choices import CouponKind, CouponReason

OEM_CHOICE = "oem"


def new_key() -> str:
    return uuid.uuid4().hex


def style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
    return form


def _amount(label, *, required=False, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


class IssueForm(forms.Form):
    """A goodwill coupon for one customer, found by mobile number."""

    mobile = forms.CharField(
        label=_("Customer's mobile number"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    issuer = forms.ChoiceField(label=_("Issued by"))
    amount = _amount(_("Amount off (yuan)"), help_text=_("Either an amount or a percentage."))
    percent = forms.DecimalField(
        label=_("Percentage off labour and parts"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    min_spend = _amount(_("Minimum spend (yuan)"))
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.ChoiceField(
        label=_("Why"), choices=CouponReason.choices, initial=CouponReason.GOODWILL
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, issuers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].choices = list(issuers)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())
            self.initial.setdefault(
                "valid_until", timezone.localdate() + datetime.timedelta(days=90)
            )
        style(self)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for voiding"), max_length=200)


class RedeemForm(forms.Form):
    """The cashier's form: the repair order and the code the customer shows."""

    order = forms.CharField(
        label=_("Repair order number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("Coupon code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())
        style(self)


class CouponTemplateFields(forms.Form):
    coupon_kind = forms.ChoiceField(label=_("Coupon"), choices=CouponKind.choices, required=False)
    coupon_amount = _amount(_("Coupon amount (yuan)"))
    coupon_percent = forms.DecimalField(
        label=_("Coupon percentage"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    coupon_min_spend = _amount(_("Coupon minimum spend (yuan)"))
    coupon_valid_days = forms.IntegerField(
        label=_("Coupon valid for (days)"), min_value=1, max_value=366, initial=30
    )

    def template(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in CouponTemplateFields.base_fields}


class HolidayForm(CouponTemplateFields):
    name = forms.CharField(label=_("Holiday"), max_length=60)
    date = forms.DateField(
        label=_("Day it is sent"), widget=forms.DateInput(attrs={"type": "date"})
    )
    text = forms.CharField(
        label=_("Greeting text"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
    target = forms.ChoiceField(label=_("Sent to"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = ["name", "date", "text", "target"]

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = list(targets)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())
        self.order_fields(self.field_order)
        style(self)


class SettingsForm(CouponTemplateFields):
    birthday_enabled = forms.BooleanField(label=_("Send birthday greetings"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["birthday_enabled"])
        style(self)
