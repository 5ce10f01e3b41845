"""The customer timeline: a feed that apps add sources to.

A source is a function ``(customer, user, limit, before) -> iterable[TimelineEntry]``
registered with ``@timeline_source("name")``; it returns at most ``limit`` of its newest
entries older than ``before`` (when given) that ``user`` may see. The feed merges every
source newest first. CRM registers its own sources below; repair orders, invoices,
appointments, reminders, surveys and complaints register theirs from their apps'
``timeline.py`` (imported by autodiscovery), without this module knowing them.
"""

import datetime
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str  # the source's name, e.g. "crm.odometer"
    title: str
    detail: str = ""
    url: str = ""
    icon: str = "circle"  # a bootstrap-icons name

    def as_dict(self):
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "url": self.url,
        }


SOURCES: dict[str, Callable[..., Iterable[TimelineEntry]]] = {}


def timeline_source(name: str):
    def register(func):
        SOURCES[name] = func
        return func

    return register


def as_moment(day_or_time) -> datetime.datetime:
    """Dates sort as the start of that day, local time."""
    if isinstance(day_or_time, datetime.datetime):
        return day_or_time
    return timezone.make_aware(datetime.datetime.combine(day_or_time, datetime.time.min))


def customer_timeline(customer, user, *, limit: int = 50, before=None) -> list[TimelineEntry]:
    """The newest entries of every source, merged newest first: at most ``limit``, older
    than ``before`` when given. The next page is asked for with ``before`` set to the last
    entry's ``at``; so that no entry is skipped there, a page never ends in the middle of
    entries sharing one moment (a visit and its odometer reading on the same day): such a
    tie at the cut is left for the next page, and the page is a little shorter."""
    autodiscover_modules("timeline")
    streams = []
    for source in list(SOURCES.values()):
        entries = [
            e for e in source(customer, user, limit + 1, before) if before is None or e.at < before
        ]
        streams.append(sorted(entries, key=lambda e: e.at, reverse=True))
    merged = list(islice(heapq.merge(*streams, key=lambda e: e.at, reverse=True), limit + 1))
    if len(merged) <= limit:
        return merged
    cut = merged[limit].at
    # when the whole page is one moment there is no better place to cut
    return [e for e in merged[:limit] if e.at > cut] or merged[:limit]


# ---------------------------------------------------------------- CRM's own sources


def _day_before(before):
    return timezone.localtime(before).date() if before else None


@timeline_source("crm.customer")
def _customer_records(customer, user, limit, before):
    yield TimelineEntry(
        at=customer.created_at,
        kind="crm.customer",
        title=_("Customer registered"),
        detail=customer.get_source_display(),
        icon="person-plus",
    )
    for merged in customer.merged_from.all()[:limit]:
        yield TimelineEntry(
            at=merged.updated_at,
            kind="crm.customer",
            title=_("Duplicate record %(name)s merged into this one") % {"name": merged.name},
            icon="union",
        )


@timeline_source("crm.ownership")
def _ownerships(customer, user, limit, before):
    """Becoming and ceasing to be the owner of a vehicle the user may see. Starts and ends
    are read separately: an old ownership may have ended after later ones began."""
    from aftersales.crm.models import Ownership
    from aftersales.crm.selectors import customer_vehicle_ids

    rows = Ownership.objects.filter(
        customer=customer, vehicle__in=customer_vehicle_ids(user, customer)
    ).select_related("vehicle__variant__vehicle_model")
    starts, ends = rows, rows.filter(ended_on__isnull=False)
    if before:
        starts = starts.filter(started_on__lte=_day_before(before))
        ends = ends.filter(ended_on__lte=_day_before(before))
    for row in starts.order_by("-started_on", "-id")[:limit]:
        yield TimelineEntry(
            at=as_moment(row.started_on),
            kind="crm.ownership",
            title=_("Became owner of %(vehicle)s") % {"vehicle": row.vehicle},
            detail=f"{row.vehicle.variant} · {row.get_reason_display()}",
            url=reverse("vehicle-detail", args=[row.vehicle_id]),
            icon="key",
        )
    for row in ends.order_by("-ended_on", "-id")[:limit]:
        yield TimelineEntry(
            at=as_moment(row.ended_on),
            kind="crm.ownership",
            title=_("No longer owner of %(vehicle)s") % {"vehicle": row.vehicle},
            url=reverse("vehicle-detail", args=[row.vehicle_id]),
            icon="box-arrow-right",
        )


@timeline_source("crm.odometer")
def _readings(customer, user, limit, before):
    """Odometer readings of the user's visible vehicles taken while the customer owned
    them (not the previous or the next owner's)."""
    from aftersales.crm.models import OdometerReading
    from aftersales.crm.selectors import customer_vehicle_ids

    # one filter() call: every condition on the same ownership row
    rows = OdometerReading.objects.filter(
        Q(vehicle__ownerships__ended_on__isnull=True)
        | Q(read_on__lte=F("vehicle__ownerships__ended_on")),
        vehicle__ownerships__customer=customer,
        read_on__gte=F("vehicle__ownerships__started_on"),
        vehicle__in=customer_vehicle_ids(user, customer),
    ).select_related("vehicle")
    if before:
        rows = rows.filter(read_on__lte=_day_before(before))
    for row in rows.order_by("-read_on", "-id").distinct()[:limit]:
        yield TimelineEntry(
            at=as_moment(row.read_on),
            kind="crm.odometer",
            title=_("%(vehicle)s: odometer %(km)s km") % {"vehicle": row.vehicle, "km": row.km},
            detail=row.get_source_display(),
            url=reverse("vehicle-detail", args=[row.vehicle_id]),
            icon="speedometer2",
        )


@timeline_source("crm.visits")
def _visits(customer, user, limit, before):
    from aftersales.crm.models import ServiceVisit

    rows = (
        ServiceVisit.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("vehicle", "dealer")
    )
    if before:
        rows = rows.filter(visited_on__lte=_day_before(before))
    for row in rows.order_by("-visited_on", "-id")[:limit]:
        yield TimelineEntry(
            at=as_moment(row.visited_on),
            kind="crm.visits",
            title=_("%(kind)s at %(dealer)s")
            % {"kind": row.get_kind_display(), "dealer": row.dealer.name},
            detail=_("%(vehicle)s · %(km)s km · ¥%(amount)s")
            % {"vehicle": row.vehicle, "km": row.odometer_km or "-", "amount": row.amount},
            icon="tools",
        )
