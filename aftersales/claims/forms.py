"""Forms of the claim pages (the services check everything again)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.claims.models import CauseCode, SymptomCode


class ClaimEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    vin = forms.CharField(label=_("VIN"), max_length=30, required=False)
    odometer_km = forms.IntegerField(label=_("odometer (km)"), min_value=0, required=False)
    failure_date = forms.DateField(
        label=_("failure date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    causal_part = forms.CharField(
        label=_("causal part"), max_length=40, required=False, help_text=_("Part number.")
    )
    symptom_code = forms.ModelChoiceField(
        label=_("symptom code"),
        queryset=SymptomCode.objects.filter(active=True),
        to_field_name="code",
        required=False,
    )
    cause_code = forms.ModelChoiceField(
        label=_("cause code"),
        queryset=CauseCode.objects.filter(active=True),
        to_field_name="code",
        required=False,
    )
    description = forms.CharField(
        label=_("failure description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)

    @classmethod
    def for_claim(cls, claim, data=None):
        initial = {
            "version": claim.version,
            "vin": claim.vin,
            "odometer_km": claim.odometer_km,
            "failure_date": claim.failure_date,
            "causal_part": claim.causal_part.number if claim.causal_part_id else "",
            "symptom_code": claim.symptom_code,
            "cause_code": claim.cause_code,
            "description": claim.description,
        }
        return cls(data, initial=initial)

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version")
        data["causal_part"] = data["causal_part"] or None
        return data
