"""Warranty determination (SPEC §5): is a vehicle, or one line of a repair order, under
warranty? Computed from the catalogue terms, never stored as a rule anywhere else.

Terms
-----
* Whole-vehicle warranty (整车质保): the vehicle's own ``warranty_start`` /
  ``warranty_end`` / ``warranty_km``; a field left empty falls back to the model's
  ``warranty_years`` / ``warranty_km`` counted from the invoice date (or the sale date).
* Powertrain / battery warranty (三大件 / 三电): ``powertrain_warranty_end`` /
  ``powertrain_warranty_km``, else the model's ``powertrain_years`` / ``powertrain_km``.
* A part's own term (``Part.warranty_months`` / ``Part.warranty_km``, 0 km = no distance
  limit), counted from the vehicle's warranty start: it limits the cover of that part
  (whichever of the line's term and the part's term ends first ends it). A wear part
  (``Part.wear_part`` or named in the model's ``wear_part_exclusions``) is covered only
  within its own term; without one it is never under warranty.
* An operation whose ``warranty_scope`` is "none" (maintenance) is never under warranty.

Whichever of time and distance comes first ends a term: the end date is the last day
covered, a reading equal to the distance limit is still covered.

"Needs OEM decision" (the advisor cannot decide alone) when
* no warranty start is known (no invoice or sale date),
* the odometer reading is missing, or flagged as possibly tampered (it went backwards),
* the vehicle is within ``MARGIN_DAYS`` days or ``MARGIN_KM`` km of the limit that decides,
* a high-voltage item of a new-energy vehicle is beyond the vehicle term but within the
  battery / powertrain term, and the operation does not say which term covers it.
A limit already passed is "out of warranty" even when the odometer is suspect: tampering
winds an odometer back, never forward.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.workorders.choices import OperationCategory, WarrantyScope, WarrantyStatus

# The last stretch before a limit in which the advisor asks the OEM instead of deciding.
MARGIN_DAYS = 30
MARGIN_KM = 1_000
# Part categories holding high-voltage (三电) parts of new-energy vehicles.
HV_PART_CATEGORIES = frozenset({"NEV"})

IN = WarrantyStatus.IN.value
OUT = WarrantyStatus.OUT.value
OEM = WarrantyStatus.OEM_DECISION.value


@dataclass(frozen=True)
class Determination:
    """The outcome of a warranty check: a ``WarrantyStatus`` value, the reason shown to the
    advisor (translated, naming the term and the numbers) and the term that decided
    (a ``WarrantyScope`` value, or "part" for a part's own term)."""

    status: str
    reason: str
    scope: str = ""

    @property
    def covered(self) -> bool:
        return self.status == IN


@dataclass(frozen=True)
class Term:
    label: str
    start: datetime.date | None
    end: datetime.date | None
    km: int | None
    scope: str


# ------------------------------------------------------------------ dates and numbers


def years_later(start: datetime.date, years: int) -> datetime.date:
    """The last day of a term of ``years`` from ``start`` (the day before the anniversary)."""
    from aftersales.crm.services import term_end

    return term_end(start, years)


def months_later(start: datetime.date, months: int) -> datetime.date:
    """The last day of a term of ``months`` from ``start``: the day before the same day
    ``months`` later (the 1st of the next month when that month is shorter)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    try:
        anniversary = start.replace(year=year, month=month)
    except ValueError:  # 31 January + 1 month: the term runs to the end of February
        anniversary = datetime.date(year + month // 12, month % 12 + 1, 1)
    return anniversary - datetime.timedelta(days=1)


def _km(value) -> str:
    return f"{value:,}"


def _describe(term: Term) -> str:
    if term.end is None:
        return term.label
    if term.km:
        return _("%(term)s until %(end)s / %(km)s km") % {
            "term": term.label,
            "end": term.end.isoformat(),
            "km": _km(term.km),
        }
    return _("%(term)s until %(end)s") % {"term": term.label, "end": term.end.isoformat()}


# ------------------------------------------------------------------ terms


def _model(vehicle):
    variant = getattr(vehicle, "variant", None)
    return variant.vehicle_model if variant is not None else None


def _start(vehicle):
    return vehicle.warranty_start or vehicle.invoice_date or vehicle.sale_date


def vehicle_term(vehicle) -> Term:
    model, start = _model(vehicle), _start(vehicle)
    end = vehicle.warranty_end
    if end is None and start is not None and model is not None:
        end = years_later(start, model.warranty_years)
    km = vehicle.warranty_km or (model.warranty_km if model is not None else None)
    return Term(_("Vehicle warranty"), start, end, km, WarrantyScope.VEHICLE.value)


def powertrain_term(vehicle) -> Term:
    model, start = _model(vehicle), _start(vehicle)
    end = vehicle.powertrain_warranty_end
    if end is None and start is not None and model is not None:
        end = years_later(start, model.powertrain_years)
    km = vehicle.powertrain_warranty_km or (model.powertrain_km if model is not None else None)
    label = _("Battery / powertrain warranty") if _new_energy(vehicle) else _("Powertrain warranty")
    return Term(label, start, end, km, WarrantyScope.POWERTRAIN.value)


def part_term(vehicle, part) -> Term:
    start = _start(vehicle)
    end = months_later(start, part.warranty_months) if start is not None else None
    label = _("Part warranty of %(part)s (%(months)s months)") % {
        "part": part.name,
        "months": part.warranty_months,
    }
    return Term(label, start, end, part.warranty_km or None, "part")


def _new_energy(vehicle) -> bool:
    variant = getattr(vehicle, "variant", None)
    return bool(variant is not None and variant.is_new_energy)


def is_wear_part(part, vehicle_model=None) -> bool:
    """A wear part: flagged on the part, or named in the model's exclusions (an entry
    matches when, without any remark in brackets, it is part of the part's name)."""
    if part.wear_part:
        return True
    if vehicle_model is None:
        return False
    names = f"{part.name} {getattr(part, 'name_en', '')}".casefold()
    for entry in vehicle_model.wear_parts:
        core = entry.split("（")[0].split("(")[0].strip().casefold()
        if core and core in names:
            return True
    return False


def _is_hv(operation, part) -> bool:
    if operation is not None and operation.category == OperationCategory.HV:
        return True
    if part is not None:
        category = getattr(part, "category", None)
        return category is not None and category.code in HV_PART_CATEGORIES
    return False


# ------------------------------------------------------------------ judging one term


def judge(
    term: Term, *, odometer_km: int | None, on: datetime.date, odometer_suspect: bool = False
) -> Determination:
    """Judge one term on a day at a reading."""
    if term.end is None:
        return Determination(
            OEM,
            _("%(term)s: no warranty start known (no invoice or sale date): needs OEM decision")
            % {"term": term.label},
            term.scope,
        )
    head = _describe(term)
    if on > term.end:
        return Determination(
            OUT,
            _("%(term)s: out of warranty (ended on %(end)s)")
            % {"term": head, "end": term.end.isoformat()},
            term.scope,
        )
    if term.km and odometer_km is not None and odometer_km > term.km:
        return Determination(
            OUT,
            _("%(term)s: out of warranty (%(km)s km)") % {"term": head, "km": _km(odometer_km)},
            term.scope,
        )
    if odometer_km is None:
        return Determination(
            OEM,
            _("%(term)s: the odometer is not recorded: needs OEM decision") % {"term": head},
            term.scope,
        )
    if odometer_suspect:
        return Determination(
            OEM,
            _(
                "%(term)s: the odometer (%(km)s km) is flagged as possibly tampered: "
                "needs OEM decision"
            )
            % {"term": head, "km": _km(odometer_km)},
            term.scope,
        )
    days_left = (term.end - on).days
    if days_left < MARGIN_DAYS:
        return Determination(
            OEM,
            _("%(term)s: only %(days)s days left (%(km)s km): needs OEM decision")
            % {"term": head, "days": days_left, "km": _km(odometer_km)},
            term.scope,
        )
    if term.km and term.km - odometer_km < MARGIN_KM:
        return Determination(
            OEM,
            _("%(term)s: only %(left)s km left (%(km)s km): needs OEM decision")
            % {"term": head, "left": _km(term.km - odometer_km), "km": _km(odometer_km)},
            term.scope,
        )
    return Determination(
        IN,
        _("%(term)s: in warranty (%(km)s km)") % {"term": head, "km": _km(odometer_km)},
        term.scope,
    )


def _combine(results: list[Determination]) -> Determination:
    """All terms must cover: the first "out" decides; else the first "needs OEM
    decision"; else "in" with every term's reason."""
    for status in (OUT, OEM):
        for result in results:
            if result.status == status:
                return result
    return Determination(IN, "; ".join(r.reason for r in results), results[-1].scope)


# ------------------------------------------------------------------ the two questions


def vehicle_warranty(
    vehicle,
    *,
    odometer_km: int | None,
    on: datetime.date | None = None,
    odometer_suspect: bool = False,
) -> Determination:
    """The whole-vehicle warranty at reception."""
    on = on or timezone.localdate()
    return judge(
        vehicle_term(vehicle), odometer_km=odometer_km, on=on, odometer_suspect=odometer_suspect
    )


def line_warranty(
    vehicle,
    *,
    odometer_km: int | None,
    operation=None,
    part=None,
    on: datetime.date | None = None,
    odometer_suspect: bool = False,
) -> Determination:
    """The warranty of one line: its operation's scope, then the part's own terms."""
    on = on or timezone.localdate()
    scope = operation.warranty_scope if operation is not None else WarrantyScope.VEHICLE
    if scope == WarrantyScope.NONE:
        return Determination(
            OUT,
            _("%(operation)s is maintenance or wear work: never under warranty")
            % {"operation": operation.name},
            WarrantyScope.NONE.value,
        )
    wear = part is not None and is_wear_part(part, _model(vehicle))
    if wear and not part.warranty_months:
        return Determination(
            OUT,
            _("%(part)s is a wear part: not under warranty") % {"part": part.name},
            WarrantyScope.NONE.value,
        )
    facts = {"odometer_km": odometer_km, "on": on, "odometer_suspect": odometer_suspect}
    if scope == WarrantyScope.POWERTRAIN:
        main = judge(powertrain_term(vehicle), **facts)
    else:
        main = judge(vehicle_term(vehicle), **facts)
        if main.status == OUT and _new_energy(vehicle) and _is_hv(operation, part):
            battery = judge(powertrain_term(vehicle), **facts)
            if battery.status != OUT:
                main = Determination(
                    OEM,
                    _(
                        "High-voltage item beyond the vehicle warranty (%(vehicle)s) but "
                        "within the %(battery)s: needs OEM decision"
                    )
                    % {"vehicle": main.reason, "battery": _describe(powertrain_term(vehicle))},
                    WarrantyScope.POWERTRAIN.value,
                )
    if part is not None and part.warranty_months:
        own = judge(part_term(vehicle, part), **facts)
        if wear and own.status == OUT:
            own = Determination(
                OUT,
                _("%(part)s is a wear part beyond its own term: %(reason)s")
                % {"part": part.name, "reason": own.reason},
                "part",
            )
        return _combine([main, own])
    return main
