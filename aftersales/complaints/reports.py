"""Complaint reports (SPEC §9 assessment, §13; issue 8 item 10): counts, the time-limit
figures, the overdue list, repeat complaints, escalations and the dealer assessment for
the annual business policy, for the complaints the acting user may export
(``Complaint.objects.restrict(user, "export")``: OEM roles all, a region manager its
region's dealers; complaints without a dealer are seen at OEM level only).

Every function takes the acting user and a ``ReportFilters`` and returns plain data
(dicts, lists, Decimals). Everything is aggregated in the database, a fixed number of
queries whatever the number of complaints; only the finished per-group rows are turned
into rates, points and ranks in Python.

Definitions (also in the user documentation, var/helpers/docs-complaint-reports.md):

* The report covers the complaints *received* (or, with ``basis="filed"``, *filed*) in
  the date range, narrowed by region, dealer, channel, type and grade. Formal complaints
  (投诉) are those filed at some time (status filed, in handling or closed); the others
  are informal complaints (抱怨: to judge, to file, invalid, resolved by the agent).
* Counts by channel, region, dealer and vehicle model give both all complaints received
  and the formal ones; type and grade are given on filing, so those counts are formal
  complaints only.
* On-time rate = closed within the limit ÷ closed, over the formal complaints of the
  period that are closed now. Handling time is ``handling_days`` (working days, set on
  closure); the 90th percentile is the continuous percentile (PostgreSQL's
  ``percentile_cont(0.9)``): with the n values sorted, position p = 0.9 × (n − 1), the
  value at ⌊p⌋ plus (p − ⌊p⌋) × the step to the next one. Elsewhere it is read from the
  sorted values with OFFSET, giving the same figure.
* Overdue: filed, unclosed complaints past their deadline (now, whatever the date range),
  not counting a complaint whose clock was paused before the deadline passed.
* Repeat complaints: a customer or a vehicle with two or more complaints in the report
  (all received complaints except those judged invalid).
* Escalations: those raised on the complaints of the report.
* Dealer assessment: see ``dealer_assessment``.
"""

from __future__ import annotations

import datetime
import io
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateField,
    F,
    FloatField,
    Max,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftersales.complaints import clock
from aftersales.complaints.choices import (
    FORMAL,
    RUNNING,
    Category,
    Channel,
    EscalationReason,
    Grade,
)
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import (
    Complaint,
    ComplaintFollowUp,
    ComplaintSettings,
    Escalation,
    default_weights,
)
from aftersales.core import reporting
from aftersales.core.reporting import query_int

EXPORT = "complaints.export_complaint"
BASES = ("received", "filed")
MEASURES = ("on_time", "count", "repeat", "escalated", "satisfaction")
# The count measure divides by at least this many repair orders, so that a dealer with a
# handful of repair orders is not scored on a ratio of tiny numbers.
MIN_REPAIR_ORDERS = 100
P90 = Decimal("0.9")
ZERO = Decimal("0")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers: complaints received (or filed) from ``date_from`` to
    ``date_to`` (inclusive local days; open-ended when None), of one region, dealer,
    channel, type (``category``) and grade when given."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    basis: str = "received"
    region_id: int | None = None
    dealer_id: int | None = None
    channel: str = ""
    category: str = ""
    grade: str = ""

    @property
    def date_field(self) -> str:
        return "filed_at" if self.basis == "filed" else "received_at"

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links and the export)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "basis": self.basis if self.basis != "received" else "",
            "region": str(self.region_id or ""),
            "dealer": str(self.dealer_id or ""),
            "channel": self.channel,
            "category": self.category,
            "grade": self.grade,
        }
        return {k: v for k, v in values.items() if v}


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The calendar year so far: the period of the annual business policy."""
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), today


def _date(raw) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def filters_from_query(params, *, today=None) -> ReportFilters:
    """Filters from query parameters (``date_from``, ``date_to``, ``basis``, ``region``,
    ``dealer``, ``channel``, ``category``, ``grade``). Values that mean nothing are
    ignored; without any date the period is the calendar year so far."""
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    if date_from is None and date_to is None:
        date_from, date_to = default_period(today)
    if date_from and date_to and date_to < date_from:
        date_from, date_to = date_to, date_from
    basis = params.get("basis") or "received"
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        basis=basis if basis in BASES else "received",
        region_id=query_int(params.get("region")),
        dealer_id=query_int(params.get("dealer")),
        channel=params.get("channel") if params.get("channel") in Channel.values else "",
        category=params.get("category") if params.get("category") in Category.values else "",
        grade=params.get("grade") if params.get("grade") in Grade.values else "",
    )


def visible_dealers(user):
    """The dealers whose complaints ``user`` may report on (their region's or all)."""
    return reporting.dealers_for(user, EXPORT)


def visible_regions(user):
    return reporting.regions_for(user, EXPORT)


def out_of_scope(user, filters: ReportFilters) -> bool:
    """Does the filter name a dealer or region the user may not report on?"""
    return reporting.out_of_scope(user, EXPORT, filters)


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def complaints(user, filters: ReportFilters, *, dates: bool = True):
    """The complaints the report covers (formal and informal), within the user's scope."""
    rows = Complaint.objects.restrict(user, "export")
    field = filters.date_field
    if filters.basis == "filed":
        rows = rows.filter(filed_at__isnull=False)
    if dates and filters.date_from:
        rows = rows.filter(**{f"{field}__gte": _day_start(filters.date_from)})
    if dates and filters.date_to:
        end = _day_start(filters.date_to + datetime.timedelta(days=1))
        rows = rows.filter(**{f"{field}__lt": end})
    if filters.region_id:
        rows = rows.filter(region_id=filters.region_id)
    if filters.dealer_id:
        rows = rows.filter(dealer_id=filters.dealer_id)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.grade:
        rows = rows.filter(grade=filters.grade)
    return rows


# ---------------------------------------------------------------- helpers


class Row(dict):
    """A line of a report keyed by a record (a dealer, a complaint): a plain dict whose
    ``pk`` is its ``id``, so pages can hand it on as their ``object_list``."""

    @property
    def pk(self):
        return self.get("id")


FORMAL_Q = Q(status__in=FORMAL)
CLOSED_Q = Q(status=S.CLOSED)


def rate(part, whole) -> Decimal | None:
    """``part`` ÷ ``whole`` in per cent to one decimal; None when there is nothing."""
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def _days(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _received_formal():
    return {"received": Count("id"), "formal": Count("id", filter=FORMAL_Q)}


def _grouped(rows, key_fields, annotations, order):
    return rows.values(*key_fields).annotate(**annotations).order_by(*order)


# ---------------------------------------------------------------- 1. counts


def counts(user, filters: ReportFilters) -> dict:
    """Totals and counts by channel, type, grade, region, dealer, vehicle model and month.

    ``received`` counts every complaint (formal and informal), ``formal`` the filed ones;
    by type and grade only ``formal`` (only filed complaints have a type and a grade).
    By month: received, formal, closed and closed on time, with the on-time rate."""
    rows = complaints(user, filters)
    totals = rows.aggregate(
        **_received_formal(),
        invalid=Count("id", filter=Q(status=S.INVALID)),
        resolved=Count("id", filter=Q(status=S.RESOLVED)),
        to_judge=Count("id", filter=Q(status__in=[S.NEW, S.TO_FILE])),
        running=Count("id", filter=Q(status__in=RUNNING)),
        closed=Count("id", filter=CLOSED_Q),
    )
    totals["informal"] = totals["received"] - totals["formal"]

    channels = {
        r["channel"]: r for r in _grouped(rows, ["channel"], _received_formal(), ["channel"])
    }
    by_channel = [
        {
            "key": value,
            "label": str(label),
            "received": channels.get(value, {}).get("received", 0),
            "formal": channels.get(value, {}).get("formal", 0),
        }
        for value, label in Channel.choices
    ]
    formal = rows.filter(FORMAL_Q)
    types = dict(formal.values_list("category").annotate(n=Count("id")).order_by())
    by_type = [
        {"key": value, "label": str(label), "formal": types.get(value, 0)}
        for value, label in Category.choices
    ]
    grades = dict(formal.values_list("grade").annotate(n=Count("id")).order_by())
    by_grade = [
        {"key": value, "label": str(label), "formal": grades.get(value, 0)}
        for value, label in Grade.choices
    ]
    not_assigned = pgettext("complaint dealer", "Not assigned")
    by_region = [
        {
            "id": r["region_id"],
            "code": r["region__code"] or "",
            "label": r["region__name"] or not_assigned,
            "received": r["received"],
            "formal": r["formal"],
        }
        for r in _grouped(
            rows,
            ["region_id", "region__code", "region__name"],
            _received_formal(),
            [F("region__code").asc(nulls_last=True)],
        )
    ]
    by_dealer = [
        {
            "id": r["dealer_id"],
            "code": r["dealer__code"] or "",
            "label": r["dealer__name"] or not_assigned,
            "region": r["dealer__region__name"] or "",
            "received": r["received"],
            "formal": r["formal"],
        }
        for r in _grouped(
            rows,
            ["dealer_id", "dealer__code", "dealer__name", "dealer__region__name"],
            _received_formal(),
            [F("dealer__code").asc(nulls_last=True)],
        )
    ]
    model = "vehicle__variant__vehicle_model"
    by_vehicle_model = [
        {
            "id": r[f"{model}_id"],
            "code": r[f"{model}__code"] or "",
            "label": r[f"{model}__name"] or _("No vehicle given"),
            "received": r["received"],
            "formal": r["formal"],
        }
        for r in _grouped(
            rows,
            [f"{model}_id", f"{model}__code", f"{model}__name"],
            _received_formal(),
            [F(f"{model}__code").asc(nulls_last=True)],
        )
    ]
    by_month = [
        {
            "month": r["month"].strftime("%Y-%m"),
            "received": r["received"],
            "formal": r["formal"],
            "closed": r["closed"],
            "on_time": r["on_time"],
            "on_time_rate": rate(r["on_time"], r["closed"]),
        }
        for r in rows.annotate(month=TruncMonth(filters.date_field, output_field=DateField()))
        .values("month")
        .annotate(
            **_received_formal(),
            closed=Count("id", filter=CLOSED_Q),
            on_time=Count("id", filter=CLOSED_Q & Q(closed_on_time=True)),
        )
        .order_by("month")
    ]
    return {
        "totals": totals,
        "by_channel": by_channel,
        "by_type": by_type,
        "by_grade": by_grade,
        "by_region": by_region,
        "by_dealer": by_dealer,
        "by_vehicle_model": by_vehicle_model,
        "by_month": by_month,
    }


# ---------------------------------------------------------------- 2. time limits


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile of an ordered set."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: Decimal, **extra):
        super().__init__(expression, fraction=str(Decimal(fraction)), **extra)


def database_percentile() -> bool:
    return connection.vendor == "postgresql"


def percentile_by_offset(rows, field: str, n: int, fraction: Decimal = P90) -> Decimal | None:
    """The continuous percentile of ``field`` over ``rows`` (``n`` of them) read from the
    sorted values: the one or two values around position ``fraction × (n − 1)`` (OFFSET,
    LIMIT 2), interpolated. The same figure as ``percentile_cont``."""
    if not n:
        return None
    position = fraction * (n - 1)
    low = math.floor(position)
    values = list(
        rows.order_by(field).values_list(field, flat=True)[low : low + 2]  # noqa: E203
    )
    if not values:
        return None
    first = Decimal(values[0])
    if len(values) == 1 or position == low:
        return first
    return first + (Decimal(values[1]) - first) * (position - low)


def time_limits(user, filters: ReportFilters) -> dict:
    """On-time closure rate and handling time (working days) of the formal complaints of
    the period that are closed: average and 90th percentile. One query on PostgreSQL,
    two elsewhere."""
    closed = complaints(user, filters).filter(CLOSED_Q, handling_days__isnull=False)
    aggregates = {
        "closed": Count("id"),
        "on_time": Count("id", filter=Q(closed_on_time=True)),
        "average": Avg("handling_days"),
    }
    if database_percentile():
        aggregates["p90"] = PercentileCont("handling_days", P90)
    figures = closed.aggregate(**aggregates)
    if not database_percentile():
        figures["p90"] = percentile_by_offset(closed, "handling_days", figures["closed"])
    return {
        "closed": figures["closed"],
        "on_time": figures["on_time"],
        "late": figures["closed"] - figures["on_time"],
        "on_time_rate": rate(figures["on_time"], figures["closed"]),
        "average_days": _days(figures["average"]),
        "p90_days": _days(figures["p90"]),
    }


# ---------------------------------------------------------------- 3. overdue


def overdue_complaints(user, filters: ReportFilters, *, now=None, include_due=False):
    """Filed, unclosed complaints past their deadline (the date range does not apply: the
    list is about now), most overdue first. A complaint whose clock was paused before its
    deadline passed is not overdue. ``include_due`` lists every running complaint with a
    deadline, those still in time too."""
    now = now or timezone.now()
    rows = complaints(user, filters, dates=False).filter(
        status__in=RUNNING, deadline_at__isnull=False
    )
    if not include_due:
        rows = rows.filter(deadline_at__lt=now).filter(
            Q(paused_since__isnull=True) | Q(paused_since__gte=F("deadline_at"))
        )
    return rows.select_related("dealer", "region").order_by("deadline_at", "id")


def overdue_row(complaint, now) -> dict:
    """One line of the overdue list: the working time left (negative: over) in working
    days, measured to the start of a running pause."""
    until = complaint.paused_since or now
    left = clock.working_time(until, complaint.deadline_at)
    days = clock.working_days(abs(left))
    # overdue once the deadline's instant has gone by, as the overdue queue says, even
    # with no working time since (a Friday-evening deadline on Saturday: 0.00 days over)
    overdue = complaint.deadline_at < until
    return {
        "id": complaint.pk,
        "number": complaint.number,
        "subject": complaint.subject,
        "status": complaint.status,
        "status_label": str(complaint.get_status_display()),
        "category": complaint.category,
        "category_label": str(complaint.get_category_display()),
        "grade": complaint.grade,
        "grade_label": str(complaint.get_grade_display()),
        "dealer": complaint.dealer.code if complaint.dealer_id else "",
        "dealer_name": complaint.dealer.name if complaint.dealer_id else "",
        "region": complaint.region.name if complaint.region_id else "",
        "filed_at": complaint.filed_at,
        "deadline_at": complaint.deadline_at,
        "overdue": overdue,
        "remaining_days": -days if overdue else days,
        "over_days": days if overdue else None,
        "paused": complaint.paused_since is not None,
        "escalation_level": complaint.escalation_level,
    }


def overdue_page(
    user, filters: ReportFilters, *, page=1, page_size=50, now=None, include_due=False
) -> dict:
    """One page of the overdue list (two queries: the count and the page)."""
    now = now or timezone.now()
    paginator = Paginator(
        overdue_complaints(user, filters, now=now, include_due=include_due), page_size
    )
    current = paginator.get_page(page)
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages,
        "page_obj": current,
        "rows": [overdue_row(c, now) for c in current.object_list],
    }


# ---------------------------------------------------------------- 4. repeats


def _valid(user, filters):
    """The complaints repeat detection counts: all of the report but the invalid ones."""
    return complaints(user, filters).exclude(status=S.INVALID)


def _repeat_q(valid):
    """Complaints whose customer or vehicle has two or more valid complaints in ``valid``
    (subqueries, so it can sit inside an aggregate's filter)."""
    customers = (
        valid.filter(customer__isnull=False)
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values("customer_id")
    )
    vehicles = (
        valid.filter(vehicle__isnull=False)
        .values("vehicle_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values("vehicle_id")
    )
    return Q(customer_id__in=customers) | Q(vehicle_id__in=vehicles)


def _repeat_annotations():
    return {
        "complaints": Count("id"),
        "formal": Count("id", filter=FORMAL_Q),
        "dealers": Count("dealer_id", distinct=True),
        "first_at": Min("received_at"),
        "last_at": Max("received_at"),
    }


def repeats(user, filters: ReportFilters) -> dict:
    """Customers and vehicles with two or more complaints in the report (invalid ones not
    counted), most complaints first."""
    valid = _valid(user, filters)
    customers = (
        valid.filter(customer__isnull=False)
        .values("customer_id", "customer__name")
        .annotate(**_repeat_annotations())
        .filter(complaints__gte=2)
        .order_by("-complaints", "customer__name", "customer_id")
    )
    model = "vehicle__variant__vehicle_model__name"
    vehicles = (
        valid.filter(vehicle__isnull=False)
        .values("vehicle_id", "vehicle__vin", "vehicle__plate", model)
        .annotate(**_repeat_annotations())
        .filter(complaints__gte=2)
        .order_by("-complaints", "vehicle__vin")
    )
    return {
        "customers": [
            {
                "id": r["customer_id"],
                "name": r["customer__name"],
                "complaints": r["complaints"],
                "formal": r["formal"],
                "dealers": r["dealers"],
                "first_at": r["first_at"],
                "last_at": r["last_at"],
            }
            for r in customers
        ],
        "vehicles": [
            {
                "id": r["vehicle_id"],
                "vin": r["vehicle__vin"],
                "plate": r["vehicle__plate"],
                "model": r[model] or "",
                "complaints": r["complaints"],
                "formal": r["formal"],
                "dealers": r["dealers"],
                "first_at": r["first_at"],
                "last_at": r["last_at"],
            }
            for r in vehicles
        ],
    }


# ---------------------------------------------------------------- 5. escalations


def _escalation_annotations():
    decided = Q(decided_at__isnull=False)
    return {
        "raised": Count("id"),
        "decided": Count("id", filter=decided),
        "amount": Sum("amount"),
        "approved": Sum("approved_amount", filter=decided),
    }


def _escalation_row(r) -> dict:
    return {
        "raised": r["raised"],
        "decided": r["decided"],
        "open": r["raised"] - r["decided"],
        "amount": (r["amount"] or ZERO).quantize(CENT),
        "approved": (r["approved"] or ZERO).quantize(CENT),
    }


def escalations(user, filters: ReportFilters) -> dict:
    """Escalations raised on the complaints of the report: by reason and by level, decided
    and still open, the goodwill involved and the goodwill approved (decided ones)."""
    rows = Escalation.objects.filter(complaint__in=complaints(user, filters).values("pk"))
    reasons = {
        r["reason"]: r
        for r in rows.values("reason").annotate(**_escalation_annotations()).order_by()
    }
    empty = {"raised": 0, "decided": 0, "amount": None, "approved": None}
    by_reason = [
        {"key": value, "label": str(label), **_escalation_row(reasons.get(value, empty))}
        for value, label in EscalationReason.choices
    ]
    by_level = [
        {
            "level": r["level"],
            "label": _("Level %(level)s") % {"level": r["level"]},
            **_escalation_row(r),
        }
        for r in rows.values("level").annotate(**_escalation_annotations()).order_by("level")
    ]
    totals = {
        key: sum((row[key] for row in by_reason), ZERO if key in ("amount", "approved") else 0)
        for key in ("raised", "decided", "open", "amount", "approved")
    }
    return {"totals": totals, "by_reason": by_reason, "by_level": by_level}


# ---------------------------------------------------------------- 6. dealer assessment


def assessment_weights(settings_row: ComplaintSettings | None = None) -> dict[str, Decimal]:
    """The weights of the five measures from the complaint settings; a weight missing
    there keeps its default, a negative or unreadable one counts 0."""
    saved = (settings_row or ComplaintSettings.current()).assessment_weights or {}
    weights = {}
    for key, default in default_weights().items():
        try:
            value = Decimal(str(saved.get(key, default)))
        except ArithmeticError:
            value = ZERO
        weights[key] = max(value, ZERO) if value.is_finite() else ZERO
    return weights


def measure_scores(
    *, formal, closed, on_time, repeat, escalated, repair_orders, satisfaction
) -> dict[str, Decimal | None]:
    """Each measure as a score from 0 to 1 (None: cannot be measured).

    * on_time: closed within the limit ÷ closed (None without closed complaints);
    * count: 1 ÷ (1 + complaints per 100 repair orders), the repair orders counted as at
      least ``MIN_REPAIR_ORDERS`` (no complaint: 1; one per 100 ROs: 0.5);
    * repeat: 1 − repeat share; escalated: 1 − escalated share (no complaint: 1);
    * satisfaction: (average follow-up score − 1) ÷ 4 (None without scored follow-ups).
    """
    per_100 = Decimal(100 * formal) / Decimal(max(repair_orders, MIN_REPAIR_ORDERS))
    return {
        "on_time": Decimal(on_time) / Decimal(closed) if closed else None,
        "count": 1 / (1 + per_100),
        "repeat": 1 - Decimal(repeat) / Decimal(formal) if formal else Decimal(1),
        "escalated": 1 - Decimal(escalated) / Decimal(formal) if formal else Decimal(1),
        "satisfaction": (Decimal(str(satisfaction)) - 1) / 4 if satisfaction is not None else None,
    }


def measure_points(
    scores: dict[str, Decimal | None], weights: dict[str, Decimal]
) -> tuple[dict[str, Decimal | None], Decimal | None]:
    """Points per measure and the total out of 100: each measured score × its weight,
    scaled by 100 ÷ the sum of the weights of the measures that could be measured (a
    measure that cannot be measured shares its weight among the others)."""
    measured = sum((weights[k] for k in MEASURES if scores[k] is not None), ZERO)
    if not measured:
        return dict.fromkeys(MEASURES), None
    points = {
        k: None
        if scores[k] is None
        else (Decimal(100) * weights[k] * scores[k] / measured).quantize(TENTH, ROUND_HALF_UP)
        for k in MEASURES
    }
    total = sum(
        (
            Decimal(100) * weights[k] * scores[k] / measured
            for k in MEASURES
            if scores[k] is not None
        ),
        ZERO,
    )
    return points, total.quantize(TENTH, ROUND_HALF_UP)


def _repair_orders(user, filters, dealer_ids) -> dict[int, int]:
    """Repair orders opened (not cancelled) in the period at the dealers."""
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.models import RepairOrder

    rows = RepairOrder.objects.filter(dealer_id__in=dealer_ids).exclude(status=ROStatus.CANCELLED)
    if filters.date_from:
        rows = rows.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(created_at__lt=_day_start(filters.date_to + datetime.timedelta(days=1)))
    return dict(rows.values_list("dealer_id").annotate(n=Count("id")).order_by())


def dealer_assessment(user, filters: ReportFilters) -> dict:
    """The dealer assessment for the annual business policy: per dealer the user may
    report on (narrowed by the region and dealer filters; dealers without complaints
    included), over its formal complaints of the period:

    * complaints, and complaints per 100 repair orders opened in the period;
    * on-time rate (closed within the limit ÷ closed);
    * repeat share (complaints whose customer or vehicle has 2+ valid complaints in the
      report ÷ complaints); escalated share (complaints escalated at least once ÷
      complaints);
    * average satisfaction (1-5) of the follow-ups recorded on them;

    each turned into a score from 0 to 1 (``measure_scores``), weighted with the complaint
    settings' ``assessment_weights`` into points out of 100 (``measure_points``), ranked
    by points (equal points share a rank; dealers that cannot be scored come last).
    Six queries."""
    settings_row = ComplaintSettings.current()
    weights = assessment_weights(settings_row)
    dealers = visible_dealers(user)
    if filters.dealer_id:
        dealers = dealers.filter(pk=filters.dealer_id)
    if filters.region_id:
        dealers = dealers.filter(region_id=filters.region_id)
    dealers = list(dealers.values("pk", "code", "name", "region__name"))
    dealer_ids = [d["pk"] for d in dealers]
    scoped = complaints(user, filters)
    formal = scoped.filter(FORMAL_Q, dealer_id__in=dealer_ids)
    measures = {
        r["dealer_id"]: r
        for r in formal.values("dealer_id")
        .annotate(
            formal=Count("id"),
            closed=Count("id", filter=CLOSED_Q),
            on_time=Count("id", filter=CLOSED_Q & Q(closed_on_time=True)),
            repeat=Count("id", filter=_repeat_q(scoped.exclude(status=S.INVALID))),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
            average_days=Avg("handling_days", filter=CLOSED_Q),
        )
        .order_by()
    }
    satisfaction = {
        r["complaint__dealer_id"]: r
        for r in ComplaintFollowUp.objects.filter(
            complaint__in=formal.values("pk"), score__isnull=False
        )
        .values("complaint__dealer_id")
        .annotate(average=Avg("score"), answers=Count("id"))
        .order_by()
    }
    repair_orders = _repair_orders(user, filters, dealer_ids)
    empty = {"formal": 0, "closed": 0, "on_time": 0, "repeat": 0, "escalated": 0}
    rows = []
    for dealer in dealers:
        m = measures.get(dealer["pk"], {**empty, "average_days": None})
        answers = satisfaction.get(dealer["pk"], {"average": None, "answers": 0})
        ros = repair_orders.get(dealer["pk"], 0)
        scores = measure_scores(
            formal=m["formal"],
            closed=m["closed"],
            on_time=m["on_time"],
            repeat=m["repeat"],
            escalated=m["escalated"],
            repair_orders=ros,
            satisfaction=answers["average"],
        )
        points, total = measure_points(scores, weights)
        rows.append(
            Row(
                {
                    "id": dealer["pk"],
                    "dealer": dealer["code"],
                    "dealer_name": dealer["name"],
                    "region": dealer["region__name"] or "",
                    "complaints": m["formal"],
                    "repair_orders": ros,
                    "per_100_ros": (Decimal(100 * m["formal"]) / Decimal(ros)).quantize(
                        CENT, ROUND_HALF_UP
                    )
                    if ros
                    else None,
                    "closed": m["closed"],
                    "on_time": m["on_time"],
                    "on_time_rate": rate(m["on_time"], m["closed"]),
                    "average_days": _days(m["average_days"]),
                    "repeat": m["repeat"],
                    "repeat_share": rate(m["repeat"], m["formal"]),
                    "escalated": m["escalated"],
                    "escalated_share": rate(m["escalated"], m["formal"]),
                    "satisfaction": _days(answers["average"]),
                    "satisfaction_answers": answers["answers"],
                    "points": points,
                    "total": total,
                }
            )
        )
    rows.sort(key=lambda r: (r["total"] is None, -(r["total"] or 0), r["dealer"]))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row["total"] is None:
            row["rank"] = None
            continue
        if row["total"] != previous:
            rank, previous = position, row["total"]
        row["rank"] = rank
    return {"weights": weights, "rows": rows}


# ---------------------------------------------------------------- everything


def full_report(user, filters: ReportFilters, *, now=None, overdue_page_number=1) -> dict:
    """Everything the report page and the workbook show."""
    return {
        "filters": filters,
        "counts": counts(user, filters),
        "time_limits": time_limits(user, filters),
        "overdue": overdue_page(user, filters, page=overdue_page_number, now=now),
        "repeats": repeats(user, filters),
        "escalations": escalations(user, filters),
        "assessment": dealer_assessment(user, filters),
    }


# ---------------------------------------------------------------- Excel


def measure_labels() -> dict[str, str]:
    return {
        "on_time": _("On-time closure"),
        "count": _("Complaints per 100 ROs"),
        "repeat": _("Repeat complaints"),
        "escalated": _("Escalations"),
        "satisfaction": _("Satisfaction"),
    }


def _sheet(book, title, header, rows, *, first=False):
    from openpyxl.styles import Font

    sheet = book.active if first else book.create_sheet()
    sheet.title = title[:31]
    sheet.append([str(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    return sheet


def _cell(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None:
        return ""
    return value


def sheet_titles() -> list[str]:
    return [
        _("Summary"),
        _("By channel"),
        _("By type"),
        _("By grade"),
        _("By region"),
        _("By dealer"),
        _("By vehicle model"),
        _("By month"),
        _("Overdue"),
        _("Repeat customers"),
        _("Repeat vehicles"),
        _("Escalations"),
        _("Dealer assessment"),
    ]


def report_workbook(user, filters: ReportFilters, *, now=None) -> bytes:
    """The report as an Excel workbook, one sheet per table (the overdue list in full)."""
    from openpyxl import Workbook

    now = now or timezone.now()
    data = counts(user, filters)
    limits = time_limits(user, filters)
    titles = iter(sheet_titles())
    book = Workbook()
    totals = data["totals"]
    period = " – ".join(d.isoformat() if d else "…" for d in (filters.date_from, filters.date_to))
    basis = (
        pgettext("complaint date", "filed")
        if filters.basis == "filed"
        else pgettext("complaint date", "received")
    )
    _sheet(
        book,
        next(titles),
        [_("Figure"), pgettext("report figure", "Value")],
        [
            [_("Period (%(basis)s)") % {"basis": basis}, period],
            [_("Complaints received"), totals["received"]],
            [_("Formal complaints"), totals["formal"]],
            [_("Informal complaints"), totals["informal"]],
            [pgettext("complaint", "Closed"), limits["closed"]],
            [_("Closed on time"), limits["on_time"]],
            [_("On-time rate %"), limits["on_time_rate"]],
            [_("Average handling time (working days)"), limits["average_days"]],
            [_("90th percentile handling time (working days)"), limits["p90_days"]],
        ],
        first=True,
    )
    received, formal = pgettext("complaint count", "Received"), _("Formal")
    _sheet(
        book,
        next(titles),
        [_("Channel"), received, formal],
        [[r["label"], r["received"], r["formal"]] for r in data["by_channel"]],
    )
    _sheet(
        book,
        next(titles),
        [pgettext("complaint", "Type"), formal],
        [[r["label"], r["formal"]] for r in data["by_type"]],
    )
    _sheet(
        book,
        next(titles),
        [_("Grade"), formal],
        [[r["label"], r["formal"]] for r in data["by_grade"]],
    )
    _sheet(
        book,
        next(titles),
        [_("Code"), _("Region"), received, formal],
        [[r["code"], r["label"], r["received"], r["formal"]] for r in data["by_region"]],
    )
    _sheet(
        book,
        next(titles),
        [_("Code"), _("Dealer"), _("Region"), received, formal],
        [
            [r["code"], r["label"], r["region"], r["received"], r["formal"]]
            for r in data["by_dealer"]
        ],
    )
    _sheet(
        book,
        next(titles),
        [_("Code"), _("Vehicle model"), received, formal],
        [[r["code"], r["label"], r["received"], r["formal"]] for r in data["by_vehicle_model"]],
    )
    _sheet(
        book,
        next(titles),
        [
            _("Month"),
            received,
            formal,
            pgettext("complaint", "Closed"),
            _("Closed on time"),
            _("On-time rate %"),
        ],
        [
            [r["month"], r["received"], r["formal"], r["closed"], r["on_time"], r["on_time_rate"]]
            for r in data["by_month"]
        ],
    )
    overdue = [overdue_row(c, now) for c in overdue_complaints(user, filters, now=now)]
    _sheet(
        book,
        next(titles),
        [
            _("Number"),
            _("Subject"),
            _("Dealer"),
            _("Region"),
            pgettext("complaint", "Type"),
            _("Grade"),
            _("Status"),
            _("Deadline"),
            _("Over by (working days)"),
            _("Escalation level"),
        ],
        [
            [
                r["number"],
                r["subject"],
                r["dealer"],
                r["region"],
                r["category_label"],
                r["grade_label"],
                r["status_label"],
                r["deadline_at"],
                r["over_days"],
                r["escalation_level"],
            ]
            for r in overdue
        ],
    )
    repeat = repeats(user, filters)
    _sheet(
        book,
        next(titles),
        [
            _("Customer"),
            pgettext("count", "Complaints"),
            formal,
            _("Dealers"),
            _("First complaint"),
            _("Latest complaint"),
        ],
        [
            [r["name"], r["complaints"], r["formal"], r["dealers"], r["first_at"], r["last_at"]]
            for r in repeat["customers"]
        ],
    )
    _sheet(
        book,
        next(titles),
        [
            _("VIN"),
            _("Plate"),
            _("Vehicle model"),
            pgettext("count", "Complaints"),
            formal,
            _("Dealers"),
            _("First complaint"),
            _("Latest complaint"),
        ],
        [
            [
                r["vin"],
                r["plate"],
                r["model"],
                r["complaints"],
                r["formal"],
                r["dealers"],
                r["first_at"],
                r["last_at"],
            ]
            for r in repeat["vehicles"]
        ],
    )
    esc = escalations(user, filters)
    _sheet(
        book,
        next(titles),
        [
            _("Reason or level"),
            _("Raised"),
            pgettext("escalation", "Decided"),
            pgettext("escalation", "Open"),
            _("Goodwill involved"),
            _("Goodwill approved"),
        ],
        [
            [r["label"], r["raised"], r["decided"], r["open"], r["amount"], r["approved"]]
            for r in [*esc["by_reason"], *esc["by_level"]]
        ],
    )
    assessment = dealer_assessment(user, filters)
    labels = measure_labels()
    _sheet(
        book,
        next(titles),
        [
            _("Rank"),
            _("Code"),
            _("Dealer"),
            _("Region"),
            _("Formal complaints"),
            _("Repair orders"),
            _("Complaints per 100 ROs"),
            _("On-time rate %"),
            _("Repeat share %"),
            _("Escalated share %"),
            _("Average satisfaction"),
            *[
                _("%(measure)s points (weight %(weight)s)")
                % {"measure": labels[k], "weight": assessment["weights"][k].normalize()}
                for k in MEASURES
            ],
            _("Points"),
        ],
        [
            [
                r["rank"],
                r["dealer"],
                r["dealer_name"],
                r["region"],
                r["complaints"],
                r["repair_orders"],
                r["per_100_ros"],
                r["on_time_rate"],
                r["repeat_share"],
                r["escalated_share"],
                r["satisfaction"],
                *[r["points"][k] for k in MEASURES],
                r["total"],
            ]
            for r in assessment["rows"]
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = [
    "ReportFilters",
    "counts",
    "dealer_assessment",
    "escalations",
    "filters_from_query",
    "full_report",
    "overdue_page",
    "repeats",
    "report_workbook",
    "time_limits",
]
