"""The customer messages of customer care, registered with ``aftersales.core.contact``
(``<app>/messages.py`` modules are loaded automatically): the birthday and the holiday
greeting. Both are marketing: only customers with marketing consent get them."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from aftersales.core.contact import register_event

BIRTHDAY_EVENT = "care.greeting_birthday"
HOLIDAY_EVENT = "care.greeting_holiday"

register_event(
    BIRTHDAY_EVENT,
    variables=("customer_name", "dealer_name", "coupon_text"),
    default_text=gettext_noop(
        "{customer_name}, happy birthday from all of us at {dealer_name}! {coupon_text}"
    ),
    marketing=True,
    label=_("Birthday greeting"),
)
register_event(
    HOLIDAY_EVENT,
    variables=("customer_name", "holiday", "greeting", "dealer_name", "coupon_text"),
    default_text=gettext_noop("{customer_name}: {greeting} — {dealer_name} {coupon_text}"),
    marketing=True,
    label=_("Holiday greeting"),
)
