"""Reminder statistics (SPEC §10, source document 001 steps 2-16 to 2-18; issue 9 item 6):
per dealer, region and nation, per kind and month, how many reminders were due, reminded
(by channel), followed up and returned, the three rates, and the lists of customers not
reminded, not followed up and not returned, for the reminders the acting user may export
(``reminders.export_reminder``: the OEM all dealers, a region manager the region's, the
DCRC manager their dealer).

Figures come from the reminder statistics table (``ReminderStatistic``, one row per month,
dealer and kind), rebuilt set-based from the reminders by ``statistics_refresh`` (the
recent months every few minutes, every month of the last two years nightly): a year of a
nation's reminders is millions of rows, the table a few thousand, so the page reads in
milliseconds whatever the scope. Each figure set is one ``GROUP BY`` over that table.
The customer lists are read live from the reminders (a page at a time), so a list can
hold a reminder worked since the last refresh that the figures do not count yet; the
page says when the figures were refreshed.

Definitions (also in the user documentation, var/helpers/docs-stats9.md). A reminder
belongs to the month it is due in (``month``) and to the dealer that serves the vehicle.

* Due: the reminders of the months in range (after the kind, region and dealer filters).
* WeChat / SMS: reminders with at least one message on that channel whose status is
  ``sent``. Phone: reminders whose call reached the owner (outcome reminded, declined or
  booked). A reminder can count on several channels.
* Reminded: reminders counted on at least one channel. Reminded rate = reminded ÷ due.
* Followed up: reminders of owners registered on WeChat (``registered``, who were sent a
  message) with a call outcome recorded (any status but open: reminded, not reached,
  declined, booked, wrong number). Followed-up rate = followed up ÷ registered.
* Returned: reminders with a returning repair order (``returned_order``, matched by
  ``returns.returns_match``). Return rate = returned ÷ due. Not returned: no returning
  order and the window closed (``return_by`` before today); the rest are still in their
  window ("awaiting return").
* Lists: not reminded (due, not reminded), not followed up (registered, still open), not
  returned (window closed, no returning order).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core import reporting
from aftersales.core.access import user_scope
from aftersales.core.reporting import query_int
from aftersales.reminders.choices import ReminderKind, ReminderStatus
from aftersales.reminders.models import Reminder
from aftersales.reminders.models_statistics import ReminderStatistic
from aftersales.reminders.schedule import add_months, month_start, parse_month

EXPORT = "reminders.export_reminder"
CONTACT = "crm.contact_customer"
DEFAULT_MONTHS = 12
# The periodic refresh covers the months whose reminders may still change: the current
# and next month (calls, messages) and the RECENT_MONTHS before (returns: the window is 45
# days after the due date by default and ``returns_match`` looks back 60 days more).
RECENT_MONTHS = 5
# The nightly refresh covers this many months back.
FULL_MONTHS = 25
# Outcomes of a call that reached the owner.
REACHED = (ReminderStatus.REMINDED, ReminderStatus.DECLINED, ReminderStatus.BOOKED)
CHANNELS = ("wechat", "sms", "phone")
SENT = "sent"
# The counts of the statistics table, summed by every figure set.
COUNTS = (
    "due",
    "registered",
    "wechat",
    "sms",
    "phone",
    "reminded",
    "called",
    "followed_up",
    "booked",
    "returned",
    "not_returned",
)
LISTS = {
    "not_reminded": gettext_lazy("Not reminded"),
    "not_followed_up": gettext_lazy("Not followed up"),
    "not_returned": gettext_lazy("Not returned"),
}
PAGE_SIZE = 50
LIST_ORDER = ("month", "due_date", "id")
# A list counts at most this many rows (a count over a year of a nation's reminders would
# read them all); beyond it the page says "more than".
LIST_COUNT_CAP = 10_000
# A list's Excel file holds at most this many rows.
EXPORT_MAX_ROWS = 100_000
TENTH = Decimal("0.1")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class StatsFilters:
    """What the statistics cover: reminders due in the months ``month_from`` to
    ``month_to`` (first days of months, both included), of one region, dealer and kind
    when given."""

    month_from: datetime.date
    month_to: datetime.date
    region_id: int | None = None
    dealer_id: int | None = None
    kind: str = ""

    @property
    def months(self) -> list[datetime.date]:
        months, month = [], self.month_from
        while month <= self.month_to:
            months.append(month)
            month = add_months(month, 1)
        return months

    def query(self, **changes) -> dict[str, str]:
        """The filters as query parameters (for links and exports); ``changes`` override
        (``None`` drops one)."""
        values = {
            "month_from": self.month_from.strftime("%Y-%m"),
            "month_to": self.month_to.strftime("%Y-%m"),
            "region": str(self.region_id or ""),
            "dealer": str(self.dealer_id or ""),
            "kind": self.kind,
        }
        values.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


def default_months(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve months: the current month and the eleven before it."""
    this_month = month_start(today or timezone.localdate())
    return add_months(this_month, 1 - DEFAULT_MONTHS), this_month


def _month(raw) -> datetime.date | None:
    try:
        return parse_month(raw[:7]) if isinstance(raw, str) and raw else None
    except ValueError:
        return None


def filters_from_query(params, *, today=None) -> StatsFilters:
    """Filters from query parameters (``month_from``/``month_to`` as YYYY-MM, ``region``,
    ``dealer``, ``kind``). Values that mean nothing are ignored; a missing end of the
    range is taken from the default (the last twelve months)."""
    default_from, default_to = default_months(today)
    month_from, month_to = _month(params.get("month_from")), _month(params.get("month_to"))
    if month_from is None and month_to is None:
        month_from, month_to = default_from, default_to
    elif month_from is None:
        month_from = add_months(month_to, 1 - DEFAULT_MONTHS)
    elif month_to is None:
        month_to = max(month_from, default_to)
    if month_to < month_from:
        month_from, month_to = month_to, month_from
    kind = params.get("kind")
    return StatsFilters(
        month_from=month_from,
        month_to=month_to,
        region_id=query_int(params.get("region")),
        dealer_id=query_int(params.get("dealer")),
        kind=kind if kind in ReminderKind.values else "",
    )


def visible_dealers(user):
    """The dealers whose reminders ``user`` may report on (their own, their region's or
    all)."""
    return reporting.dealers_for(user, EXPORT)


def visible_regions(user):
    return reporting.regions_for(user, EXPORT)


def out_of_scope(user, filters: StatsFilters) -> bool:
    """Does the filter name a dealer or region the user may not report on?"""
    return reporting.out_of_scope(user, EXPORT, filters)


def _scoped(rows, user, filters: StatsFilters, *, dealer_field="dealer_id"):
    """``rows`` (reminders or statistics lines) narrowed to the filters; the caller has
    scoped them to the user already."""
    rows = rows.filter(month__gte=filters.month_from, month__lte=filters.month_to)
    if filters.dealer_id:
        rows = rows.filter(**{dealer_field: filters.dealer_id})
    if filters.region_id:
        rows = rows.filter(dealer__region_id=filters.region_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    return rows


# ---------------------------------------------------------------- channels


def message_model():
    """The reminder messages (WeChat, SMS) when the messages app part is installed."""
    try:
        return apps.get_model("reminders", "ReminderMessage")
    except LookupError:
        return None


def sent_on(channel: str):
    """``Exists``: the reminder has a message on ``channel`` that was sent."""
    messages = message_model()
    if messages is None:
        return None
    return Exists(messages.objects.filter(reminder_id=OuterRef("pk"), channel=channel, status=SENT))


def reminded_q() -> Q:
    """Reminders that reached the owner on at least one channel: reached by phone, or a
    message sent on any channel (one ``EXISTS``, one probe of the messages' key per
    reminder)."""
    condition = Q(status__in=REACHED)
    messages = message_model()
    if messages is not None:
        sent = messages.objects.filter(
            reminder_id=OuterRef("pk"), channel__in=("wechat", "sms"), status=SENT
        )
        condition |= Q(Exists(sent))
    return condition


def _channel_count(channel):
    exists = sent_on(channel)
    return Count("id", filter=Q(exists)) if exists is not None else None


# ---------------------------------------------------------------- refresh


def _recent_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    this_month = month_start(today)
    return add_months(this_month, -RECENT_MONTHS), add_months(this_month, 1)


def statistics_refresh(
    *,
    month_from: datetime.date | None = None,
    month_to: datetime.date | None = None,
    dealer_ids=None,
    today: datetime.date | None = None,
) -> int:
    """Rebuild the statistics lines of the months ``month_from`` to ``month_to`` (default:
    the recent months, see ``RECENT_MONTHS``), of ``dealer_ids`` (default: every dealer),
    from the reminders: one ``GROUP BY`` query (month, dealer, kind) with conditional
    counts, written with an upsert on the line's key; lines whose reminders are gone are
    deleted. A job of the system (no actor): the counting query runs outside the
    transaction, the upsert and the delete in one short one; re-running it changes only
    ``refreshed_at``. Returns the number of lines written."""
    today = today or timezone.localdate()
    recent_from, recent_to = _recent_range(today)
    month_from = month_start(month_from or recent_from)
    month_to = month_start(month_to or recent_to)
    now = timezone.now()
    reminders = Reminder.objects.filter(month__gte=month_from, month__lte=month_to)
    lines = ReminderStatistic.objects.filter(month__gte=month_from, month__lte=month_to)
    if dealer_ids is not None:
        reminders = reminders.filter(dealer_id__in=list(dealer_ids))
        lines = lines.filter(dealer_id__in=list(dealer_ids))
    opened = Q(status=ReminderStatus.OPEN)
    counts = {
        "due": Count("id"),
        "registered": Count("id", filter=Q(registered=True)),
        "phone": Count("id", filter=Q(status__in=REACHED)),
        "reminded": Count("id", filter=reminded_q()),
        "called": Count("id", filter=~opened),
        "followed_up": Count("id", filter=Q(registered=True) & ~opened),
        "booked": Count("id", filter=Q(status=ReminderStatus.BOOKED)),
        "returned": Count("id", filter=Q(returned_order__isnull=False)),
        "not_returned": Count("id", filter=Q(returned_order__isnull=True, return_by__lt=today)),
    }
    for channel in ("wechat", "sms"):
        count = _channel_count(channel)
        if count is not None:
            counts[channel] = count
    # annotated as n_<count>: "registered" is also a reminder field the filters read
    grouped = (
        reminders.values("month", "dealer_id", "kind")
        .annotate(**{f"n_{key}": value for key, value in counts.items()})
        .order_by()
    )
    written = [
        ReminderStatistic(
            month=row["month"],
            dealer_id=row["dealer_id"],
            kind=row["kind"],
            refreshed_at=now,
            **{key: row.get(f"n_{key}", 0) for key in COUNTS},
        )
        for row in grouped
    ]
    # the counting reads outside the transaction; the write is short
    with transaction.atomic():
        ReminderStatistic.objects.bulk_create(
            written,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["month", "dealer", "kind"],
            update_fields=[*COUNTS, "refreshed_at"],
        )
        lines.filter(refreshed_at__lt=now).delete()
    return len(written)


def statistics_refresh_all(*, today: datetime.date | None = None) -> int:
    """The nightly refresh: every month of the last ``FULL_MONTHS`` months and the next."""
    today = today or timezone.localdate()
    this_month = month_start(today)
    return statistics_refresh(
        month_from=add_months(this_month, -FULL_MONTHS),
        month_to=add_months(this_month, 1),
        today=today,
    )


# ---------------------------------------------------------------- figures


def rate(part, whole) -> Decimal | None:
    """``part`` ÷ ``whole`` in per cent to one decimal; None when there is nothing."""
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def figures_of(row) -> dict:
    """The counts of a summed row and what follows from them: the complements (not
    reminded, not followed up, awaiting return) and the three rates."""
    counts = {key: int(row.get(key) or 0) for key in COUNTS}
    due, registered = counts["due"], counts["registered"]
    return {
        **counts,
        "unregistered": due - registered,
        "not_reminded": due - counts["reminded"],
        "not_followed_up": registered - counts["followed_up"],
        "awaiting_return": due - counts["returned"] - counts["not_returned"],
        "reminded_rate": rate(counts["reminded"], due),
        "followed_up_rate": rate(counts["followed_up"], registered),
        "return_rate": rate(counts["returned"], due),
    }


class Row(dict):
    """A line of the statistics keyed by a record (a dealer, a reminder): a plain dict whose
    ``pk`` is its ``id``, so pages can hand it on as their ``object_list``."""

    @property
    def pk(self):
        return self.get("id")


def statistic_lines(user, filters: StatsFilters):
    """The statistics lines the figures sum: the user's dealers, the filters applied."""
    scope = user_scope(user, EXPORT)
    rows = ReminderStatistic.objects.all()
    if not scope.everything:
        rows = rows.filter(dealer_id__in=scope.dealer_ids)
    return _scoped(rows, user, filters)


def _sums():
    return {key: Sum(key) for key in COUNTS}


def kind_labels() -> dict[str, str]:
    return {value: str(label) for value, label in ReminderKind.choices}


def figures(user, filters: StatsFilters) -> dict:
    """Everything the statistics page shows but the customer lists: the totals (the
    nation, or the user's scope), and the same figures by region, dealer, month and kind.
    Five ``GROUP BY`` queries over the statistics table and two for the dealers and
    regions."""
    lines = statistic_lines(user, filters)
    totals = lines.aggregate(**_sums(), as_of=Min("refreshed_at"))
    scope = user_scope(user, EXPORT)
    whole = scope.everything and not (filters.region_id or filters.dealer_id)

    dealers = visible_dealers(user)
    if filters.dealer_id:
        dealers = dealers.filter(pk=filters.dealer_id)
    if filters.region_id:
        dealers = dealers.filter(region_id=filters.region_id)
    dealers = list(dealers)
    by_dealer_counts = {r["dealer_id"]: r for r in lines.values("dealer_id").annotate(**_sums())}
    by_dealer = [
        Row(
            {
                "id": d.pk,
                "code": d.code,
                "label": d.name,
                "region_id": d.region_id,
                "region": d.region.name if d.region_id else "",
                **figures_of(by_dealer_counts.get(d.pk, {})),
            }
        )
        for d in dealers
    ]
    region_counts = {
        r["dealer__region_id"]: r for r in lines.values("dealer__region_id").annotate(**_sums())
    }
    regions = {}
    for d in dealers:
        if d.region_id and d.region_id not in regions:
            regions[d.region_id] = d.region
    by_region = [
        Row(
            {
                "id": region.pk,
                "code": region.code,
                "label": region.name,
                **figures_of(region_counts.get(region.pk, {})),
            }
        )
        for region in sorted(regions.values(), key=lambda r: r.code)
    ]
    month_counts = {r["month"]: r for r in lines.values("month").annotate(**_sums())}
    by_month = [
        {"month": m.strftime("%Y-%m"), **figures_of(month_counts.get(m, {}))}
        for m in filters.months
    ]
    kind_counts = {r["kind"]: r for r in lines.values("kind").annotate(**_sums())}
    labels = kind_labels()
    kinds = [filters.kind] if filters.kind else list(ReminderKind.values)
    by_kind = [{"kind": k, "label": labels[k], **figures_of(kind_counts.get(k, {}))} for k in kinds]
    return {
        "filters": filters,
        "nation": whole,
        "totals": figures_of(totals),
        "as_of": totals["as_of"],
        "by_region": by_region,
        "by_dealer": by_dealer,
        "by_month": by_month,
        "by_kind": by_kind,
        "channels_available": message_model() is not None,
    }


# ---------------------------------------------------------------- customer lists


def list_reminders(user, filters: StatsFilters, which: str, *, today=None):
    """The reminders of one customer list (``LISTS``), live, month by month and in each
    month by due date (then id): the order lets the database read one month at a time
    (the month index) rather than sort a year of a nation's reminders. The reminders
    only, without the customer and vehicle: ``with_people`` loads those for a page.
    Raises KeyError for an unknown list."""
    if which not in LISTS:
        raise KeyError(which)
    today = today or timezone.localdate()
    rows = _scoped(Reminder.objects.restrict(user, "export"), user, filters)
    if which == "not_reminded":
        rows = rows.exclude(reminded_q())
    elif which == "not_followed_up":
        rows = rows.filter(registered=True, status=ReminderStatus.OPEN)
    else:
        rows = rows.filter(returned_order__isnull=True, return_by__lt=today)
    return rows.order_by(*LIST_ORDER)


def with_people(ids) -> list[Reminder]:
    """The reminders ``ids`` with their customer, vehicle and dealer, in that order (one
    query by primary key: joining before the page is cut would make the database join
    every reminder of the list)."""
    rows = Reminder.objects.select_related("customer", "vehicle", "dealer").in_bulk(list(ids))
    return [rows[pk] for pk in ids if pk in rows]


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``): the pages
    of a list stop there, and ``capped`` says there are more."""

    def __init__(self, object_list, per_page, cap=LIST_COUNT_CAP, **kwargs):
        self.cap = cap
        super().__init__(object_list, per_page, **kwargs)

    @cached_property
    def count(self):
        # the order does not change the count: without it the database stops early
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self):
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, min(self.count, self.cap) - self.orphans)
        return -(-hits // self.per_page)


def contact_allowed(user):
    """``f(dealer_id)``: may the user see the full mobiles of this dealer's customers?"""
    scope = user_scope(user, CONTACT)
    return lambda dealer_id: scope.everything or dealer_id in scope.dealer_ids


def list_row(reminder, *, full_mobile: bool) -> Row:
    """One line of a customer list. The mobile is masked (138****1234) unless the user may
    call the dealer's customers."""
    from aftersales.crm.validators import mask_mobile

    customer, vehicle = reminder.customer, reminder.vehicle
    mobile = customer.mobile if full_mobile else mask_mobile(customer.mobile)
    return Row(
        {
            "id": reminder.pk,
            "dealer_id": reminder.dealer_id,
            "dealer": reminder.dealer.code,
            "dealer_name": reminder.dealer.name,
            "customer_id": customer.pk,
            "customer": customer.name,
            "mobile": mobile,
            "vehicle_id": vehicle.pk,
            "vin": vehicle.vin,
            "plate": vehicle.plate,
            "kind": reminder.kind,
            "kind_label": str(reminder.get_kind_display()),
            "month": reminder.month.strftime("%Y-%m"),
            "due_date": reminder.due_date,
            "registered": reminder.registered,
            "status": reminder.status,
            "status_label": str(reminder.get_status_display()),
            "attempts": reminder.attempts,
            "last_call_at": reminder.last_call_at,
            "return_by": reminder.return_by,
        }
    )


def list_page(user, filters: StatsFilters, which: str, *, page=1, page_size=PAGE_SIZE, today=None):
    """One page of a customer list (three queries: the capped count, the page's ids and
    their customers and vehicles)."""
    ids = list_reminders(user, filters, which, today=today).values_list("id", flat=True)
    paginator = CappedPaginator(ids, page_size)
    current = paginator.get_page(page)
    current.object_list = with_people(current.object_list)
    may_call = contact_allowed(user)
    return {
        "list": which,
        "label": str(LISTS[which]),
        "count": min(paginator.count, paginator.cap),
        "capped": paginator.capped,
        "page": current.number,
        "pages": paginator.num_pages,
        "page_obj": current,
        "rows": [list_row(r, full_mobile=may_call(r.dealer_id)) for r in current.object_list],
    }


# ---------------------------------------------------------------- Excel


def _cell(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    return value


def figure_columns() -> list[tuple[str, str]]:
    """(key, header) of the figures, in the order of the tables and sheets."""
    return [
        ("due", _("Due")),
        ("wechat", _("WeChat sent")),
        ("sms", _("SMS sent")),
        ("phone", _("Reached by phone")),
        ("reminded", _("Reminded")),
        ("reminded_rate", _("Reminded rate %")),
        ("registered", _("Registered owners")),
        ("followed_up", _("Followed up")),
        ("followed_up_rate", _("Followed-up rate %")),
        ("booked", _("Booked")),
        ("returned", _("Returned")),
        ("return_rate", _("Return rate %")),
        ("not_reminded", _("Not reminded")),
        ("not_followed_up", _("Not followed up")),
        ("not_returned", _("Not returned")),
        ("awaiting_return", _("Awaiting return")),
    ]


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
        sheet.column_dimensions[column[0].column_letter].width = 14
    return sheet


def statistics_workbook(user, filters: StatsFilters) -> bytes:
    """The figures as an Excel workbook: a summary and one sheet each by region, dealer,
    month and kind."""
    from openpyxl import Workbook

    data = figures(user, filters)
    columns = figure_columns()
    keys = [k for k, _h in columns]
    headers = [h for _k, h in columns]
    book = Workbook()
    period = f"{filters.month_from:%Y-%m} – {filters.month_to:%Y-%m}"
    totals = data["totals"]
    _sheet(
        book,
        _("Summary"),
        [_("Figure"), _("Value")],
        [
            [_("Months"), period],
            [_("Figures as of"), data["as_of"]],
            *[[h, totals[k]] for k, h in columns],
        ],
        first=True,
    )
    _sheet(
        book,
        _("By region"),
        [_("Code"), _("Region"), *headers],
        [[r["code"], r["label"], *[r[k] for k in keys]] for r in data["by_region"]],
    )
    _sheet(
        book,
        _("By dealer"),
        [_("Code"), _("Dealer"), _("Region"), *headers],
        [[r["code"], r["label"], r["region"], *[r[k] for k in keys]] for r in data["by_dealer"]],
    )
    _sheet(
        book,
        _("By month"),
        [_("Month"), *headers],
        [[r["month"], *[r[k] for k in keys]] for r in data["by_month"]],
    )
    _sheet(
        book,
        _("By kind"),
        [_("Kind"), *headers],
        [[r["label"], *[r[k] for k in keys]] for r in data["by_kind"]],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def list_columns() -> list[tuple[str, str]]:
    return [
        ("dealer", _("Dealer")),
        ("customer", _("Customer")),
        ("mobile", _("Mobile")),
        ("vin", _("VIN")),
        ("plate", _("Plate")),
        ("kind_label", _("Kind")),
        ("month", _("Month")),
        ("due_date", _("Due date")),
        ("registered", _("Registered on WeChat")),
        ("status_label", _("Status")),
        ("attempts", _("Calls made")),
        ("last_call_at", _("Last call at")),
        ("return_by", _("Counts as returned until")),
    ]


def list_workbook(user, filters: StatsFilters, which: str, *, today=None) -> tuple[bytes, bool]:
    """One customer list as an Excel workbook (write-only, read in pages of 2,000 by
    keyset); at most ``EXPORT_MAX_ROWS`` rows. Returns the file and whether it was cut."""
    from openpyxl import Workbook

    columns = list_columns()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(LISTS[which])[:31])
    sheet.append([h for _k, h in columns])
    rows = list_reminders(user, filters, which, today=today)
    may_call = contact_allowed(user)
    written, last, cut = 0, None, False
    yes, no = _("Yes"), _("No")
    while True:
        chunk = rows
        if last is not None:
            month, due, pk = last
            chunk = chunk.filter(
                Q(month__gt=month)
                | Q(month=month, due_date__gt=due)
                | Q(month=month, due_date=due, id__gt=pk)
            )
        chunk = with_people(list(chunk.values_list("id", flat=True)[:2000]))
        if not chunk:
            break
        for reminder in chunk:
            if written >= EXPORT_MAX_ROWS:
                cut = True
                break
            row = list_row(reminder, full_mobile=may_call(reminder.dealer_id))
            row["registered"] = yes if row["registered"] else no
            sheet.append([_cell(row[k]) for k, _h in columns])
            written += 1
        if cut:
            break
        last = (chunk[-1].month, chunk[-1].due_date, chunk[-1].pk)
    if cut:
        sheet.append([_("Only the first %(n)s rows: narrow the filters.") % {"n": EXPORT_MAX_ROWS}])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), cut


__all__ = [
    "LISTS",
    "StatsFilters",
    "figures",
    "filters_from_query",
    "list_page",
    "list_reminders",
    "list_workbook",
    "statistics_refresh",
    "statistics_refresh_all",
    "statistics_workbook",
]
