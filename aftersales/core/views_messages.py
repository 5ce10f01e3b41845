"""The OEM's message template pages (SPEC §12): the templates per event, channel and
language with each event's variables and default text, the new/edit form (with a preview
of the text filled with sample values) and deleting a template.

Every write goes through ``aftersales.core.contact`` (``message_template_save``,
``message_template_delete``); a template that does not fit its event is refused with the
reason on the field and nothing is saved."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import user_has_perm
from aftersales.core.contact import (
    events,
    message_template_delete,
    message_template_save,
)
from aftersales.core.contact import (
    render as fill,
)
from aftersales.core.errors import ServiceError
from aftersales.core.forms_messages import MessageTemplateForm, new_key
from aftersales.core.idempotency import clean_key, once
from aftersales.core.models import MessageChannel, MessageTemplate
from aftersales.core.pages import PermissionPage

VIEW = "core.view_messagetemplate"
ADD = "core.add_messagetemplate"
CHANGE = "core.change_messagetemplate"
DELETE = "core.delete_messagetemplate"


def sample_values(variables) -> dict:
    """Example values of an event's variables, for the preview."""
    samples = {
        "customer_name": _("Wang Fang"),
        "plate": "京A·12345",
        "kind": _("Maintenance"),
        "due_date": "2026-05-20",
        "dealer_name": _("Beijing Dealer"),
        "coupon_text": _("Your coupon: 50 yuan off the next service."),
        "holiday": _("Spring Festival"),
        "greeting": _("Happy new year"),
    }
    return {name: samples.get(name, f"[{name}]") for name in variables}


def _put_errors(form, exc: ServiceError):
    """A service's refusal on the form: each reason on its field (the general message
    above the form only when no field carries a reason)."""
    placed = False
    for name, reasons in (exc.fields or {}).items():
        if not isinstance(reasons, (list, tuple)):
            reasons = [exc.message]  # the field names the bad value, the message the reason
        for reason in reasons:
            form.add_error(name if name in form.fields else None, str(reason))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _fill(text, samples) -> str:
    try:
        return fill(text, samples)
    except ValueError:  # a stray brace (refused on save; never a crash of the page)
        return text


def _event_rows(templates):
    """The registered events (by name) with their templates; templates of an event no
    longer registered come last under their event name."""
    known = events()
    by_event = {}
    for template in templates:
        by_event.setdefault(template.event, []).append(template)
    rows = []
    for name in sorted(known) + sorted(set(by_event) - set(known)):
        event = known.get(name)
        variables = event.variables if event else ()
        samples = sample_values(variables)
        own = by_event.get(name, [])
        for template in own:
            template.preview = _fill(template.text, samples)
            template.wechat_lines = sorted(template.wechat_fields.items())
        rows.append(
            {
                "name": name,
                "label": event.label if event else name,
                "variables": variables,
                "default_text": _(event.default_text) if event else "",
                "default_preview": _fill(_(event.default_text), samples) if event else "",
                "marketing": event.marketing if event else False,
                "registered": event is not None,
                "templates": own,
            }
        )
    return rows


class MessageTemplateListView(PermissionPage, ListView):
    """Every event with its templates (or "default text used")."""

    permission = VIEW
    template_name = "core/message_template_list.html"

    def get_queryset(self):
        return MessageTemplate.objects.restrict(self.request.user, "view").order_by(
            "event", "channel", "language"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["events"] = _event_rows(context["object_list"])
        context["may_add"] = user_has_perm(user, ADD)
        context["may_change"] = user_has_perm(user, CHANGE)
        context["may_delete"] = user_has_perm(user, DELETE)
        return context


def _event_help():
    return {
        name: {
            "label": event.label,
            "variables": event.variables,
            "default_text": _(event.default_text),
        }
        for name, event in sorted(events().items())
    }


def _form_page(request, form, template=None, *, preview=None, status=200):
    event_name = template.event if template else (form["event"].value() or "")
    event = events().get(event_name)
    return render(
        request,
        "core/message_template_form.html",
        {
            "form": form,
            "template": template,
            "event": event,
            "event_default_text": _(event.default_text) if event else "",
            "events_help": _event_help(),
            "preview": preview,
            "channels": MessageChannel,
        },
        status=status,
    )


def _preview(form, event_name):
    """The text (and WeChat data) filled with sample values, from the fields as typed."""
    event = events().get(event_name)
    samples = sample_values(event.variables if event else ())
    data = form.cleaned_data
    return {
        "text": fill(data.get("text", ""), samples),
        "wechat": [(k, fill(v, samples)) for k, v in (data.get("wechat_fields") or {}).items()],
        "samples": samples,
    }


def _values(data) -> dict:
    return {
        "event": data["event"],
        "channel": data["channel"],
        "language": data["language"],
        "text": data["text"],
        "wechat_template_id": data.get("wechat_template_id", ""),
        "wechat_fields": data.get("wechat_fields") or {},
        "sms_template_code": data.get("sms_template_code", ""),
        "active": bool(data.get("active")),
    }


def _safe_preview(form, event_name):
    try:
        return _preview(form, event_name)
    except ValueError:  # a stray brace: the preview says nothing, the save says why
        return None


class MessageTemplateNewView(PermissionPage, View):
    permission = ADD

    def get(self, request):
        initial = {"idempotency_key": new_key(), "active": True}
        if request.GET.get("event") in events():
            initial["event"] = request.GET["event"]
        return _form_page(request, MessageTemplateForm(initial=initial))

    def post(self, request):
        form = MessageTemplateForm(request.POST)
        if not form.is_valid():
            return _form_page(request, form)
        values = _values(form.cleaned_data)
        if "preview" in request.POST:
            return _form_page(request, form, preview=_safe_preview(form, values["event"]))
        try:
            template, _acted = once(
                user=request.user,
                scope="message-template-create",
                key=clean_key(form.cleaned_data.get("idempotency_key")),
                action=lambda: message_template_save(actor=request.user, **values),
                model=MessageTemplate,
            )
        except ServiceError as exc:
            _put_errors(form, exc)
            return _form_page(request, form)
        messages.success(request, _("Message template saved."))
        return redirect("message-template-list")


class MessageTemplateEditView(PermissionPage, View):
    permission = CHANGE

    def _template(self, request, pk):
        return get_object_or_404(MessageTemplate.objects.restrict(request.user, "change"), pk=pk)

    def get(self, request, pk):
        template = self._template(request, pk)
        initial = {**MessageTemplateForm.initial_from(template), "idempotency_key": new_key()}
        return _form_page(request, MessageTemplateForm(initial=initial, editing=True), template)

    def post(self, request, pk):
        template = self._template(request, pk)
        form = MessageTemplateForm(
            request.POST, initial=MessageTemplateForm.initial_from(template), editing=True
        )
        if not form.is_valid():
            return _form_page(request, form, template)
        values = _values(form.cleaned_data)
        if "preview" in request.POST:
            return _form_page(request, form, template, preview=_safe_preview(form, template.event))
        for name in ("event", "channel", "language"):  # they name the template: unchanged
            values.pop(name)
        try:
            once(
                user=request.user,
                scope="message-template-edit",
                key=clean_key(form.cleaned_data.get("idempotency_key")),
                action=lambda: message_template_save(
                    actor=request.user, template=template, **values
                ),
                model=MessageTemplate,
            )
        except ServiceError as exc:
            _put_errors(form, exc)
            return _form_page(request, form, template)
        messages.success(request, _("Message template saved."))
        return redirect("message-template-list")


class MessageTemplateDeleteView(PermissionPage, View):
    """Asks first (GET); deleting (POST) falls back to the event's default text."""

    permission = DELETE

    def _template(self, request, pk):
        return get_object_or_404(MessageTemplate.objects.restrict(request.user, "delete"), pk=pk)

    def get(self, request, pk):
        template = self._template(request, pk)
        return render(
            request,
            "core/message_template_form.html",
            {"template": template, "deleting": True, "event": events().get(template.event)},
        )

    def post(self, request, pk):
        template = self._template(request, pk)
        try:
            message_template_delete(actor=request.user, template=template)
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Message template deleted; the default text is used."))
        return redirect("message-template-list")
