"""Part lookup (SPEC §6, issue 4 items 1 and 11): one search box for a part number,
barcode or name; the parts that fit a VIN; and supersession (替代件) — ordering an old
number offers the number that replaces it.

Read-only selectors. The catalogue is OEM-level: whoever holds ``parts.view_part`` reads
all of it. A VIN resolves to its vehicle's variant through the CRM (any dealer may, as at
reception: only the model, variant and model year are used, never the owner), or, when the
vehicle is unknown, is decoded from its WMI/VDS (positions 1-8) and model-year code
(position 10).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext as _

from aftersales.core.access import user_has_perm
from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.parts.models import Fitment, Part, PartCategory

VIEW_PART = "parts.view_part"
MAX_CHAIN = 50  # a supersession chain longer than this is a data error; stop following it
_SEPARATORS = re.compile(r"[\s\-_./]+")
_VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_NUMBER_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\s\-_./]*$")  # could be a number or a code


# ---------------------------------------------------------------- numbers and barcodes


def number_key(value: str) -> str:
    """A part number as typed, with case, spaces and dashes ignored."""
    return _SEPARATORS.sub("", str(value or "")).upper()


def _number_candidates(q: str) -> list[str]:
    """The stored spellings an entry may stand for: as typed (upper case), without spaces,
    without spaces and dashes."""
    raw = str(q or "").strip().upper()
    out = []
    for value in (raw, re.sub(r"\s+", "", raw), number_key(raw)):
        if value and value not in out:
            out.append(value)
    return out


def _check_access(user):
    if not user_has_perm(user, VIEW_PART):
        raise PermissionDenied()


def find_part(code: str) -> Part | None:
    """The part whose number or barcode is exactly ``code`` (what a scanner types), or
    ``None``. Other areas use it to resolve scanner input on quantity-entry screens."""
    candidates = _number_candidates(code)
    if not candidates:
        return None
    raw = str(code).strip()
    rows = list(
        Part.objects.select_related("category", "superseded_by").filter(
            Q(number__in=candidates) | Q(barcode__in={raw, *candidates})
        )[:2]
    )
    rows.sort(key=lambda p: p.number not in candidates)  # a number beats a barcode
    return rows[0] if rows else None


# ---------------------------------------------------------------- supersession


def supersession_chain(part: Part) -> list[Part]:
    """The parts that replace ``part``, in order (next first, current last); empty when
    it is current. Safe against cycles and absurdly long chains."""
    chain, seen = [], {part.pk}
    current = part
    while current.superseded_by_id and current.superseded_by_id not in seen:
        if len(chain) >= MAX_CHAIN:
            break
        nxt = Part.objects.select_related("category").get(pk=current.superseded_by_id)
        chain.append(nxt)
        seen.add(nxt.pk)
        current = nxt
    return chain


def current_part(part: Part) -> Part:
    """The part to order or reserve instead of ``part``: the end of its supersession chain
    (``part`` itself when nothing replaces it). Purchasing and reservations call this when
    a line is added, so ordering an old number offers the new one."""
    chain = supersession_chain(part)
    return chain[-1] if chain else part


def replacement_for(part: Part) -> Part | None:
    """The current part that replaces ``part``, or ``None`` when it is itself current."""
    new = current_part(part)
    return None if new.pk == part.pk else new


def superseded_parts(part: Part) -> list[Part]:
    """The older numbers ``part`` replaces, directly or through a chain (nearest first)."""
    out, seen, frontier = [], {part.pk}, [part.pk]
    while frontier and len(out) < MAX_CHAIN:
        rows = [
            p
            for p in Part.objects.filter(superseded_by_id__in=frontier).order_by("number")
            if p.pk not in seen
        ]
        out += rows
        seen.update(p.pk for p in rows)
        frontier = [p.pk for p in rows]
    return out


def annotate_replacements(parts: list[Part], known_parts=()) -> list[Part]:
    """Set ``part.replacement`` (the current part, or ``None``) on each part, with one
    query per chain step whatever the number of parts; ``known_parts`` (parts of the
    chains already read) are not read again."""
    known = {p.pk: p for p in (*known_parts, *parts)}
    pending = {p.superseded_by_id for p in parts if p.superseded_by_id} - set(known)
    for _step in range(MAX_CHAIN):
        if not pending:
            break
        rows = Part.objects.filter(pk__in=pending).only(
            "id", "number", "name", "name_en", "superseded_by_id", "unit", "list_price"
        )
        for row in rows:
            known[row.pk] = row
        pending = {r.superseded_by_id for r in rows if r.superseded_by_id} - set(known)
    for part in parts:
        seen, current = {part.pk}, part
        while current.superseded_by_id and current.superseded_by_id not in seen:
            nxt = known.get(current.superseded_by_id)
            if nxt is None:
                break
            seen.add(nxt.pk)
            current = nxt
        part.replacement = None if current.pk == part.pk else current
    return parts


# ---------------------------------------------------------------- one search box


@dataclass
class PartHit:
    part: Part
    match: str  # number, barcode, number_prefix, name
    rank: int


def search_parts(user, q: str, *, limit: int = 50) -> list[PartHit]:
    """One box: exact part number (case, spaces, dashes ignored) or barcode first, then
    numbers starting with the entry, then names (Chinese or English) containing it.
    Each hit's part carries ``replacement`` (the current superseding part or ``None``)."""
    _check_access(user)
    q = str(q or "").strip()
    if not q:
        return []
    limit = max(1, min(int(limit), 200))
    base = Part.objects.select_related("category", "superseded_by")
    hits: dict[int, PartHit] = {}

    def add(rows, match, rank):
        for part in rows:
            if part.pk not in hits:
                hits[part.pk] = PartHit(part, match, rank)

    candidates = _number_candidates(q)
    exact = list(base.filter(Q(number__in=candidates) | Q(barcode__in={q, *candidates})))
    add([p for p in exact if p.number in candidates], "number", 100)
    add(exact, "barcode", 95)
    key = candidates[-1]
    if len(key) >= 2 and len(hits) < limit:
        # a range on the unique index (the collation-independent form of "starts with")
        upper = key[:-1] + chr(ord(key[-1]) + 1)
        rows = base.filter(number__gte=key, number__lt=upper, number__startswith=key)
        add(rows.order_by("number")[: limit - len(hits) + len(exact)], "number_prefix", 80)
    number_like = bool(_NUMBER_LIKE.match(q))
    if len(hits) < limit and not (exact and number_like):
        # a number that was found needs no name scan (the costly part of a search)
        named = Q(name__icontains=q) | Q(name_en__icontains=q)
        if key != q.upper() and len(key) >= 4:  # a number typed with dashes, in a name
            named |= Q(name__icontains=key)
        # in table order, so that a common word stops at the limit (hits are sorted after)
        rows = base.filter(named).order_by("pk")
        add(rows[: limit - len(hits) + len(exact)], "name", 50)
    result = sorted(hits.values(), key=lambda h: (-h.rank, not h.part.active, h.part.number))
    result = result[:limit]
    annotate_replacements([h.part for h in result])
    return result


# ---------------------------------------------------------------- VIN fitment


def decode_model_year(code: str, *, today: datetime.date | None = None) -> int | None:
    """The model year of a VIN's 10th character (ISO 3779, a 30-year cycle): the latest
    year with this code that is not after next year."""
    if code not in _VIN_YEAR_CODES:
        return None
    latest = (today or datetime.date.today()).year + 1
    year = 1980 + _VIN_YEAR_CODES.index(code)
    while year + 30 <= latest:
        year += 30
    return year


@dataclass
class VinDecode:
    vin: str
    resolved: str  # "vehicle" (known in the CRM) or "decoded" (from WMI/VDS and year)
    vehicle_model: object
    variant: object | None
    year: int | None
    candidates: list = field(default_factory=list)  # variants a decoded VIN may be

    def as_dict(self) -> dict:
        model, variant = self.vehicle_model, self.variant
        return {
            "vin": self.vin,
            "resolved": self.resolved,
            "model": {"id": model.pk, "code": model.code, "name": model.name},
            "variant": (
                {"id": variant.pk, "code": variant.code, "name": variant.name} if variant else None
            ),
            "year": self.year,
            "candidates": [{"id": v.pk, "code": v.code, "name": v.name} for v in self.candidates],
        }


def resolve_vin(vin: str) -> VinDecode:
    """The vehicle model, variant and model year of a VIN. Raises ValidationFailed for an
    invalid VIN and NotFound when no catalogue variant has its prefix."""
    from aftersales.catalogue.models import Variant
    from aftersales.crm.models import Vehicle
    from aftersales.crm.validators import normalise_vin

    try:
        vin = normalise_vin(vin)
    except ValidationError as exc:
        message = exc.messages[0]
        raise ValidationFailed(message, code="invalid_vin", fields={"vin": [message]}) from exc
    vehicle = (
        Vehicle.objects.filter(vin=vin)
        .select_related("variant__vehicle_model")
        .only("id", "variant")
        .first()
    )
    if vehicle is not None:
        variant = vehicle.variant
        return VinDecode(vin, "vehicle", variant.vehicle_model, variant, variant.model_year)
    year = decode_model_year(vin[9])
    prefix = vin[:8]
    variants = list(
        Variant.objects.filter(vin_prefix=prefix)
        .select_related("vehicle_model")
        .order_by("-model_year", "code")
    )
    if not variants:
        message = _(
            "No vehicle model in the catalogue has VIN prefix %(prefix)s; "
            "check the VIN or search by part number."
        ) % {"prefix": prefix}
        raise NotFound(message, code="unknown_vin_prefix", fields={"vin": [message]})
    of_year = [v for v in variants if v.model_year == year]
    models = {v.vehicle_model_id: v.vehicle_model for v in (of_year or variants)}
    model = next(iter(models.values()))
    if len(models) > 1:  # one prefix shared by several models: a catalogue error
        message = _("VIN prefix %(prefix)s belongs to several models; check the catalogue.") % {
            "prefix": prefix
        }
        raise ValidationFailed(message, code="ambiguous_vin_prefix", fields={"vin": [message]})
    variant = of_year[0] if len(of_year) == 1 else None
    return VinDecode(vin, "decoded", model, variant, year, candidates=of_year)


@dataclass
class FitmentResult:
    decode: VinDecode
    count: int
    parts: list[Part]


def parts_for_vin(
    user,
    vin: str,
    q: str | None = None,
    category=None,
    *,
    universal: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> FitmentResult:
    """The active parts that fit the vehicle with this VIN, by category then number,
    optionally narrowed by ``q`` (number or name) and ``category`` (a PartCategory or
    its id); ``universal`` adds the parts that fit every vehicle. A page of ``limit``
    parts from ``offset``; ``count`` is the total."""
    _check_access(user)
    decode = resolve_vin(vin)
    limit = max(1, min(int(limit), 500))
    offset = max(int(offset), 0)
    page = _fitting_page(decode, q, category, universal, limit, offset)
    if page:
        count = page[0].total
    elif offset:  # past the end: count without a page
        count = len(_fitting_page(decode, q, category, universal, 10**6, 0))
    else:
        count = 0
    annotate_replacements(page, [part.superseded_by for part in page if part.superseded_by_id])
    return FitmentResult(decode, count, page)


def _fitting_page(decode, q, category, universal, limit, offset) -> list[Part]:
    """One page of the active parts fitting a resolved VIN, by category code then number,
    with their category and superseding part, each with ``total`` (how many fit), in one
    statement: the database sorts the ~2,000 fitting parts of a car, pages and counts them
    in the same pass, then reads the page's rows. Written in SQL (the same on SQLite and
    PostgreSQL) because building the equivalent ORM queries cost more than running them
    (bench/parts_lookup.py).

    A fitment applies when it names the VIN's variant (or one of the variants a decoded VIN
    may be) or no variant, within its model-year range when it has one. A variant's
    fitment names the variant's model too, so the model picks the rows (the covering
    ``(vehicle_model, part)`` index) and the variant test is an expression no planner
    mistakes for an index condition (``variant IS NULL`` matches most of the table:
    SQLite, not knowing that, read every model-wide fitment through the variant index)."""
    variant_ids = [decode.variant.pk] if decode.variant else [v.pk for v in decode.candidates]
    fits = [
        "f.vehicle_model_id = %s",
        f"COALESCE(f.variant_id, 0) IN ({', '.join(['%s'] * (len(variant_ids) + 1))})",
    ]
    params: list = [decode.vehicle_model.pk, 0, *variant_ids]
    if decode.year:
        fits += [
            "(f.year_from IS NULL OR f.year_from <= %s)",
            "(f.year_to IS NULL OR f.year_to >= %s)",
        ]
        params += [decode.year, decode.year]
    match = f"p.id IN (SELECT f.part_id FROM {Fitment._meta.db_table} f WHERE {' AND '.join(fits)})"
    if universal:
        match = f"({match} OR p.universal)"
    where = ["p.active", match]
    if category:
        where.append("p.category_id = %s")
        params.append(int(getattr(category, "pk", category)))
    q = str(q or "").strip()
    if q:
        # a number start, or a part of either name (LIKE's wildcards in q taken literally)
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        either = [
            "UPPER(p.name) LIKE UPPER(%s) ESCAPE '\\'",
            "UPPER(p.name_en) LIKE UPPER(%s) ESCAPE '\\'",
        ]
        params += [like, like]
        key = number_key(q).replace("\\", "").replace("%", "").replace("_", "")
        if key:
            either.append("p.number LIKE %s")
            params.append(key + "%")
        where.append(f"({' OR '.join(either)})")
    parts, categories = Part._meta.db_table, PartCategory._meta.db_table
    sql = (
        f"WITH page AS (SELECT p.id, c.code AS sort_code, COUNT(*) OVER () AS total "
        f"FROM {parts} p JOIN {categories} c ON c.id = p.category_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.code, p.number LIMIT %s OFFSET %s) "
        f"SELECT p.*, page.total, c.code AS c_code, c.name AS c_name, c.name_en AS c_name_en, "
        f"s.number AS s_number, s.name AS s_name, s.name_en AS s_name_en, "
        f"s.superseded_by_id AS s_next "
        f"FROM page JOIN {parts} p ON p.id = page.id JOIN {categories} c ON c.id = p.category_id "
        f"LEFT JOIN {parts} s ON s.id = p.superseded_by_id ORDER BY page.sort_code, p.number"
    )
    page = list(Part.objects.raw(sql, [*params, limit, offset]))
    for part in page:
        part.category = PartCategory(
            id=part.category_id, code=part.c_code, name=part.c_name, name_en=part.c_name_en
        )
        if part.superseded_by_id:
            part.superseded_by = Part(
                id=part.superseded_by_id,
                number=part.s_number,
                name=part.s_name,
                name_en=part.s_name_en,
                superseded_by_id=part.s_next,
            )
    return page


# ---------------------------------------------------------------- stock beside the catalogue


def available_by_part(user, part_ids) -> dict[int, Decimal] | None:
    """Available quantity (on hand − reserved) per part at the user's dealer (every
    warehouse it may see), in one query; ``None`` when the user may not see stock."""
    from aftersales.parts.models import StockItem

    if not user_has_perm(user, "parts.view_stockitem"):
        return None
    ids = list(part_ids)
    if not ids:
        return {}
    rows = StockItem.objects.restrict(user, "view").filter(part_id__in=ids)
    if getattr(user, "dealer_id", None):
        rows = rows.filter(dealer_id=user.dealer_id)
    available = ExpressionWrapper(
        F("on_hand") - F("reserved"), output_field=DecimalField(max_digits=12, decimal_places=2)
    )
    return {
        row["part_id"]: row["available"]
        for row in rows.order_by().values("part_id").annotate(available=Sum(available))
    }
