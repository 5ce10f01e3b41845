"""Forms of the complaint pages. They render the inputs and parse what the browser sends;
the services (``aftersales.complaints.services``) check everything again (permission,
status, the rules of the OEM), and their refusals are shown next to the form."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.complaints.choices import (
    CaseKind,
    Category,
    Channel,
    ClosureCondition,
    FollowUpOutcome,
    Grade,
    Responsibility,
    StepKind,
)

# The channels a member of the customer-service centre records (the owner's app files
# by itself).
AGENT_CHANNELS = [(v, label) for v, label in Channel.choices if v != Channel.OWNER_APP]
JUDGE_DECISIONS = [
    ("invalid", _("Invalid: answer the customer and close")),
    ("resolved", _("Valid, resolved at once: answer the customer and close")),
    ("to_file", _("Valid: to be filed as a formal complaint")),
]
YES_NO = [("", "—"), ("yes", _("Yes, a quality defect exists")), ("no", _("No defect"))]


def new_key() -> str:
    """A fresh idempotency key for a form that creates something (a double submit
    creates once)."""
    return uuid.uuid4().hex


def style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.HiddenInput, forms.CheckboxInput, forms.RadioSelect)):
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)
    return form


def _text(label, *, required=True, rows=3, max_length=4000, **kwargs):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


def _amount(label, *, required=False):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


def _days(label, *, required=False, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=60,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class VersionedForm(StyledForm):
    """A form acting on the complaint as the user saw it (a stale version is refused)."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DealerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class UserChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.username})"


# ---------------------------------------------------------------- intake


class ReceiveForm(StyledForm):
    """A complaint as it arrives: the agent records any channel; a dealer's staff forward
    one (the channel is then "forwarded by a dealer" and the dealer their own)."""

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    vehicle = forms.IntegerField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Channel"), choices=AGENT_CHANNELS)
    dealer = DealerChoiceField(
        label=_("Dealer"),
        queryset=None,
        required=False,
        empty_label="—",
        help_text=_("The dealer that forwarded the complaint, or the one it is about."),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=60, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=120)
    description = _text(_("The customer's words"), rows=4)
    expectation = _text(_("What the customer asks for"), required=False, rows=2)

    def __init__(self, *args, dealers=None, forward_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dealer"].queryset = dealers
        if forward_only:
            self.fields["channel"].choices = [(Channel.DEALER, Channel.DEALER.label)]
            self.fields["channel"].initial = Channel.DEALER
            self.fields["dealer"].required = True
            self.fields["dealer"].empty_label = None

    def clean(self):
        data = super().clean()
        if not data.get("contact_name") and not data.get("vehicle"):
            self.add_error("contact_name", _("Name the contact or find the vehicle."))
        return data


class JudgeForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("Judgement"), choices=JUDGE_DECISIONS, widget=forms.RadioSelect
    )
    judgement = _text(
        _("What was checked"),
        required=False,
        rows=2,
        help_text=_("Required unless the complaint is to be filed."),
    )
    reply = _text(
        _("Reply to the customer"),
        required=False,
        rows=2,
        help_text=_("Required when the complaint is answered and closed."),
    )


# ---------------------------------------------------------------- filing and assignment


class FileForm(VersionedForm):
    category = forms.ChoiceField(label=_("Type"), choices=Category.choices)
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    limit_days = _days(
        _("Stricter time limit (working days)"),
        help_text=_("Empty: the grade's limit. Never longer than it."),
    )


class AssignForm(VersionedForm):
    region = forms.ModelChoiceField(label=_("Region"), queryset=None, empty_label="—")
    dealer = DealerChoiceField(label=_("Handling dealer"), queryset=None, empty_label="—")
    plan_days = _days(
        _("Plan due in (working days)"),
        help_text=_("Empty: the OEM's default."),
    )

    def __init__(self, *args, regions=None, dealers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["dealer"].queryset = dealers


class LimitForm(VersionedForm):
    limit_days = _days(_("Time limit (working days)"), required=True)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class StepOpenForm(VersionedForm):
    kind = forms.ChoiceField(
        label=_("Support"),
        choices=[(StepKind.VRT, StepKind.VRT.label), (StepKind.PROPOSAL, StepKind.PROPOSAL.label)],
    )
    members = UserChoiceField(
        label=_("VRT members"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("For a VRT: the OEM staff who investigate."),
    )
    departments = forms.CharField(label=_("Departments"), max_length=200, required=False)
    limit_days = _days(_("Due in (working days)"), help_text=_("Empty: the OEM's default."))

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members


class StepRecordForm(StyledForm):
    step = forms.IntegerField(widget=forms.HiddenInput)
    no_result = forms.BooleanField(
        label=_("No result possible (escalates the complaint)"), required=False
    )
    defect_exists = forms.ChoiceField(label=_("Quality defect"), choices=YES_NO, required=False)
    responsibility = forms.ChoiceField(
        label=_("Responsibility"),
        choices=[("", "—"), *Responsibility.choices],
        required=False,
    )
    conclusion = _text(_("Conclusion"), required=False)
    solution = _text(_("Solution / proposal"), required=False)

    def defect(self):
        return {"yes": True, "no": False}.get(self.cleaned_data.get("defect_exists"))


class StepForm(StyledForm):
    step = forms.IntegerField(widget=forms.HiddenInput)


class PlanForm(VersionedForm):
    plan = _text(_("Handling plan"))
    goodwill_amount = _amount(_("Goodwill asked for (CNY)"))


class ExecutionForm(VersionedForm):
    report = _text(_("What was done"))


class CommentForm(StyledForm):
    text = _text(_("Comment"), rows=2)


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class LongReasonForm(VersionedForm):
    reason = _text(_("Reason"), rows=2)


class EscalateForm(VersionedForm):
    amount = _amount(_("Goodwill involved (CNY)"))
    note = _text(_("Why escalate"), rows=2)


class DecideForm(StyledForm):
    escalation = forms.IntegerField(widget=forms.HiddenInput)
    decision = _text(_("Decision"), rows=2)
    approved_amount = _amount(_("Approved goodwill (CNY)"))


class CloseForm(VersionedForm):
    condition = forms.ChoiceField(
        label=_("Closure condition"),
        choices=ClosureCondition.choices,
        widget=forms.RadioSelect,
    )
    evidence = _text(_("Evidence"), rows=2, help_text=_("What shows the condition was met."))


class FollowUpForm(StyledForm):
    follow_up = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUpOutcome.choices)
    score = forms.TypedChoiceField(
        label=_("Satisfaction (1-5)"),
        choices=[("", "—"), *[(str(n), str(n)) for n in range(5, 0, -1)]],
        required=False,
        coerce=int,
        empty_value=None,
    )
    remarks = _text(_("Remarks"), required=False, rows=2)
    care_action = forms.CharField(label=_("Care action"), max_length=200, required=False)


# ---------------------------------------------------------------- legal cases


class CaseForm(StyledForm):
    kind = forms.ChoiceField(label=pgettext_lazy("legal case", "Kind"), choices=CaseKind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    complaint_numbers = forms.CharField(
        label=_("Complaints"),
        max_length=500,
        help_text=_("Complaint numbers, separated by spaces or commas."),
    )
    body = forms.CharField(
        label=_("Court, arbitration body or media"), max_length=120, required=False
    )
    opened_on = forms.DateField(
        label=_("Opened"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    staff = UserChoiceField(
        label=_("Legal / PR staff"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    description = _text(_("Description"), required=False)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff

    def numbers(self) -> list[str]:
        raw = self.cleaned_data.get("complaint_numbers", "")
        return [n.strip().upper() for n in raw.replace(",", " ").replace("，", " ").split() if n]


class CaseUpdateForm(StyledForm):
    hearing_on = forms.DateField(
        label=_("Hearing / next date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    outcome = _text(_("Outcome"), required=False, rows=2)
    closed_on = forms.DateField(
        label=_("Closed on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Set to close the case (the outcome is required)."),
    )
    staff = UserChoiceField(
        label=_("Legal / PR staff"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff


# ---------------------------------------------------------------- settings

WEIGHT_KEYS = [
    ("on_time", _("On-time rate")),
    ("count", _("Number of complaints")),
    ("repeat", _("Repeat complaints")),
    ("escalated", _("Escalations")),
    ("satisfaction", _("Satisfaction")),
]


class SettingsForm(StyledForm):
    urgent_days = _days(_("Urgent: working days"), required=True)
    general_days = _days(_("General: working days"), required=True)
    major_days = _days(_("Major: working days"), required=True)
    warn_at = forms.CharField(
        label=_("Warn at (per cent of the time used)"),
        max_length=60,
        help_text=_("Percentages between 1 and 99, separated by commas, e.g. 50, 80."),
    )
    pause_allowed = forms.BooleanField(
        label=_("Waiting for the customer may pause the clock"), required=False
    )
    vrt_days = _days(_("VRT conclusion: working days"), required=True)
    plan_days = _days(_("Dealer plan: working days"), required=True)
    follow_up_days = forms.IntegerField(
        label=_("Satisfaction follow-up after (working days)"),
        min_value=0,
        max_value=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in WEIGHT_KEYS:
            self.fields[f"weight_{key}"] = forms.IntegerField(
                label=label,
                min_value=0,
                max_value=100,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "form-control"}),
            )

    @classmethod
    def initial_from(cls, row):
        initial = {name: getattr(row, name) for name in cls.base_fields if name != "warn_at"}
        initial["warn_at"] = ", ".join(str(v) for v in row.warn_at)
        for key, _label in WEIGHT_KEYS:
            initial[f"weight_{key}"] = (row.assessment_weights or {}).get(key, 0)
        return initial

    def weight_fields(self):
        return [self[f"weight_{key}"] for key, _label in WEIGHT_KEYS]

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {
            name: data[name]
            for name in (
                "urgent_days",
                "general_days",
                "major_days",
                "vrt_days",
                "plan_days",
                "pause_allowed",
                "follow_up_days",
            )
        }
        raw = data["warn_at"].replace("，", ",").replace("%", "")
        changes["warn_at"] = [part.strip() for part in raw.split(",") if part.strip()]
        changes["assessment_weights"] = {key: data[f"weight_{key}"] for key, _l in WEIGHT_KEYS}
        return changes


class GoodwillRowForm(StyledForm):
    max_amount = _amount(_("Up to (CNY)"))
    role = forms.ChoiceField(label=_("Decided by"), choices=())

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "—"), *roles]


GoodwillFormSet = forms.formset_factory(GoodwillRowForm, extra=1, max_num=10)
