"""Booking statistics (SPEC §3, issue 7 item 8): bookings by channel, show and no-show
rates, cancellations, average lead time, and capacity utilisation per bay kind and per
technician, for the dealers the user may see (optionally one dealer or one region).

Counts and sums are aggregated in the database; the capacity side (hours the technicians
and bays were there) comes from ``capacity.days_capacity`` per dealer."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from aftersales.appointments.capacity import days_capacity
from aftersales.appointments.choices import HOLDING, BookingStatus, Channel
from aftersales.appointments.models import Booking
from aftersales.appointments.selectors import day_bounds

B = BookingStatus
COUNTED = [*HOLDING, B.CHECKED_IN]  # bookings that take (or took) capacity


def _rate(part, whole):
    return round(100 * part / whole, 1) if whole else None


def scoped(user, first, last, *, dealer=None, region=None):
    start, end = day_bounds(first, last)
    rows = Booking.objects.restrict(user, "view").filter(starts_at__gte=start, starts_at__lt=end)
    if dealer is not None:
        rows = rows.filter(dealer=dealer)
    if region is not None:
        rows = rows.filter(dealer__region=region)
    return rows


def booking_stats(*, user, first, last, dealer=None, region=None) -> dict:
    rows = scoped(user, first, last, dealer=dealer, region=region)
    totals = rows.aggregate(
        total=Count("id"),
        checked_in=Count("id", filter=Q(status=B.CHECKED_IN)),
        no_show=Count("id", filter=Q(status=B.NO_SHOW)),
        cancelled=Count("id", filter=Q(status=B.CANCELLED)),
        open=Count("id", filter=Q(status__in=HOLDING)),
        lead=Sum(ExpressionWrapper(F("starts_at") - F("created_at"), output_field=DurationField())),
    )
    due = totals["checked_in"] + totals["no_show"]
    lead = totals["lead"]
    lead_hours = (
        round(lead.total_seconds() / 3600 / totals["total"], 1)
        if lead is not None and totals["total"]
        else None
    )
    channels = dict(rows.values_list("channel").annotate(n=Count("id")).order_by())
    by_channel = [
        {"channel": value, "label": str(label), "bookings": channels.get(value, 0)}
        for value, label in Channel.choices
    ]
    per_dealer = [
        {
            "dealer": row["dealer__code"],
            "name": row["dealer__name"],
            "bookings": row["total"],
            "show_rate": _rate(row["checked_in"], row["checked_in"] + row["no_show"]),
            "no_show_rate": _rate(row["no_show"], row["checked_in"] + row["no_show"]),
        }
        for row in rows.values("dealer_id", "dealer__code", "dealer__name")
        .annotate(
            total=Count("id"),
            checked_in=Count("id", filter=Q(status=B.CHECKED_IN)),
            no_show=Count("id", filter=Q(status=B.NO_SHOW)),
        )
        .order_by("dealer__code")
    ]
    utilisation = _utilisation(rows, first, last)
    return {
        "first": first,
        "last": last,
        "bookings": totals["total"],
        "checked_in": totals["checked_in"],
        "no_shows": totals["no_show"],
        "cancelled": totals["cancelled"],
        "open": totals["open"],
        "show_rate": _rate(totals["checked_in"], due),
        "no_show_rate": _rate(totals["no_show"], due),
        "cancel_rate": _rate(totals["cancelled"], totals["total"]),
        "lead_time_hours": lead_hours,
        "by_channel": by_channel,
        "per_dealer": per_dealer,
        **utilisation,
    }


def _utilisation(rows, first, last) -> dict:
    """Booked hours against the hours there were, per bay kind and per technician."""
    from aftersales.org.models import Dealer, User
    from aftersales.workorders.choices import BayKind

    counted = rows.filter(status__in=COUNTED)
    booked_kind = dict(counted.values_list("bay__kind").annotate(h=Sum("hours")).order_by())
    booked_tech = dict(counted.values_list("technician_id").annotate(h=Sum("hours")).order_by())
    dealer_ids = list(rows.values_list("dealer_id", flat=True).distinct().order_by())
    kind_hours: dict = defaultdict(float)
    tech_hours: dict = defaultdict(float)
    for dealer in Dealer.objects.filter(pk__in=dealer_ids):
        for capacity in days_capacity(dealer, first, last).values():
            if not capacity.is_open:
                continue
            open_hours = (capacity.closes - capacity.opens).total_seconds() / 3600
            for bay in capacity.bays:
                kind_hours[bay.kind] += open_hours
            for person in capacity.technicians:
                tech_hours[person.user_id] += sum(
                    (end - start).total_seconds() / 3600 for start, end in person.windows
                )
    per_kind = [
        {
            "bay_kind": kind,
            "label": str(BayKind(kind).label),
            "available_hours": round(hours, 1),
            "booked_hours": float(booked_kind.get(kind) or Decimal(0)),
            "utilisation": _rate(float(booked_kind.get(kind) or 0), hours),
        }
        for kind, hours in sorted(kind_hours.items())
    ]
    names = {
        u.pk: u.get_full_name() or u.username
        for u in User.objects.filter(pk__in=set(tech_hours) | set(booked_tech))
    }
    per_technician = [
        {
            "technician": tech,
            "name": names.get(tech, str(tech)),
            "available_hours": round(tech_hours.get(tech, 0.0), 1),
            "booked_hours": float(booked_tech.get(tech) or 0),
            "utilisation": _rate(float(booked_tech.get(tech) or 0), tech_hours.get(tech, 0.0)),
        }
        for tech in sorted(set(tech_hours) | set(booked_tech), key=lambda t: names.get(t, ""))
    ]
    return {"per_bay_kind": per_kind, "per_technician": per_technician}


def stats_workbook(stats: dict):
    """The statistics as an Excel workbook (openpyxl)."""
    from django.utils.translation import gettext as _
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Summary"))[:31]
    sheet.append(
        [str(_("From")), stats["first"].isoformat(), str(_("Until")), stats["last"].isoformat()]
    )
    for label, key in (
        (_("Bookings"), "bookings"),
        (_("Checked in"), "checked_in"),
        (_("No-shows"), "no_shows"),
        (_("Cancelled"), "cancelled"),
        (_("Show rate %"), "show_rate"),
        (_("No-show rate %"), "no_show_rate"),
        (_("Average lead time (hours)"), "lead_time_hours"),
    ):
        sheet.append([str(label), stats[key]])
    channels = book.create_sheet(str(_("Channels"))[:31])
    channels.append([str(_("Channel")), str(_("Bookings"))])
    for row in stats["by_channel"]:
        channels.append([row["label"], row["bookings"]])
    kinds = book.create_sheet(str(_("Bay kinds"))[:31])
    kinds.append([str(_("Bay kind")), str(_("Available hours")), str(_("Booked hours")), "%"])
    for row in stats["per_bay_kind"]:
        kinds.append(
            [row["label"], row["available_hours"], row["booked_hours"], row["utilisation"]]
        )
    techs = book.create_sheet(str(_("Technicians"))[:31])
    techs.append([str(_("Technician")), str(_("Available hours")), str(_("Booked hours")), "%"])
    for row in stats["per_technician"]:
        techs.append([row["name"], row["available_hours"], row["booked_hours"], row["utilisation"]])
    dealers = book.create_sheet(str(_("Dealers"))[:31])
    dealers.append(
        [str(_("Dealer")), str(_("Bookings")), str(_("Show rate %")), str(_("No-show rate %"))]
    )
    for row in stats["per_dealer"]:
        dealers.append([row["dealer"], row["bookings"], row["show_rate"], row["no_show_rate"]])
    return book


def default_range(today: datetime.date):
    """The last 30 days and the bookings of the next 14 (rates count final states only)."""
    return today - datetime.timedelta(days=29), today + datetime.timedelta(days=14)
