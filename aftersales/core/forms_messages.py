"""The form of the OEM's message template page (SPEC §12). It parses what the browser
sends (WeChat data fields as ``key=value`` lines or a JSON object); whether the text fits
its event is decided by ``aftersales.core.contact.message_template_save``, whose refusal is
shown on the field."""

import json
import uuid

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from aftersales.core.contact import events
from aftersales.core.models import MessageChannel


def new_key() -> str:
    """A fresh idempotency key for a form that acts once (a double submit acts once)."""
    return uuid.uuid4().hex


def parse_wechat_fields(raw: str) -> dict:
    """``{"thing1": "{customer_name}"}`` or ``thing1={customer_name}`` lines (blank lines
    ignored) as a dict; ``ValueError`` with the reason when neither."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(_("Not valid JSON.")) from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(_("Give a JSON object of data keys and texts."))
        return value
    fields = {}
    for number, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, text = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                _("Line %(n)d: write key=text, e.g. thing1={customer_name}.") % {"n": number}
            )
        fields[key.strip()] = text.strip()
    return fields


def format_wechat_fields(fields: dict) -> str:
    return "\n".join(f"{key}={text}" for key, text in (fields or {}).items())


class MessageTemplateForm(forms.Form):
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    event = forms.ChoiceField(label=_("Event"))
    channel = forms.ChoiceField(label=_("Channel"), choices=MessageChannel.choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Write each variable of the event in braces, e.g. {customer_name}."),
    )
    wechat_template_id = forms.CharField(
        label=_("WeChat template id"), max_length=64, required=False
    )
    wechat_fields = forms.CharField(
        label=_("WeChat data fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text=_(
            "One data key of the WeChat template per line as key=text, "
            "e.g. thing1={customer_name}; or a JSON object."
        ),
    )
    sms_template_code = forms.CharField(label=_("SMS template code"), max_length=40, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        known = sorted(events().values(), key=lambda e: e.name)
        self.fields["event"].choices = [(e.name, f"{e.label} ({e.name})") for e in known]
        chosen = (self.initial or {}).get("event")
        if chosen and chosen not in dict(self.fields["event"].choices):
            self.fields["event"].choices.append((chosen, chosen))  # no longer registered
        if editing:  # the event, channel and language name the template: kept as they are
            for name in ("event", "channel", "language"):
                self.fields[name].disabled = True
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()

    def clean_wechat_fields(self):
        try:
            return parse_wechat_fields(self.cleaned_data.get("wechat_fields", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc.args[0])) from None

    @classmethod
    def initial_from(cls, template) -> dict:
        return {
            "event": template.event,
            "channel": template.channel,
            "language": template.language,
            "text": template.text,
            "wechat_template_id": template.wechat_template_id,
            "wechat_fields": format_wechat_fields(template.wechat_fields),
            "sms_template_code": template.sms_template_code,
            "active": template.active,
        }
