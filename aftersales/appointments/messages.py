"""Messages to the customer about a booking: confirmation, move, cancellation and the
day-before reminder. Queued on the outbox in the booking's transaction, so they leave
after commit and only then; the channel follows the customer's preference (e-mail when
they prefer it and gave an address, otherwise a text message to the contact mobile —
WeChat preferences also get a text until the WeChat channel exists). Texts are in
Chinese, the customers' language. The reminder job keeps out of a customer's quiet hours
(``in_quiet_hours``); a confirmation answers the customer's own request and goes at once."""

import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.outbox import outbox_enqueue


def _texts(kind: str, booking) -> tuple[str, str]:
    when = timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M")
    data = {
        "dealer": booking.dealer.name,
        "when": when,
        "plate": booking.vehicle.plate or booking.vehicle.vin[-8:],
        "number": booking.number,
        "service": booking.get_service_type_display(),
    }
    if kind == "confirmed":
        subject = _("Booking confirmed: %(when)s") % data
        body = _(
            "%(dealer)s: your %(service)s booking %(number)s for %(plate)s is confirmed for "
            "%(when)s. Reply or call us to change it."
        )
    elif kind == "moved":
        subject = _("Booking moved: %(when)s") % data
        body = _("%(dealer)s: your booking %(number)s for %(plate)s is now on %(when)s.")
    elif kind == "cancelled":
        subject = _("Booking cancelled: %(number)s") % data
        body = _("%(dealer)s: your booking %(number)s for %(plate)s on %(when)s is cancelled.")
    else:
        subject = _("Reminder: your visit tomorrow at %(when)s") % data
        body = _(
            "%(dealer)s reminds you: %(plate)s is booked for %(service)s at %(when)s "
            "(booking %(number)s). Please bring the service booklet."
        )
    return subject, body % data


def in_quiet_hours(quiet_from, quiet_until, moment: datetime.datetime) -> bool:
    """Whether ``moment`` (local time) is inside a customer's do-not-disturb hours; hours
    over midnight (22:00-08:00) count too, no hours recorded never."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return False
    now = timezone.localtime(moment).time()
    if quiet_from < quiet_until:
        return quiet_from <= now < quiet_until
    return now >= quiet_from or now < quiet_until


def notify_customer(booking, kind: str) -> None:
    """Queue the ``kind`` message (confirmed, moved, cancelled, reminder) for ``booking``;
    one per booking, kind and time (a retried call queues nothing more)."""
    customer = booking.customer
    with translation.override("zh-hans"):
        subject, body = _texts(kind, booking)
    key = f"booking:{booking.pk}:{kind}:{booking.starts_at.isoformat()}"
    payload = {"booking": booking.pk, "kind": kind}
    if customer is not None and customer.contact_channel == "email" and customer.email:
        outbox_enqueue(
            channel="email",
            recipient=customer.email,
            subject=subject,
            body=body,
            dealer=booking.dealer,
            payload=payload,
            dedup_key=key,
        )
        return
    mobile = booking.contact_mobile or (customer.mobile if customer is not None else "")
    if not mobile:
        return
    outbox_enqueue(
        channel="sms",
        recipient=mobile,
        body=body,
        dealer=booking.dealer,
        payload={**payload, "template": f"booking_{kind}", "params": {"number": booking.number}},
        dedup_key=key,
    )
