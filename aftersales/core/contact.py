"""Sending something to a customer (SPEC §12): the one entry point every app uses.

An app registers each kind of message it sends as an *event* with the variables its
wording may use::

    register_event(
        "care.birthday",
        variables=("customer_name", "dealer_name"),
        default_text="{customer_name}, happy birthday from {dealer_name}!",
        marketing=True,
        label=_("Birthday greeting"),
    )

(at import of a module that is loaded at start-up: ``<app>/messages.py`` modules are
loaded automatically), and sends it with::

    customer_send(customer=c, event="care.birthday", params={...}, dealer=d,
                  dedup_key=f"care.birthday:{c.pk}:2026")

which decides the channels (a WeChat template message when the customer has a bound
openid; a text message where the customer chose SMS or has no WeChat; nothing at all for a
marketing event without the customer's consent), renders the OEM's template
(``core.MessageTemplate``) for the event, channel and language (or the event's default
text), holds the message back until the customer's and the OEM's quiet hours are over, and
queues it in the outbox (after commit, with retries). A ``dedup_key`` makes a repeated call
return the messages already queued instead of queueing new ones.
"""

import datetime
import string
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import MessageChannel, MessageTemplate, OutboxMessage
from aftersales.core.outbox import outbox_enqueue
from aftersales.core.sms import sms_enqueue  # noqa: F401  (registers the sms channel)
from aftersales.core.wechat import wechat_enqueue  # registers the wechat channel

EVENTS: dict[str, "Event"] = {}


@dataclass(frozen=True)
class Event:
    """A kind of customer message and the variables its templates may (and must) use."""

    name: str
    variables: tuple[str, ...]
    default_text: str
    marketing: bool
    label: str


def register_event(
    name: str, *, variables: tuple[str, ...], default_text: str, marketing: bool, label
) -> Event:
    """Declare an event kind. Registering the same name again replaces it (module reloads)."""
    problems = template_problems(default_text, variables, require_all=False)
    if problems:
        raise ValueError(f"default text of {name!r}: {problems}")
    event = Event(name, tuple(variables), default_text, marketing, label)
    EVENTS[name] = event
    return event


_discovered = False


def events() -> dict[str, Event]:
    """Every registered event (``<app>.messages`` modules are imported once first)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("messages")
        _discovered = True
    return EVENTS


def get_event(name: str) -> Event:
    event = events().get(name)
    if event is None:
        raise ValidationFailed(
            _("Unknown message event “%(event)s”.") % {"event": name}, fields={"event": name}
        )
    return event


# ---------------------------------------------------------------- templates


def placeholders(text: str) -> list[str]:
    """The ``{variable}`` names a text uses, in order (``{{`` is a literal brace)."""
    try:
        return [field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field]
    except ValueError as exc:  # an unmatched brace
        raise ValidationFailed(
            _("The text has a stray brace: %(error)s") % {"error": exc}, fields={"text": str(exc)}
        ) from None


def template_problems(text: str, variables, *, require_all=True, extra_texts=()) -> str:
    """Why a template text does not fit its event ('' when it does): a placeholder that is
    not one of the event's variables, or (``require_all``) a variable it leaves out."""
    used = []
    for part in (text, *extra_texts):
        try:
            used += [field for _l, field, _s, _c in string.Formatter().parse(part) if field]
        except ValueError as exc:
            return _gettext("The text has a stray brace: %(error)s") % {"error": exc}
    unknown = sorted({name for name in used if name not in variables})
    if unknown:
        return _gettext("Unknown variables: %(names)s. Allowed: %(allowed)s.") % {
            "names": ", ".join("{" + n + "}" for n in unknown),
            "allowed": ", ".join("{" + v + "}" for v in variables),
        }
    if require_all:
        missing = [name for name in variables if name not in used]
        if missing:
            return _gettext("The template must contain every variable; missing: %(names)s.") % {
                "names": ", ".join("{" + n + "}" for n in missing)
            }
    return ""


def template_check(
    *, event: str, channel: str, text: str, wechat_template_id="", wechat_fields=None
):
    """Refuse (``ValidationFailed`` with the reason per field) a template that does not fit
    its event: unknown event, a missing or unknown variable, a WeChat template without an
    id or data fields."""
    found = get_event(event)
    fields = {}
    wechat_fields = wechat_fields or {}
    if channel not in MessageChannel.values:
        fields["channel"] = _gettext("Unknown channel.")
    if not (text or "").strip():
        fields["text"] = _gettext("The text is empty.")
    if channel == MessageChannel.WECHAT:
        if not wechat_template_id:
            fields["wechat_template_id"] = _gettext("A WeChat message needs the template id.")
        if (
            not isinstance(wechat_fields, dict)
            or not wechat_fields
            or not all(
                isinstance(k, str) and k and isinstance(v, str) for k, v in wechat_fields.items()
            )
        ):
            fields["wechat_fields"] = _gettext(
                'Map each data key of the WeChat template to a text, e.g. {"thing1": "{kind}"}.'
            )
        else:
            problem = template_problems(
                " ".join(wechat_fields.values()), found.variables, require_all=True
            )
            if problem:
                fields["wechat_fields"] = problem
            bad = template_problems(text or "", found.variables, require_all=False)
            if bad:
                fields["text"] = bad
    elif "text" not in fields:
        problem = template_problems(text, found.variables, require_all=True)
        if problem:
            fields["text"] = problem
    if fields:
        raise ValidationFailed(
            _gettext("The message template does not fit the event: %(reason)s")
            % {"reason": " ".join(str(v) for v in fields.values())},
            code="template_invalid",
            fields={name: [str(reason)] for name, reason in fields.items()},
        )


def render(text: str, params: dict) -> str:
    """Fill the placeholders; a variable without a value renders empty (never a crash in
    the outbox: templates were checked against the event when saved)."""
    out = []
    for literal, field, spec, _conv in string.Formatter().parse(text):
        out.append(literal)
        if field:
            value = params.get(field, "")
            try:
                out.append(format(value, spec) if spec else str(value))
            except (TypeError, ValueError):  # a format spec that does not fit the value
                out.append(str(value))
    return "".join(out)


def customer_language(customer) -> str:
    """The language to write to the customer in: their owner login's choice when the
    project records one, otherwise the site's default language."""
    language = getattr(customer, "language", "") or getattr(
        getattr(customer, "user", None), "language", ""
    )
    return language or settings.LANGUAGE_CODE


def find_template(event: str, channel: str, language: str) -> MessageTemplate | None:
    candidates = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            event=event,
            channel=channel,
            active=True,
            language__in={language, settings.LANGUAGE_CODE},
        )
    }
    return candidates.get(language) or candidates.get(settings.LANGUAGE_CODE)


# ---------------------------------------------------------------- who, how and when


class SkipReason:
    """Why a customer gets no message for an event (recorded by callers)."""

    NO_CONSENT = "no_consent"  # a marketing event and no marketing consent
    NO_CHANNEL = "no_channel"  # neither a bound WeChat nor a mobile number
    MERGED = "merged"  # the customer record was merged into another


def may_market(customer) -> bool:
    """May we send this customer marketing (greetings, offers)? Only with their consent."""
    return bool(customer.marketing_consent)


@dataclass(frozen=True)
class ContactPlan:
    channels: tuple[str, ...]
    skip_reason: str = ""


def contact_plan(customer, event: str) -> ContactPlan:
    """The channels a message of ``event`` would go through to this customer, or why none."""
    found = get_event(event)
    if getattr(customer, "merged_into_id", None):
        return ContactPlan((), SkipReason.MERGED)
    if found.marketing and not may_market(customer):
        return ContactPlan((), SkipReason.NO_CONSENT)
    channels = []
    if customer.wechat_openid:
        channels.append(MessageChannel.WECHAT.value)
    if customer.mobile and (customer.contact_channel == "sms" or not customer.wechat_openid):
        channels.append(MessageChannel.SMS.value)
    if not channels:
        return ContactPlan((), SkipReason.NO_CHANNEL)
    return ContactPlan(tuple(channels))


def _quiet_windows(customer):
    from aftersales.reminders.models import ReminderSettings

    rules = ReminderSettings.current()
    for start, end in (
        (customer.quiet_from, customer.quiet_until),
        (rules.quiet_from, rules.quiet_until),
    ):
        if start is not None and end is not None and start != end:
            yield start, end


def _in_window(t: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    if start < end:
        return start <= t < end
    return t >= start or t < end  # over midnight, e.g. 21:00-08:00


def next_send_time(at, *, customer, windows=None) -> datetime.datetime:
    """The first moment at or after ``at`` outside the customer's own quiet hours and the
    OEM's (both in local time; a window may run over midnight). ``at`` itself when it is
    not quiet."""
    windows = list(_quiet_windows(customer)) if windows is None else windows
    local = timezone.localtime(at)
    for _round in range(2 * len(windows) + 1):  # overlapping windows chain at most this often
        for start, end in windows:
            if _in_window(local.time().replace(microsecond=0), start, end):
                day = local.date()
                if end <= local.time():
                    day += datetime.timedelta(days=1)
                local = timezone.make_aware(datetime.datetime.combine(day, end))
                break
        else:
            return local
    return local


# ---------------------------------------------------------------- sending


def _rendered(event: Event, channel: str, language: str, params: dict, link: str):
    template = find_template(event.name, channel, language)
    values = {**params}
    if template:
        wording = template.text
    else:  # the default text is an English msgid: in the customer's language
        with translation.override(language):
            wording = _gettext(event.default_text)
    text = render(wording, values)
    if channel == MessageChannel.WECHAT:
        if template and template.wechat_template_id:
            template_id = template.wechat_template_id
            data = {key: render(value, values) for key, value in template.wechat_fields.items()}
        else:
            template_id = settings.WECHAT_DEFAULT_TEMPLATE_ID
            data = {settings.WECHAT_DEFAULT_TEMPLATE_FIELD: text}
        return text, {"template_id": template_id, "data": data, "url": link, "event": event.name}
    sms_params = {name: str(values.get(name, "")) for name in event.variables}
    # the SMS provider sends approved templates only: the logical name is the event's
    # (settings.SMS_TEMPLATE_<EVENT>, dots as underscores); a template's own code goes along
    payload = {"template": sms_template_name(event.name), "params": sms_params}
    if template and template.sms_template_code:
        payload["template_code"] = template.sms_template_code
    if link:
        text = f"{text} {link}"
    return text, payload


def sms_template_name(event: str) -> str:
    """The SMS logical template of an event: ``settings.SMS_TEMPLATE_<NAME>`` holds its code."""
    return event.replace(".", "_").replace("-", "_")


def customer_send(
    *,
    customer,
    event: str,
    params: dict,
    dealer=None,
    dedup_key: str,
    link: str = "",
    now=None,
) -> list[OutboxMessage]:
    """Queue ``event`` to ``customer`` on the channels ``contact_plan`` chooses, held back
    until quiet hours are over; returns the outbox rows (empty when the customer may not
    or cannot be reached: see ``contact_plan`` for why). Call it inside the business
    transaction: the messages leave after commit."""
    found = get_event(event)
    if not dedup_key:
        raise ValueError("customer_send needs a dedup_key")
    plan = contact_plan(customer, event)
    if not plan.channels:
        return []
    send_at = next_send_time(now or timezone.now(), customer=customer)
    language = customer_language(customer)
    messages = []
    for channel in plan.channels:
        text, payload = _rendered(found, channel, language, params, link)
        key = f"{dedup_key}:{channel}"
        if channel == MessageChannel.WECHAT:
            message = wechat_enqueue(
                openid=customer.wechat_openid,
                template_id=payload["template_id"],
                data=payload["data"],
                url=link,
                text=text,
                dealer=dealer,
                dedup_key=key,
                not_before=send_at,
                extra={"event": found.name, "customer": customer.pk},
            )
        else:
            message = outbox_enqueue(
                channel="sms",
                recipient=customer.mobile,
                body=text,
                payload=payload,
                dealer=dealer,
                dedup_key=key,
                not_before=send_at,
            )
        messages.append(message)
    return messages


# ---------------------------------------------------------------- services


TEMPLATE_FIELDS = (
    "event",
    "channel",
    "language",
    "text",
    "wechat_template_id",
    "wechat_fields",
    "sms_template_code",
    "active",
)


@transaction.atomic
def message_template_save(*, actor, template=None, **values) -> MessageTemplate:
    """Create (``template=None``) or change a message template; refused with the reason
    (``template_invalid``, nothing saved) when it does not fit its event."""
    from aftersales.core.access import require_at
    from aftersales.core.audit import audit_create, audit_update, snapshot

    unknown = set(values) - set(TEMPLATE_FIELDS)
    if unknown:
        raise TypeError(f"unknown template fields: {sorted(unknown)}")
    require_at(actor, "core.change_messagetemplate" if template else "core.add_messagetemplate")
    if template is not None:
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        before = snapshot(template)
    else:
        template = MessageTemplate()
        before = None
    for name, value in values.items():
        setattr(template, name, value)
    if template.language not in dict(settings.LANGUAGES):
        raise ValidationFailed(
            _("Unknown language."), code="template_invalid", fields={"language": template.language}
        )
    template_check(
        event=template.event,
        channel=template.channel,
        text=template.text,
        wechat_template_id=template.wechat_template_id,
        wechat_fields=template.wechat_fields,
    )
    clash = MessageTemplate.objects.filter(
        event=template.event, channel=template.channel, language=template.language
    ).exclude(pk=template.pk)
    if clash.exists():
        raise Conflict(
            _("There is already a template for this event, channel and language."),
            code="template_exists",
        )
    template.save()
    if before is None:
        audit_create(template, actor=actor)
    else:
        audit_update(template, actor=actor, before=before)
    return template


@transaction.atomic
def message_template_delete(*, actor, template) -> None:
    from aftersales.core.access import require_at
    from aftersales.core.audit import audit_delete

    require_at(actor, "core.delete_messagetemplate")
    audit_delete(template, actor=actor)
    template.delete()


@transaction.atomic
def customer_bind_wechat(*, customer, code: str, actor=None) -> str:
    """Bind the owner's WeChat openid to their customer record from the OAuth code WeChat
    gives the owner site (``/sns/oauth2/access_token``). An openid already bound to another
    customer moves to this one (one WeChat user, one owner). Returns the openid."""
    from aftersales.core.audit import audit_update, snapshot
    from aftersales.core.wechat import WechatError, wechat_oauth_openid
    from aftersales.crm.models import Customer

    try:
        openid = wechat_oauth_openid(code)
    except WechatError as exc:
        raise ValidationFailed(
            _("WeChat did not confirm the login; open the page from WeChat again."),
            code="wechat_code_invalid",
            fields={"code": str(exc)},
        ) from None
    for other in (
        Customer.objects.select_for_update().filter(wechat_openid=openid).exclude(pk=customer.pk)
    ):
        before = snapshot(other)
        other.wechat_openid = ""
        other.save(update_fields=["wechat_openid", "updated_at"])
        audit_update(other, actor=actor, before=before)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.wechat_openid != openid:
        before = snapshot(customer)
        customer.wechat_openid = openid
        customer.save(update_fields=["wechat_openid", "updated_at"])
        audit_update(customer, actor=actor, before=before)
    return openid
