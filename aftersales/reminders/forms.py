"""Forms of the reminder pages: the worklist's filters, the call
screen's outcome and booking forms, and the set-up forms (rules, inspection schedule,
campaigns, recalls, runs). They parse what the browser sends; the services validate
everything again and their refusals are shown next to the form."""

import datetime
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.appointments.choices import ServiceType
from aftersales.reminders.choices import CampaignScope, ReminderKind, ReminderStatus, TaskKind

MAX_UPLOAD = 2 * 1024 * 1024  # a VIN list of ~100,000 lines


def new_key() -> str:
    """A fresh idempotency key for a form that acts once (a double submit acts once)."""
    return uuid.uuid4().hex


def style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.HiddenInput, forms.RadioSelect)):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
    return form


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


def _date(label, *, required=True, **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def _time(label):
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )


def _number(label, *, min_value=1, max_value=None, required=True, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=max_value,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


# ---------------------------------------------------------------- worklist

TODO = "todo"  # the worklist's default: open, and not reached with calls left
STATUS_FILTERS = [
    (TODO, _("To call")),
    ("all", _("All")),
    *ReminderStatus.choices,
]


class WorklistFilterForm(StyledForm):
    """The worklist's filters (GET). Unknown values fall back to the defaults."""

    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    kind = forms.ChoiceField(
        label=_("Reminder"),
        required=False,
        choices=[("", _("All kinds")), *ReminderKind.choices],
    )
    task = forms.ChoiceField(
        label=_("Task"),
        required=False,
        choices=[("", _("Both tasks")), *TaskKind.choices],
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTERS)
    due_from = _date(_("Due from"), required=False)
    due_to = _date(_("Due until"), required=False)
    agent = forms.CharField(label=_("Agent"), required=False)
    dealer = forms.TypedChoiceField(label=_("Dealer"), required=False, coerce=int, choices=())
    mine = forms.BooleanField(label=_("Mine only"), required=False)

    def __init__(self, *args, dealers=(), **kwargs):
        super().__init__(*args, **kwargs)
        # the view fills in the agents of the dealers shown
        self.fields["agent"].widget = forms.Select(
            choices=[("", _("Anyone")), ("none", pgettext_lazy("agent", "Not assigned"))],
            attrs={"class": "form-select"},
        )
        self.fields["dealer"].choices = [("", _("All dealers"))] + [
            (d.pk, f"{d.code} {d.name}") for d in dealers
        ]

    def clean_month(self):
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        try:
            return datetime.date.fromisoformat(f"{raw[:7]}-01")
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None

    def clean_agent(self):
        raw = (self.cleaned_data.get("agent") or "").strip()
        if raw in ("", "none") or raw.isdigit():
            return raw
        raise forms.ValidationError(_("Choose an agent."))


# ---------------------------------------------------------------- call screen

CALL_OUTCOMES = [
    (ReminderStatus.REMINDED, _("Reminded")),
    (ReminderStatus.NOT_REACHED, _("Not reached")),
    (ReminderStatus.DECLINED, _("Declined")),
    (ReminderStatus.WRONG_NUMBER, _("Wrong number")),
]


class CallForm(StyledForm):
    """One call's outcome other than "booked" (booking has its own form with the slot)."""

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CALL_OUTCOMES, widget=forms.RadioSelect)
    retry_at = forms.DateTimeField(
        label=_("Call again at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Not reached only; empty: tomorrow at this time."),
    )
    note = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        retry = data.get("retry_at")
        if retry is not None and data.get("outcome") != ReminderStatus.NOT_REACHED:
            data["retry_at"] = None  # the field is on the screen for every outcome
        elif retry is not None and retry <= timezone.now():
            self.add_error("retry_at", _("Choose a time in the future."))
        return data


class BookForm(StyledForm):
    """Booked on the call: one of the offered free times at the reminder's dealer."""

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    day = _date(_("Preferred day"))
    starts_at = forms.DateTimeField(
        label=pgettext_lazy("booking", "Time"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"],
    )
    concern = forms.CharField(
        label=_("Concern"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(label=_("Confirmed with the customer"), required=False)
    note = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("starts_at") is None:
            self.add_error("starts_at", _("Choose one of the free times."))
        return data


SERVICE_FOR_KIND = {
    ReminderKind.FIRST_SERVICE: ServiceType.MAINTENANCE,
    ReminderKind.MAINTENANCE: ServiceType.MAINTENANCE,
    ReminderKind.WARRANTY: ServiceType.MAINTENANCE,
    ReminderKind.INSURANCE: ServiceType.MAINTENANCE,
    ReminderKind.INSPECTION: ServiceType.INSPECTION,
    ReminderKind.BIRTHDAY: ServiceType.MAINTENANCE,
    ReminderKind.CAMPAIGN: ServiceType.CAMPAIGN,
    ReminderKind.RECALL: ServiceType.CAMPAIGN,
}


# ---------------------------------------------------------------- set-up


class SettingsForm(StyledForm):
    return_window_days = _number(_("Returned within (days after the due date)"), max_value=365)
    default_km_per_day = _number(
        _("Default distance per day (km)"),
        max_value=500,
        help_text=_("Used when a vehicle's odometer history is too thin for an estimate."),
    )
    min_km_per_day = _number(_("Lowest estimate (km per day)"), max_value=500)
    max_km_per_day = _number(_("Highest estimate (km per day)"), max_value=2000)
    history_days = _number(_("Estimate from the readings of the last (days)"), min_value=30)
    min_history_days = _number(_("Readings must span at least (days)"))
    lapsed_after_months = _number(_("Stop maintenance reminders after (months overdue)"))
    quiet_from = _time(_("No calls or messages from"))
    quiet_until = _time(_("No calls or messages until"))

    @classmethod
    def initial_from(cls, row):
        return {name: getattr(row, name) for name in cls.base_fields}


class InspectionStepForm(StyledForm):
    from_month = _number(_("From month"), required=False)
    until_month = _number(_("Until month"), required=False)
    every_months = _number(_("Every (months)"), required=False)
    on_site = forms.BooleanField(label=_("On-site test"), required=False)

    def step(self):
        data = self.cleaned_data
        if data.get("from_month") is None and data.get("every_months") is None:
            return None  # an empty row
        return {
            "from_month": data.get("from_month"),
            "until_month": data.get("until_month"),
            "every_months": data.get("every_months"),
            "on_site": data.get("on_site", False),
        }


InspectionFormSet = forms.formset_factory(InspectionStepForm, extra=2, max_num=20)


class ModelChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}" if getattr(obj, "code", "") else str(obj)


class CampaignForm(StyledForm):
    """A campaign and its target. Model years are typed (so a wrong one reaches the
    service, which says what is wrong with it)."""

    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=CampaignScope.choices)
    dealer = forms.TypedChoiceField(label=_("Dealer"), coerce=int, required=False, choices=())
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on"))
    vehicle_models = ModelChoices(
        label=_("Vehicle models"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    model_years = forms.CharField(
        label=_("Model years"),
        required=False,
        max_length=200,
        help_text=_("Separated by commas, e.g. 2022, 2023."),
    )
    regions = ModelChoices(
        label=_("Regions"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    last_visit_before = _date(
        _("Last visit before"),
        required=False,
        help_text=_("Vehicles not seen at any dealer since this day."),
    )
    active = forms.BooleanField(label=_("Running"), required=False, initial=True)

    def __init__(self, *args, dealers=(), national=True, editing=False, **kwargs):
        from aftersales.catalogue.models import VehicleModel
        from aftersales.org.models import Region

        super().__init__(*args, **kwargs)
        self.fields["vehicle_models"].queryset = VehicleModel.objects.order_by("code")
        self.fields["regions"].queryset = Region.objects.order_by("code")
        self.fields["dealer"].choices = [("", "—")] + [
            (d.pk, f"{d.code} {d.name}") for d in dealers
        ]
        if not national:
            self.fields["scope"].choices = [
                c for c in CampaignScope.choices if c[0] == CampaignScope.LOCAL
            ]
        if editing:
            for name in ("code", "scope", "dealer"):
                self.fields[name].required = False
                self.fields[name].disabled = True
        else:
            del self.fields["active"]

    def clean_model_years(self):
        raw = self.cleaned_data.get("model_years") or ""
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]


class RecallWorkForm(StyledForm):
    """Recall work done on one vehicle, recorded by hand."""

    vin = forms.CharField(label=_("VIN"), max_length=17, min_length=17)
    done_on = _date(_("Work done on"))
    order = forms.CharField(
        label=_("Repair order number"),
        max_length=40,
        required=False,
        help_text=_("The order the work was done on; without one only the OEM may record it."),
    )


class RecallForm(StyledForm):
    """A recall from a VIN list typed or pasted, or uploaded as a text/CSV file (the first
    column of each line)."""

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(label=_("Code"), max_length=30)
    title = forms.CharField(label=_("Title"), max_length=100)
    remedy = forms.CharField(
        label=_("Remedy"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    starts_on = _date(_("Starts on"))
    operation = forms.ModelChoiceField(
        label=_("Labour operation of the recall work"),
        queryset=None,
        required=False,
        help_text=_(
            "A repair order delivered with this operation finished marks the vehicle done."
        ),
    )
    vin_list = forms.CharField(
        label=_("VIN list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "form-control font-monospace"}),
        help_text=_("One VIN a line."),
    )
    vin_file = forms.FileField(
        label=_("…or a file"),
        required=False,
        help_text=_("A text or CSV file: one VIN a line (the first column)."),
    )

    def __init__(self, *args, **kwargs):
        from aftersales.workorders.models import LabourOperation

        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = LabourOperation.objects.filter(active=True)

    def clean(self):
        data = super().clean()
        upload = data.get("vin_file")
        text = data.get("vin_list") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                self.add_error("vin_file", _("The file is larger than 2 MB."))
                return data
            raw = upload.read()
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    decoded = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                self.add_error("vin_file", _("The file is not text."))
                return data
            lines = [line.split(",")[0].strip().strip('"') for line in decoded.splitlines()]
            text = "\n".join(lines)
        if not text.strip():
            self.add_error("vin_list", _("Give the VIN list."))
        data["vins"] = text
        return data


class RunForm(StyledForm):
    month = forms.CharField(
        label=_("Month"), widget=forms.TextInput(attrs={"type": "month"}), max_length=7
    )
    dealer = forms.TypedChoiceField(label=_("Dealer"), coerce=int, required=False, choices=())

    def __init__(self, *args, dealers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dealer"].choices = [("", _("Every dealer"))] + [
            (d.pk, f"{d.code} {d.name}") for d in dealers
        ]

    def clean_month(self):
        raw = (self.cleaned_data.get("month") or "").strip()
        try:
            return datetime.date.fromisoformat(f"{raw[:7]}-01")
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None
