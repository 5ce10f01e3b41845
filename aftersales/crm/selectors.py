"""Scoped reads of customers and vehicles: search, reception lookup, the customer 360."""

import re
from dataclasses import dataclass

from django.db.models import Prefetch

from aftersales.core.access import user_has_perm
from aftersales.crm import pii
from aftersales.crm.models import Customer, OdometerReading, Ownership, ServiceVisit, Vehicle
from aftersales.crm.validators import PROVINCES, mask_mobile

_CLEAN = re.compile(r"[\s\-·.]")


def can_see_phone(user) -> bool:
    return user_has_perm(user, "crm.contact_customer")


def shown_mobile(user, mobile: str) -> str:
    return mobile if can_see_phone(user) else mask_mobile(mobile)


@dataclass
class Hit:
    kind: str  # "customer" or "vehicle"
    id: int
    title: str
    subtitle: str
    match: str  # what matched: mobile, name, plate, vin, vin_tail, id_number
    rank: int
    customer_id: int | None = None

    def as_dict(self):
        return self.__dict__.copy()


def customers(user):
    return Customer.objects.restrict(user, "view").live()


def vehicles(user):
    return Vehicle.objects.restrict(user, "view")


def _vehicle_hits(user, rows, match, rank):
    return [
        Hit(
            "vehicle",
            v.pk,
            v.plate or v.vin,
            f"{v.vin} · {v.variant.vehicle_model.name}"
            + (f" · {v.owner.name}" if v.owner_id else ""),
            match,
            rank,
            v.owner_id,
        )
        for v in rows.select_related("variant__vehicle_model", "owner")
    ]


def _customer_hits(user, rows, match, rank):
    return [
        Hit("customer", c.pk, c.name, shown_mobile(user, c.mobile), match, rank, c.pk) for c in rows
    ]


def search(user, query: str, *, limit: int = 20) -> list[Hit]:
    """One box: phone, name, plate, full VIN or its last 6/8, resident ID (exact). Exact
    identifiers rank first; partial matches only reach the user's own related records."""
    q = _CLEAN.sub("", query or "").upper()
    if not q:
        return []
    hits: list[Hit] = []
    if re.fullmatch(r"1[3-9]\d{9}", q):
        hits += _customer_hits(user, customers(user).filter(mobile=q)[:limit], "mobile", 100)
    elif re.fullmatch(r"\d{17}[\dX]", q):
        rows = customers(user).filter(id_number_hash=pii.blind_index(q))[:limit]
        hits += _customer_hits(user, rows, "id_number", 100)
    elif len(q) == 17 and q.isalnum():
        hits += _vehicle_hits(user, vehicles(user).filter(vin=q)[:limit], "vin", 100)
    elif q[0] in PROVINCES and len(q) >= 2 and q[1].isascii():
        hits += _vehicle_hits(user, vehicles(user).filter(plate=q)[:limit], "plate", 95)
        if len(hits) < limit:
            rows = vehicles(user).filter(plate__startswith=q).exclude(plate=q)[: limit - len(hits)]
            hits += _vehicle_hits(user, rows, "plate", 60)
    if re.fullmatch(r"[A-Z0-9]{8}", q) and any(c.isdigit() for c in q):
        hits += _vehicle_hits(user, vehicles(user).filter(vin_last8=q)[:limit], "vin_tail", 80)
    elif re.fullmatch(r"[A-Z0-9]{6}", q) and any(c.isdigit() for c in q):
        hits += _vehicle_hits(user, vehicles(user).filter(vin_last6=q)[:limit], "vin_tail", 80)
    if q.isdigit() and 4 <= len(q) < 11:
        rows = customers(user).filter(mobile__endswith=q)[:limit]
        hits += _customer_hits(user, rows, "mobile", 50)
    if not any(c.isdigit() for c in q) and (not q.isascii() or len(q) > 1):
        name = " ".join((query or "").split())
        exact = customers(user).filter(name=name)[:limit]
        hits += _customer_hits(user, exact, "name", 75)
        if len(hits) < limit:
            rows = customers(user).filter(name__startswith=name).exclude(name=name)
            hits += _customer_hits(user, rows[: limit - len(hits)], "name", 60)
    seen, unique = set(), []
    for hit in sorted(hits, key=lambda h: -h.rank):
        if (hit.kind, hit.id) not in seen:
            seen.add((hit.kind, hit.id))
            unique.append(hit)
    return unique[:limit]


def reception_lookup(user, query: str) -> Vehicle | None:
    """At reception any dealer's staff may find a vehicle by its exact full VIN or exact
    plate, even one sold and serviced elsewhere; nothing partial, nothing by person."""
    if not user_has_perm(user, "crm.view_vehicle"):
        return None
    q = _CLEAN.sub("", query or "").upper()
    rows = Vehicle.objects.select_related(
        "variant__vehicle_model__brand", "owner", "selling_dealer"
    )
    if len(q) == 17:
        return rows.filter(vin=q).first()
    if q and q[0] in PROVINCES and len(q) in (7, 8):
        return rows.filter(plate=q).order_by("-updated_at").first()
    return None


def customer_vehicle_ids(user, customer: Customer) -> list[int]:
    """Ids of the vehicles the customer owns or owned that the user may see. Evaluated
    first (a handful of ids): filtering by "every vehicle the user may see" as a subquery
    made the 360 page take seconds for a region on a million vehicles (bench/crm_search.py).
    Remembered on the customer instance per user: the 360 and its timeline sources all ask
    within one request, and the instance lives no longer than that."""
    memo = customer.__dict__.setdefault("_visible_vehicle_ids", {})
    if user.pk not in memo:
        memo[user.pk] = list(
            vehicles(user)
            .filter(ownerships__customer=customer)
            .values_list("pk", flat=True)
            .distinct()
        )
    return memo[user.pk]


def customer_360(user, customer: Customer) -> dict:
    """Everything about one customer the user may see (the customer itself must already
    come from ``customers(user)``): of their vehicles, only those the user's unit has a
    relationship with (or all, for the OEM)."""
    from aftersales.crm.timeline import customer_timeline

    visible_ids = customer_vehicle_ids(user, customer)
    vehicle_rows = list(
        Vehicle.objects.filter(pk__in=visible_ids, owner=customer)
        .select_related("variant__vehicle_model__brand", "selling_dealer")
        .prefetch_related(
            Prefetch(
                "readings",
                queryset=OdometerReading.objects.order_by("-read_on", "-id"),
                to_attr="reading_list",
            )
        )
    )
    ownerships = list(
        Ownership.objects.filter(customer=customer, vehicle__in=visible_ids)
        .select_related("vehicle__variant__vehicle_model")
        .order_by("-started_on", "-id")
    )
    visits = ServiceVisit.objects.restrict(user, "view").filter(customer=customer)
    return {
        "customer": customer,
        "vehicles": vehicle_rows,
        "ownerships": ownerships,
        "odometer": [reading for vehicle in vehicle_rows for reading in vehicle.reading_list[:20]],
        "visit_count": visits.count(),
        "timeline": customer_timeline(customer, user),
        "tags": list(customer.tags.all()),
    }
