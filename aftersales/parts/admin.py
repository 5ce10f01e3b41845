"""The OEM administrator maintains the parts catalogue in the Django admin (audited)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from aftersales.core.admin import AuditedAdminMixin
from aftersales.parts.lookup import number_key, supersession_chain
from aftersales.parts.models import Fitment, Part, PartCategory


@admin.register(PartCategory)
class PartCategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]


class FitmentForm(forms.ModelForm):
    class Meta:
        model = Fitment
        fields = ["vehicle_model", "variant", "year_from", "year_to"]

    def clean(self):
        data = super().clean()
        model, variant = data.get("vehicle_model"), data.get("variant")
        if model and variant and variant.vehicle_model_id != model.pk:
            raise forms.ValidationError(
                _("Variant %(variant)s is not a variant of %(model)s.")
                % {"variant": variant, "model": model}
            )
        year_from, year_to = data.get("year_from"), data.get("year_to")
        if year_from and year_to and year_from > year_to:
            raise forms.ValidationError(_("The first model year is after the last one."))
        return data


class FitmentInline(admin.TabularInline):
    model = Fitment
    form = FitmentForm
    extra = 0
    fields = ["vehicle_model", "variant", "year_from", "year_to"]
    autocomplete_fields = ["variant"]


class PartForm(forms.ModelForm):
    class Meta:
        model = Part
        exclude = []  # noqa: DJ006 - the admin's fieldsets decide what shows

    def clean_superseded_by(self):
        new = self.cleaned_data.get("superseded_by")
        if new is not None and self.instance.pk:
            if new.pk == self.instance.pk or any(
                p.pk == self.instance.pk for p in supersession_chain(new)
            ):
                raise forms.ValidationError(
                    _("%(number)s already leads back to this part: supersession would loop.")
                    % {"number": new.number}
                )
        return new


@admin.register(Part)
class PartAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = PartForm
    list_display = [
        "number",
        "name",
        "name_en",
        "category",
        "unit",
        "list_price",
        "dealer_cost",
        "superseded_by",
        "wear_part",
        "universal",
        "active",
    ]
    list_filter = ["category", "active", "wear_part", "universal"]
    search_fields = ["=number", "=barcode", "name", "name_en"]
    list_select_related = ["category", "superseded_by"]
    raw_id_fields = ["superseded_by"]
    inlines = [FitmentInline]

    def save_model(self, request, obj, form, change):
        # numbers are stored as their lookup key: upper case, no spaces or dashes
        obj.number = number_key(obj.number)
        obj.barcode = (obj.barcode or "").strip() or None
        super().save_model(request, obj, form, change)
