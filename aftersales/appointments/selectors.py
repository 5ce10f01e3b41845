"""Scoped reads of the appointments app: every function takes the acting user."""

import datetime

from django.db.models import Q
from django.utils import timezone

from aftersales.appointments.models import Booking, DayPlan
from aftersales.core.access import user_scope


def dealers_with(user, permission: str):
    """The dealers where ``user`` holds ``permission`` (their own, their region's, or all)."""
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    rows = Dealer.objects.order_by("code")
    # dealers only: ``Scope.region_ids`` also holds a dealer employee's own region (for
    # region-level records), which must not open the neighbouring dealers
    return rows if scope.everything else rows.filter(pk__in=scope.dealer_ids)


def day_bounds(first: datetime.date, last: datetime.date):
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def bookings(user, *, dealer=None, first=None, last=None, status=None, channel=None, q=None):
    """The bookings ``user`` may see, with what lists and calendars show of them."""
    rows = Booking.objects.restrict(user, "view").select_related(
        "dealer", "vehicle", "customer", "advisor", "technician", "bay"
    )
    if dealer is not None:
        rows = rows.filter(dealer=dealer)
    if first is not None and last is not None:
        start, end = day_bounds(first, last)
        rows = rows.filter(starts_at__gte=start, starts_at__lt=end)
    if status:
        rows = rows.filter(status__in=str(status).split(","))
    if channel:
        rows = rows.filter(channel__in=str(channel).split(","))
    if q:
        rows = rows.filter(
            Q(number__icontains=q)
            | Q(vehicle__plate__icontains=q)
            | Q(vehicle__vin__icontains=q)
            | Q(contact_mobile__contains=q)
        )
    return rows.order_by("starts_at", "id")


def booking_detail(user, pk):
    return (
        Booking.objects.restrict(user, "view")
        .select_related("dealer", "vehicle", "customer", "advisor", "technician", "bay", "package")
        .prefetch_related("operations__operation", "events")
        .get(pk=pk)
    )


def day_plan(user, dealer, day):
    return (
        DayPlan.objects.restrict(user, "view")
        .filter(dealer=dealer, day=day)
        .prefetch_related(
            "jobs__technician", "jobs__bay", "jobs__line__repair_order", "jobs__booking"
        )
        .first()
    )
