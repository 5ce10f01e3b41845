"""Birthday and holiday greetings (SPEC §10 customer care), sent through the outbox.

* ``birthday_greetings(today=)``: the daily job. Customers whose birthday is today (those
  born on 29 February are greeted on 28 February in other years) and who agreed to
  marketing get the ``care.greeting_birthday`` message from their home dealer (the dealer
  that registered them, else the one that serves them longest), with a coupon when the
  greeting settings say so: the dealer's own settings, else the OEM's (an OEM coupon then,
  redeemable at every dealer).
* ``holiday_greetings(today=)``: the daily job for the holiday greetings due today — to
  every customer with consent nationally, or to the customers of one dealer — each with
  the holiday's coupon when it has one.

Idempotent: a message's dedup key (customer + year, holiday + customer) and a coupon's
unique ``source_key`` make a re-run of the day — or a run after a crash half-way — send
nothing twice and issue no second coupon. Customers are read in batches of ids; each batch
is one transaction, so a crash keeps what was done.
"""

from __future__ import annotations

import calendar
import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from aftersales.care.choices import CouponKind, CouponReason, HolidayStatus
from aftersales.care.messages import BIRTHDAY_EVENT, HOLIDAY_EVENT
from aftersales.care.models import Coupon, GreetingSettings, HolidayGreeting
from aftersales.care.services import insert_with_code

log = logging.getLogger(__name__)
BATCH = 500


# ---------------------------------------------------------------- settings


def national_settings() -> GreetingSettings:
    """The OEM's greeting settings (made with the defaults on first use)."""
    row = GreetingSettings.objects.filter(dealer__isnull=True).order_by("id").first()
    if row is None:
        row = GreetingSettings.objects.create(dealer=None)
    return row


def settings_by_dealer() -> dict[int | None, GreetingSettings]:
    """{dealer id: its own settings, None: the OEM's} in one query."""
    rows = {}
    for row in GreetingSettings.objects.order_by("id"):
        rows.setdefault(row.dealer_id, row)
    if None not in rows:
        rows[None] = national_settings()
    return rows


# ---------------------------------------------------------------- helpers


def coupon_text(coupon: Coupon | None, language: str) -> str:
    """The sentence about the coupon in the greeting ('' without one)."""
    if coupon is None:
        return ""
    with translation.override(language):
        if coupon.min_spend:
            text = _(
                "Your gift: coupon %(code)s, %(value)s off a spend of %(min)s or more, "
                "valid until %(day)s."
            )
        else:
            text = _("Your gift: coupon %(code)s, %(value)s off, valid until %(day)s.")
        return text % {
            "code": coupon.display_code,
            "value": coupon.value_label,
            "min": coupon.min_spend,
            "day": formats.date_format(coupon.valid_until, "Y-m-d"),
        }


def coupon_from_template(
    template, *, customer, dealer_id, reason, source_key, today, holiday=None
) -> Coupon | None:
    """The coupon a greeting gives (the one already issued for ``source_key`` on a
    re-run), or None when the template gives none."""
    if not template.gives_coupon:
        return None
    existing = Coupon.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    coupon = Coupon(
        customer=customer,
        dealer_id=dealer_id,
        amount=template.coupon_amount if template.coupon_kind == CouponKind.AMOUNT else None,
        percent=template.coupon_percent if template.coupon_kind == CouponKind.PERCENT else None,
        min_spend=template.coupon_min_spend,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=template.coupon_valid_days - 1),
        reason=reason,
        source_key=source_key,
        holiday=holiday,
    )
    try:
        return insert_with_code(coupon)
    except IntegrityError:  # a concurrent run issued it first
        return Coupon.objects.get(source_key=source_key)


def home_dealers(customer_ids) -> dict[int, int]:
    """{customer id: home dealer id}: the registering dealer, else the oldest link."""
    from aftersales.crm.models import Customer, DealerCustomer

    homes = dict(
        Customer.objects.filter(pk__in=customer_ids, origin_dealer__isnull=False).values_list(
            "pk", "origin_dealer_id"
        )
    )
    for customer_id, dealer_id in (
        DealerCustomer.objects.filter(customer_id__in=customer_ids)
        .order_by("since", "id")
        .values_list("customer_id", "dealer_id")
    ):
        homes.setdefault(customer_id, dealer_id)
    return homes


def _chunks(ids: list[int], size: int):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _oem_name() -> str:
    from aftersales.org.models import Oem

    return Oem.objects.values_list("name", flat=True).first() or ""


def _dealers(ids) -> dict:
    from aftersales.org.models import Dealer

    return Dealer.objects.in_bulk([i for i in ids if i])


# ---------------------------------------------------------------- birthdays


def birthday_filter(today: datetime.date) -> list[tuple[int, int]]:
    days = [(today.month, today.day)]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append((2, 29))
    return days


def birthday_greetings(*, today=None, batch: int = BATCH) -> dict:
    """Greet today's birthday customers (see the module). Returns the counts."""
    from django.db.models import Q

    from aftersales.core.contact import contact_plan, customer_language, customer_send
    from aftersales.crm.models import Customer

    today = today or timezone.localdate()
    when = Q()
    for month, day in birthday_filter(today):
        when |= Q(birthday__month=month, birthday__day=day)
    ids = list(
        Customer.objects.live()
        .filter(when, marketing_consent=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {"customers": len(ids), "greeted": 0, "coupons": 0, "skipped": 0}
    rules = settings_by_dealer()
    oem_name = _oem_name()
    for chunk in _chunks(ids, batch):
        homes = home_dealers(chunk)
        dealers = _dealers(set(homes.values()))
        with transaction.atomic():
            for customer in Customer.objects.filter(pk__in=chunk).order_by("pk"):
                dealer = dealers.get(homes.get(customer.pk))
                setup = rules.get(dealer.pk if dealer else None) or rules[None]
                if (
                    not setup.birthday_enabled
                    or not contact_plan(customer, BIRTHDAY_EVENT).channels
                ):
                    counts["skipped"] += 1
                    continue
                coupon = coupon_from_template(
                    setup,
                    customer=customer,
                    dealer_id=setup.dealer_id,
                    reason=CouponReason.BIRTHDAY,
                    source_key=f"birthday:{today.year}:{customer.pk}",
                    today=today,
                )
                language = customer_language(customer)
                sent = customer_send(
                    customer=customer,
                    event=BIRTHDAY_EVENT,
                    params={
                        "customer_name": customer.name,
                        "dealer_name": dealer.name if dealer else oem_name,
                        "coupon_text": coupon_text(coupon, language),
                    },
                    dealer=dealer,
                    dedup_key=f"{BIRTHDAY_EVENT}:{customer.pk}:{today.year}",
                )
                counts["greeted"] += bool(sent)
                counts["coupons"] += coupon is not None
    return counts


# ---------------------------------------------------------------- holidays


def holiday_targets(holiday: HolidayGreeting):
    """The customers a holiday greeting goes to: with marketing consent, nationally or
    served by the holiday's dealer."""
    from aftersales.crm.models import Customer, DealerCustomer

    rows = Customer.objects.live().filter(marketing_consent=True)
    if holiday.dealer_id:
        rows = rows.filter(
            Exists(
                DealerCustomer.objects.filter(
                    customer_id=OuterRef("pk"), dealer_id=holiday.dealer_id
                )
            )
        )
    return rows


def holiday_send(holiday: HolidayGreeting, *, today=None, batch: int = BATCH) -> dict:
    """Send one holiday greeting to its targets (resuming where a crashed run stopped)
    and mark it sent with the counts."""
    from aftersales.core.contact import contact_plan, customer_language, customer_send
    from aftersales.crm.models import Customer

    today = today or timezone.localdate()
    ids = list(holiday_targets(holiday).order_by("pk").values_list("pk", flat=True))
    dealer = holiday.dealer if holiday.dealer_id else None
    oem_name = _oem_name()
    counts = {"customers": len(ids), "greeted": 0, "coupons": 0, "skipped": 0}
    for chunk in _chunks(ids, batch):
        with transaction.atomic():
            for customer in Customer.objects.filter(pk__in=chunk).order_by("pk"):
                if not contact_plan(customer, HOLIDAY_EVENT).channels:
                    counts["skipped"] += 1
                    continue
                coupon = coupon_from_template(
                    holiday,
                    customer=customer,
                    dealer_id=holiday.dealer_id,
                    reason=CouponReason.HOLIDAY,
                    source_key=f"holiday:{holiday.pk}:{customer.pk}",
                    today=today,
                    holiday=holiday,
                )
                sent = customer_send(
                    customer=customer,
                    event=HOLIDAY_EVENT,
                    params={
                        "customer_name": customer.name,
                        "holiday": holiday.name,
                        "greeting": holiday.text,
                        "dealer_name": dealer.name if dealer else oem_name,
                        "coupon_text": coupon_text(coupon, customer_language(customer)),
                    },
                    dealer=dealer,
                    dedup_key=f"{HOLIDAY_EVENT}:{holiday.pk}:{customer.pk}",
                )
                counts["greeted"] += bool(sent)
                counts["coupons"] += coupon is not None
    HolidayGreeting.objects.filter(pk=holiday.pk).update(
        status=HolidayStatus.SENT,
        sent_count=counts["greeted"],
        coupon_count=counts["coupons"],
        sent_at=timezone.now(),
    )
    return counts


def holiday_greetings(*, today=None, batch: int = BATCH) -> dict:
    """Send every planned holiday greeting due today. A sent one is not sent again."""
    today = today or timezone.localdate()
    totals = {"holidays": 0, "greeted": 0, "coupons": 0}
    for holiday in HolidayGreeting.objects.filter(
        status=HolidayStatus.PLANNED, date=today
    ).select_related("dealer"):
        counts = holiday_send(holiday, today=today, batch=batch)
        totals["holidays"] += 1
        totals["greeted"] += counts["greeted"]
        totals["coupons"] += counts["coupons"]
        log.info("holiday greeting %s: %s", holiday.pk, counts)
    return totals


def daily_greetings(*, today=None) -> dict:
    """The day's care job: expire old coupons, greet birthdays and holidays."""
    from aftersales.care.services import coupons_expire

    today = today or timezone.localdate()
    return {
        "expired": coupons_expire(today=today),
        "birthdays": birthday_greetings(today=today),
        "holidays": holiday_greetings(today=today),
    }
