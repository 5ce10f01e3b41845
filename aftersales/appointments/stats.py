"""Booking statistics (SPEC §3, issue 7 item 8): bookings by channel, show and no-show
rates, cancellations, average lead time, and capacity utilisation per bay kind, per
technician and per dealer, for the dealers the user may see (optionally one dealer or one
region).

* show rate = checked in ÷ (checked in + no-shows): the bookings whose time came and that
  reached a final state by arriving or not; open and cancelled ones count in neither;
* lead time = from the moment of booking to the booked time, averaged over the bookings;
* utilisation = booked hours (requested, confirmed and checked-in bookings: those that
  hold or took capacity) ÷ the hours there were (each bay's open hours; each technician's
  shift within the opening hours, absences taken out), per bay kind of the booked bay,
  per booked technician and per dealer (technician hours). The planned hours of the
  foremen's day plans (repair-order jobs and bookings) are shown beside them.

Counts and sums are aggregated in the database (a fixed number of queries); the capacity
side comes from ``capacity.days_capacity``, six queries per dealer in scope.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from aftersales.appointments.capacity import days_capacity
from aftersales.appointments.choices import HOLDING, BookingStatus, Channel
from aftersales.appointments.models import Booking, DayPlan, PlannedJob
from aftersales.appointments.selectors import day_bounds

B = BookingStatus
COUNTED = [*HOLDING, B.CHECKED_IN]  # bookings that take (or took) capacity
VIEW = "appointments.view_booking"


def _rate(part, whole):
    return round(100 * float(part) / float(whole), 1) if whole else None


def _hours(value) -> float:
    """Hours of a Decimal sum or a duration (None: 0)."""
    if value is None:
        return 0.0
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds() / 3600, 2)
    return float(value)


def _lead(total: datetime.timedelta | None, count: int):
    return round(total.total_seconds() / 3600 / count, 1) if total is not None and count else None


def _duration(start, end):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def visible_dealers(user):
    """The dealers whose bookings ``user`` may see."""
    from aftersales.appointments.selectors import dealers_with

    return dealers_with(user, VIEW)


def scope_dealers(user, *, dealer=None, region=None):
    """The dealers the figures cover: those the user may see bookings of, narrowed to
    ``dealer`` or ``region``."""
    rows = visible_dealers(user)
    if dealer is not None:
        rows = rows.filter(pk=getattr(dealer, "pk", dealer))
    if region is not None:
        rows = rows.filter(region=region)
    return rows


def scoped(user, first, last, *, dealer=None, region=None):
    """The bookings booked for ``first``..``last`` that the figures count."""
    start, end = day_bounds(first, last)
    rows = Booking.objects.restrict(user, "view").filter(starts_at__gte=start, starts_at__lt=end)
    if dealer is not None:
        rows = rows.filter(dealer=dealer)
    if region is not None:
        rows = rows.filter(dealer__region=region)
    return rows


def _counts():
    """The status counts, booked hours and summed lead time of a booking queryset."""
    return {
        "total": Count("id"),
        "checked_in": Count("id", filter=Q(status=B.CHECKED_IN)),
        "no_show": Count("id", filter=Q(status=B.NO_SHOW)),
        "cancelled": Count("id", filter=Q(status=B.CANCELLED)),
        "open": Count("id", filter=Q(status__in=HOLDING)),
        "booked": Sum("hours", filter=Q(status__in=COUNTED)),
        "lead": Sum(_duration("created_at", "starts_at")),
    }


def booking_stats(*, user, first, last, dealer=None, region=None) -> dict:
    """The statistics of the bookings for ``first``..``last`` (dates, inclusive) that
    ``user`` may see, of one ``dealer`` or ``region`` when given. Rates are percentages
    with one decimal (``None`` when there is nothing to divide by), hours floats."""
    rows = scoped(user, first, last, dealer=dealer, region=region)
    totals = rows.aggregate(**_counts())
    due = totals["checked_in"] + totals["no_show"]
    channels = dict(rows.values_list("channel").annotate(n=Count("id")).order_by())
    by_channel = [
        {
            "channel": value,
            "label": str(label),
            "bookings": channels.get(value, 0),
            "share": _rate(channels.get(value, 0), totals["total"]),
        }
        for value, label in Channel.choices
    ]
    dealers = list(scope_dealers(user, dealer=dealer, region=region).values("pk", "code", "name"))
    capacity = _capacity([d["pk"] for d in dealers], first, last)
    planned = _planned(user, first, last, [d["pk"] for d in dealers])
    per_dealer_rows = {
        row["dealer_id"]: row for row in rows.values("dealer_id").annotate(**_counts()).order_by()
    }
    per_dealer = []
    for d in dealers:
        row = per_dealer_rows.get(d["pk"])
        if row is None and not capacity["dealer"].get(d["pk"]):
            continue  # neither bookings nor capacity: nothing to say about it
        row = row or {"total": 0, "checked_in": 0, "no_show": 0, "cancelled": 0}
        booked = _hours(row.get("booked"))
        available = round(capacity["dealer"].get(d["pk"], 0.0), 1)
        per_dealer.append(
            {
                "dealer": d["code"],
                "name": d["name"],
                "bookings": row["total"],
                "checked_in": row["checked_in"],
                "no_shows": row["no_show"],
                "cancelled": row["cancelled"],
                "show_rate": _rate(row["checked_in"], row["checked_in"] + row["no_show"]),
                "no_show_rate": _rate(row["no_show"], row["checked_in"] + row["no_show"]),
                "cancel_rate": _rate(row["cancelled"], row["total"]),
                "lead_time_hours": _lead(row.get("lead"), row["total"]),
                "available_hours": available,
                "booked_hours": booked,
                "utilisation": _rate(booked, available),
            }
        )
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
        "lead_time_hours": _lead(totals["lead"], totals["total"]),
        "booked_hours": _hours(totals["booked"]),
        "available_hours": round(sum(capacity["dealer"].values()), 1),
        "utilisation": _rate(_hours(totals["booked"]), sum(capacity["dealer"].values())),
        "by_channel": by_channel,
        "per_dealer": per_dealer,
        **_utilisation(rows, capacity, planned),
    }


def _capacity(dealer_ids, first, last) -> dict:
    """Hours there were from ``first`` to ``last``: per bay kind (each active bay's open
    hours), per technician and per dealer (technicians' working hours)."""
    kind_hours: dict = defaultdict(float)
    tech_hours: dict = defaultdict(float)
    dealer_hours: dict = defaultdict(float)
    for dealer_id in dealer_ids:
        for day in days_capacity(dealer_id, first, last).values():
            if not day.is_open:
                continue
            open_hours = (day.closes - day.opens).total_seconds() / 3600
            for bay in day.bays:
                kind_hours[bay.kind] += open_hours
            for person in day.technicians:
                hours = sum((end - start).total_seconds() / 3600 for start, end in person.windows)
                tech_hours[person.user_id] += hours
                dealer_hours[dealer_id] += hours
    return {"kind": kind_hours, "tech": tech_hours, "dealer": dealer_hours}


def _planned(user, first, last, dealer_ids) -> dict:
    """Hours on the day plans of ``first``..``last`` the user may see, per bay kind and per
    technician (nothing when they may not see day plans)."""
    plans = DayPlan.objects.restrict(user, "view").filter(
        dealer_id__in=dealer_ids, day__range=(first, last)
    )
    jobs = PlannedJob.objects.filter(plan__in=plans)
    span = Sum(_duration("starts_at", "ends_at"))
    return {
        "kind": dict(jobs.values_list("bay__kind").annotate(h=span).order_by()),
        "tech": dict(jobs.values_list("technician_id").annotate(h=span).order_by()),
    }


def _row(available: float, booked, planned) -> dict:
    booked, planned = _hours(booked), _hours(planned)
    return {
        "available_hours": round(available, 1),
        "booked_hours": booked,
        "utilisation": _rate(booked, available),
        "planned_hours": planned,
        "planned_utilisation": _rate(planned, available),
    }


def _utilisation(rows, capacity: dict, planned: dict) -> dict:
    """Booked and planned hours against the hours there were, per bay kind and per
    technician."""
    from aftersales.org.models import User
    from aftersales.workorders.choices import BayKind

    counted = rows.filter(status__in=COUNTED)
    booked_kind = dict(counted.values_list("bay__kind").annotate(h=Sum("hours")).order_by())
    booked_tech = dict(counted.values_list("technician_id").annotate(h=Sum("hours")).order_by())
    kinds = set(capacity["kind"]) | set(booked_kind) | set(planned["kind"])
    per_kind = [
        {
            "bay_kind": kind,
            "label": str(BayKind(kind).label),
            **_row(
                capacity["kind"].get(kind, 0.0), booked_kind.get(kind), planned["kind"].get(kind)
            ),
        }
        for kind in BayKind.values
        if kind in kinds
    ]
    techs = set(capacity["tech"]) | set(booked_tech) | set(planned["tech"])
    names = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=techs).only("username", "first_name", "last_name")
    }
    per_technician = [
        {
            "technician": tech,
            "name": names.get(tech, str(tech)),
            **_row(
                capacity["tech"].get(tech, 0.0), booked_tech.get(tech), planned["tech"].get(tech)
            ),
        }
        for tech in sorted(techs, key=lambda t: (names.get(t, ""), t))
    ]
    return {"per_bay_kind": per_kind, "per_technician": per_technician}


def stats_workbook(stats: dict):
    """The statistics as an Excel workbook (openpyxl): summary, channels, bay kinds,
    technicians and dealers, one sheet each."""
    from django.utils.translation import gettext as _
    from openpyxl import Workbook
    from openpyxl.styles import Font

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
        (_("Still open"), "open"),
        (_("Show rate %"), "show_rate"),
        (_("No-show rate %"), "no_show_rate"),
        (_("Cancellation rate %"), "cancel_rate"),
        (_("Average lead time (hours)"), "lead_time_hours"),
        (_("Booked hours"), "booked_hours"),
        (_("Technician hours available"), "available_hours"),
        (_("Utilisation %"), "utilisation"),
    ):
        sheet.append([str(label), stats[key]])
    rate_head = [
        str(_("Available hours")),
        str(_("Booked hours")),
        str(_("Utilisation %")),
        str(_("Planned hours")),
        str(_("Planned %")),
    ]

    def rates(row):
        return [
            row["available_hours"],
            row["booked_hours"],
            row["utilisation"],
            row["planned_hours"],
            row["planned_utilisation"],
        ]

    channels = book.create_sheet(str(_("Channels"))[:31])
    channels.append([str(_("Channel")), str(_("Bookings")), str(_("Share %"))])
    for row in stats["by_channel"]:
        channels.append([row["label"], row["bookings"], row["share"]])
    kinds = book.create_sheet(str(_("Bay kinds"))[:31])
    kinds.append([str(_("Bay kind")), *rate_head])
    for row in stats["per_bay_kind"]:
        kinds.append([row["label"], *rates(row)])
    techs = book.create_sheet(str(_("Technicians"))[:31])
    techs.append([str(_("Technician")), *rate_head])
    for row in stats["per_technician"]:
        techs.append([row["name"], *rates(row)])
    dealers = book.create_sheet(str(_("Dealers"))[:31])
    dealers.append(
        [
            str(_("Dealer")),
            str(_("Name")),
            str(_("Bookings")),
            str(_("Checked in")),
            str(_("No-shows")),
            str(_("Cancelled")),
            str(_("Show rate %")),
            str(_("No-show rate %")),
            str(_("Cancellation rate %")),
            str(_("Average lead time (hours)")),
            str(_("Available hours")),
            str(_("Booked hours")),
            str(_("Utilisation %")),
        ]
    )
    for row in stats["per_dealer"]:
        dealers.append(
            [
                row["dealer"],
                row["name"],
                row["bookings"],
                row["checked_in"],
                row["no_shows"],
                row["cancelled"],
                row["show_rate"],
                row["no_show_rate"],
                row["cancel_rate"],
                row["lead_time_hours"],
                row["available_hours"],
                row["booked_hours"],
                row["utilisation"],
            ]
        )
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 28
    return book


def default_range(today: datetime.date):
    """The last 30 days and the bookings of the next 14 (rates count final states only)."""
    return today - datetime.timedelta(days=29), today + datetime.timedelta(days=14)
