"""Forms of the reception pages. The services validate everything again; these forms
render the inputs and parse what the browser sends."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.workorders.choices import ROKind
from aftersales.workorders.models import PhotoKind


def new_key() -> str:
    """A fresh idempotency key for a form that creates something (a double submit acts
    once)."""
    return uuid.uuid4().hex


class LookupForm(forms.Form):
    q = forms.CharField(
        label=_("Plate or VIN"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg",
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": _("Scan or type the plate or the full VIN"),
            }
        ),
    )


class OpenForm(forms.Form):
    vehicle = forms.IntegerField(widget=forms.HiddenInput)
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind of visit"),
        choices=ROKind.choices,
        initial=ROKind.REPAIR,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    concern = forms.CharField(
        label=_("Customer's concern (in their words)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )
    contact_name = forms.CharField(
        label=_("Brought in by"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    contact_mobile = forms.CharField(
        label=_("Contact mobile"),
        required=False,
        max_length=20,
        help_text=_("Empty: the owner's mobile."),
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}),
    )


class PhotoForm(forms.Form):
    image = forms.FileField(label=_("Photo"))
    kind = forms.ChoiceField(label=_("Kind"), choices=PhotoKind.choices)
    caption = forms.CharField(label=_("Caption"), required=False, max_length=200)
