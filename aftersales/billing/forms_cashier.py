"""Forms of the cashier screen, the cash closing and the reports page. Amounts are typed
in yuan; the services check them again (two places, not more than due...). Each money
form carries a fresh idempotency key rendered with it, so a double-click or a resent form
is recorded once."""

import datetime
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.billing.choices import PaymentMethod
from aftersales.billing.deposits import DEPOSIT_METHODS
from aftersales.billing.reports import REPORTS

_MONEY_ATTRS = {
    "class": "form-control form-control-lg text-end",
    "inputmode": "decimal",
    "step": "0.01",
    "min": "0",
    "autocomplete": "off",
}


def _money(label, required=True, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs=_MONEY_ATTRS),
    )


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())


class PaymentForm(KeyedForm):
    method = forms.ChoiceField(
        label=_("Method"),
        choices=PaymentMethod.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-lg", "data-role": "method"}),
    )
    amount = _money(_("Amount"))
    tendered = _money(
        _("Cash handed over"), required=False, help_text=_("Cash only: the change is worked out.")
    )
    reference = forms.CharField(
        label=_("Trade number / slip"),
        required=False,
        max_length=60,
        help_text=_("Required for WeChat Pay and Alipay."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    deposit = forms.TypedChoiceField(
        label=_("Deposit"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, deposits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit"].choices = [("", "—")] + [
            (d.pk, f"{d.number} · {d.available}") for d in deposits
        ]


class RefundForm(KeyedForm):
    amount = _money(_("Amount to refund"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class DepositForm(KeyedForm):
    method = forms.ChoiceField(
        label=_("Paid by"),
        choices=[(m, PaymentMethod(m).label) for m in DEPOSIT_METHODS],
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    amount = _money(_("Deposit"))
    reference = forms.CharField(
        label=_("Trade number / slip"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


class ClosingForm(forms.Form):
    counted_cash = _money(_("Cash counted in the drawer"))
    reason = forms.CharField(
        label=_("Reason for the difference"),
        required=False,
        max_length=300,
        help_text=_("Required when the counted cash differs from the expected cash."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class ReportForm(forms.Form):
    report = forms.ChoiceField(
        label=_("Report"),
        choices=list(REPORTS.items()),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    dealer = forms.TypedChoiceField(
        label=_("Dealer"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, dealers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dealer"].choices = [("", _("All I may see"))] + [
            (d.pk, f"{d.code} {d.name}") for d in dealers
        ]

    def clean(self):
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - datetime.timedelta(days=6)
        if since > until:
            self.add_error("since", _("The start is after the end."))
        elif (until - since).days > 365:
            self.add_error("since", _("Choose a period of at most a year."))
        data["since"], data["until"] = since, until
        return data
