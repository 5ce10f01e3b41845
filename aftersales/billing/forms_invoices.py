"""Forms of the invoice pages: the draft's fapiao details and discounts, issuing, the
credit note, and the dealer's billing settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.billing.choices import BuyerType, InvoiceStatus
from aftersales.billing.setup import LIMIT_ROLES
from aftersales.org.roles import Role
from aftersales.workorders.choices import PayType

TEXT = {"class": "form-control form-control-lg"}
MONEY = {"class": "form-control form-control-lg text-end", "inputmode": "decimal", "step": "0.01"}


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("Invoice or RO number, payer")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *InvoiceStatus.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    pay_type = forms.ChoiceField(
        label=_("Payer"),
        required=False,
        choices=[("", _("All payers")), *PayType.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    repair_order = forms.IntegerField(required=False, widget=forms.HiddenInput)


class InvoiceEditForm(forms.Form):
    """The draft's buyer and payer fields, its invoice discount and one discount field
    per line (``discount_<line id>``)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    buyer_type = forms.ChoiceField(
        label=_("Buyer type"),
        choices=BuyerType.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    title = forms.CharField(
        label=_("Invoice title"), max_length=100, required=False, widget=forms.TextInput(TEXT)
    )
    taxpayer_id = forms.CharField(
        label=_("Taxpayer ID"),
        max_length=30,
        required=False,
        help_text=_("18-character unified social credit code (company buyers)."),
        widget=forms.TextInput({**TEXT, "autocapitalize": "characters", "spellcheck": "false"}),
    )
    buyer_address_phone = forms.CharField(
        label=_("Address and phone"), max_length=200, required=False, widget=forms.TextInput(TEXT)
    )
    buyer_bank_account = forms.CharField(
        label=_("Bank and account"), max_length=200, required=False, widget=forms.TextInput(TEXT)
    )
    payer_name = forms.CharField(
        label=_("Payer name"), max_length=100, required=False, widget=forms.TextInput(TEXT)
    )
    insurer = forms.CharField(
        label=_("Insurer"), max_length=100, required=False, widget=forms.TextInput(TEXT)
    )
    insurance_claim_number = forms.CharField(
        label=_("Insurance claim / report number"),
        max_length=50,
        required=False,
        widget=forms.TextInput(TEXT),
    )
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, widget=forms.TextInput(TEXT)
    )
    invoice_discount = forms.DecimalField(
        label=_("Invoice discount (incl. VAT)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(MONEY),
    )

    def __init__(self, *args, invoice, **kwargs):
        self.invoice = invoice
        super().__init__(*args, **kwargs)
        if invoice.pay_type != PayType.INSURANCE:
            del self.fields["insurer"]
            del self.fields["insurance_claim_number"]
        self.line_fields = []
        for line in invoice.lines.all():
            name = f"discount_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=line.description,
                min_value=0,
                max_digits=12,
                decimal_places=2,
                required=False,
                initial=line.discount_amount,
                widget=forms.NumberInput(MONEY),
            )
            self.line_fields.append((line, name))

    def discount_fields(self):
        return [self[name] for _line, name in self.line_fields]

    def line_discounts(self) -> dict:
        return {
            line.pk: self.cleaned_data[name]
            for line, name in self.line_fields
            if self.cleaned_data.get(name) is not None
        }

    def field_values(self) -> dict:
        names = [
            "buyer_type",
            "title",
            "taxpayer_id",
            "buyer_address_phone",
            "buyer_bank_account",
            "payer_name",
            "insurer",
            "insurance_claim_number",
            "note",
        ]
        return {n: self.cleaned_data[n] for n in names if n in self.fields}


class IssueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CreditNoteForm(forms.Form):
    """Either the whole invoice, or an amount per line (``amount_<line id>``)."""

    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.TextInput(TEXT))
    full = forms.BooleanField(
        label=_("Credit the whole remaining amount"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, invoice, remaining: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line in invoice.lines.all():
            left = remaining.get(line.pk)
            name = f"amount_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=line.description,
                min_value=0,
                max_digits=12,
                decimal_places=2,
                required=False,
                widget=forms.NumberInput({**MONEY, "max": str(left)}),
            )
            self.line_fields.append((line, name, left))

    def requested_lines(self) -> list[dict]:
        return [
            {"invoice_line": line.pk, "amount": self.cleaned_data[name]}
            for line, name, _left in self.line_fields
            if self.cleaned_data.get(name)
        ]


class BillingSettingsForm(forms.Form):
    vat_rate_percent = forms.DecimalField(
        label=_("VAT rate (%)"),
        min_value=0,
        max_value=100,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(MONEY),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in LIMIT_ROLES:
            self.fields[f"limit_{role}"] = forms.DecimalField(
                label=_("Largest discount of the %(role)s (%%)") % {"role": Role(role).label},
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
                widget=forms.NumberInput(MONEY),
            )

    def limits(self) -> dict:
        return {str(role): self.cleaned_data[f"limit_{role}"] for role in LIMIT_ROLES}
