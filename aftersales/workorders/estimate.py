"""The estimate (估价, SPEC §4 step 5, issue 5 item 5): labour, part, sublet and fee lines
priced for their pay type with a warranty decision per line, parts checked against the
vehicle and reserved in stock, totals by pay type, the promised completion time and the
terms the customer signs (payment method, old parts, free wash).

Every service locks the order with the version the client last saw (``locked``), checks
``workorders.change_repairorder`` at the order's dealer, recalculates
``RepairOrder.estimate_total``, gives the order a new version (``bump``) and writes a
``LINE`` event. Lines added once the customer has signed (the order is approved or work is
under way) are *additional*: they wait for their own decision (``authorization.line_decide``).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.workdays import CALENDAR_TZ, CalendarUnavailable, is_working_day
from aftersales.workorders import labour, warranty
from aftersales.workorders.choices import (
    PARTS_OPEN,
    Approval,
    EventKind,
    JobStatus,
    LineKind,
    OldPartsDisposition,
    PaymentMethod,
    PayType,
    ROStatus,
    WarrantyStatus,
)
from aftersales.workorders.events import record_event
from aftersales.workorders.models import (
    ClockEntry,
    MaintenancePackage,
    RepairOrder,
    RepairOrderLine,
    ServiceSettings,
)
from aftersales.workorders.transitions import bump, locked, require, require_open

S = ROStatus
CHANGE = "workorders.change_repairorder"
CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_QUANTITY = Decimal("9999")
MAX_AMOUNT = Decimal("9999999")

# Before the customer signs: lines are part of the estimate the signature covers.
BEFORE_SIGNING = {S.DRAFT, S.CHECKED_IN, S.DIAGNOSING, S.ESTIMATED, S.AWAITING_APPROVAL}
# Signed and work not finished: new lines are additional work needing their own decision.
ADDITIONAL_WORK = {S.APPROVED} | set(PARTS_OPEN)
# Other dealers' orders whose remaining labour makes up the workshop load.
LOADING = {S.APPROVED, S.IN_PROGRESS, S.WAITING_PARTS, S.PAUSED, S.REWORK}


class WorkFinished(Conflict):
    code = "work_finished"


class LineLocked(Conflict):
    code = "line_locked"


# ---------------------------------------------------------------- small helpers


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _number(value, field: str, *, minimum=ZERO, maximum=MAX_QUANTITY, allow_zero=False):
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        result = None
    if result is None or not result.is_finite():
        message = _("Enter a number.")
        raise ValidationFailed(message, fields={field: [message]})
    result = result.quantize(CENT, rounding=ROUND_HALF_UP)
    if result < minimum or (result == 0 and not allow_zero) or result > maximum:
        message = _("Enter a number more than zero and at most %(max)s.") % {"max": maximum}
        raise ValidationFailed(message, fields={field: [message]})
    return result


def _pay_type(value, field="pay_type"):
    if value not in PayType.values:
        message = _("Choose a pay type.")
        raise ValidationFailed(message, fields={field: [message]})
    return value


def _description(value, field="description", *, required=True):
    text = str(value or "").strip()
    if required and not text:
        message = _("Write a description.")
        raise ValidationFailed(message, fields={field: [message]})
    return text[:200]


def _editable(order: RepairOrder) -> None:
    """Lines may change before the customer signs and while work is open."""
    require_open(order)
    if order.status not in BEFORE_SIGNING | ADDITIONAL_WORK:
        raise WorkFinished(
            _("Repair order %(number)s is %(status)s: the work is finished, lines cannot change.")
            % {"number": order.number, "status": order.get_status_display()}
        )


def _is_additional(order: RepairOrder) -> bool:
    return order.status in ADDITIONAL_WORK


def _next_position(order) -> int:
    """The position after the order's last line. Read once per locked order instance: a
    batch numbers its lines on from there (nobody else adds lines while the order's row
    lock is held, and every line a service adds gets its position here)."""
    last = order.__dict__.get("_last_position")
    if last is None:
        last = order.lines.order_by("-position").values_list("position", flat=True).first()
    order.__dict__["_last_position"] = (last or 0) + 1
    return (last or 0) + 1


def _labour_rate(order, pay_type):
    """The dealer's rate for the pay type, read once per locked order instance (a batch
    prices several labour lines)."""
    rates = order.__dict__.setdefault("_labour_rates", {})
    if pay_type not in rates:
        rates[pay_type] = labour.labour_rate(order.dealer, pay_type)
    return rates[pay_type]


def _odometer(order) -> int:
    if order.odometer_km is not None:
        return order.odometer_km
    return order.vehicle.odometer_km


def _line_warranty(order, *, operation=None, part=None):
    return warranty.line_warranty(
        order.vehicle,
        odometer_km=_odometer(order),
        operation=operation,
        part=part,
        on=timezone.localdate(),
        odometer_suspect=order.odometer_suspect,
    )


def _choose_pay_type(determination, pay_type):
    """No pay type given: warranty when in warranty, otherwise the customer pays ("needs
    OEM decision" stays with the customer until the OEM decides). Warranty chosen for a
    line that is out of warranty is refused with the reason."""
    status = str(determination.status)
    if pay_type is None or pay_type == "":
        return PayType.WARRANTY if status == WarrantyStatus.IN else PayType.CUSTOMER
    pay_type = _pay_type(pay_type)
    if pay_type == PayType.WARRANTY and status == WarrantyStatus.OUT:
        message = _("Out of warranty: %(reason)s") % {"reason": determination.reason}
        raise ValidationFailed(message, code="out_of_warranty", fields={"pay_type": [message]})
    return pay_type


def _finish(order, actor, message, data) -> None:
    """Recalculate the total, give the order a new version and write the event."""
    order.estimate_total = estimate_totals(order)["total"]
    bump(order, "estimate_total")
    record_event(order, kind=EventKind.LINE, actor=actor, message=message, data=data)


def _order_for_change(actor, repair_order, version) -> RepairOrder:
    order = locked(repair_order, version=version)
    require(actor, order, CHANGE)
    _editable(order)
    return order


def _line_data(line) -> dict:
    return {
        "line": line.pk,
        "kind": line.kind,
        "description": line.description,
        "quantity": str(line.quantity),
        "amount": str(line.amount),
        "pay_type": line.pay_type,
        "additional": line.additional,
    }


# ---------------------------------------------------------------- totals


def estimate_totals(order: RepairOrder) -> dict:
    """The order's totals in one query: ``by_pay_type`` {pay type: {labour, part, sublet,
    fee, total}} over the lines not declined, ``total`` of those, and ``declined`` (the
    declined lines' amount, shown apart)."""
    rows = (
        RepairOrderLine.objects.filter(repair_order_id=order.pk)
        .order_by()
        .values("pay_type", "kind", "approval")
        .annotate(sum=Sum("amount"))
    )
    by_pay_type: dict[str, dict[str, Decimal]] = {}
    total = declined = ZERO
    for row in rows:
        amount = money(row["sum"] or ZERO)
        if row["approval"] == Approval.DECLINED:
            declined += amount
            continue
        bucket = by_pay_type.setdefault(
            row["pay_type"], {kind: money(ZERO) for kind in (*LineKind.values, "total")}
        )
        bucket[row["kind"]] = money(bucket[row["kind"]] + amount)
        bucket["total"] = money(bucket["total"] + amount)
        total += amount
    ordered = {p: by_pay_type[p] for p in PayType.values if p in by_pay_type}
    return {"by_pay_type": ordered, "total": money(total), "declined": money(declined)}


# ---------------------------------------------------------------- labour


def _add_labour(
    order, actor, *, operation, pay_type, hours, description, package=None, standard=None
):
    """A labour line; ``standard``: the operation's standard hours when already looked up."""
    if not operation.active:
        message = _("Operation %(code)s is no longer in use.") % {"code": operation.code}
        raise ValidationFailed(message, fields={"operation": [message]})
    if standard is None:
        standard = labour.standard_hours(operation, order.vehicle.variant)
    standard = Decimal(standard)
    hours = standard if hours in (None, "") else _number(hours, "hours", maximum=Decimal("999"))
    determination = _line_warranty(order, operation=operation)
    pay_type = _choose_pay_type(determination, pay_type)
    rate = money(_labour_rate(order, pay_type))
    additional = _is_additional(order)
    return RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.LABOUR,
        position=_next_position(order),
        operation=operation,
        package=package,
        description=_description(description, required=False) or operation.name,
        quantity=hours,
        standard_hours=standard,
        unit_price=rate,
        amount=money(hours * rate),
        pay_type=pay_type,
        warranty_status=determination.status,
        warranty_reason=str(determination.reason or "")[:300],
        additional=additional,
        approval=Approval.PROPOSED,
        job_status=JobStatus.PENDING,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def line_add_labour(
    *,
    actor,
    repair_order,
    version,
    operation,
    pay_type=None,
    hours=None,
    description="",
    additional=None,
) -> RepairOrderLine:
    """Add a labour line: the operation's standard hours for the vehicle (or ``hours``)
    × the dealer's rate for the pay type. ``additional`` is decided by the order's status
    (signed orders get additional lines); the argument is accepted for symmetry only."""
    order = _order_for_change(actor, repair_order, version)
    line = _add_labour(
        order,
        actor,
        operation=operation,
        pay_type=pay_type,
        hours=hours,
        description=description,
    )
    _finish(
        order, actor, _("Labour added: %(line)s") % {"line": line.description}, _line_data(line)
    )
    return line


# ---------------------------------------------------------------- parts


def part_fits(part, vehicle) -> bool:
    """Does ``part`` fit the vehicle's variant (a fitment naming the variant, or its
    model without a variant, within the fitment's model years)? Universal parts fit all."""
    return parts_fitting([part], vehicle)[part.pk]


def parts_fitting(parts, vehicle) -> dict:
    """``{part id: fits}`` for ``parts`` on the vehicle (as ``part_fits``), in one query
    whatever their number (none when all are universal)."""
    from aftersales.parts.models import Fitment

    fits = {part.pk: bool(part.universal) for part in parts}
    checked = [pk for pk, universal in fits.items() if not universal]
    if checked:
        variant = vehicle.variant
        year = variant.model_year
        fitting = (
            Fitment.objects.filter(part_id__in=checked, vehicle_model_id=variant.vehicle_model_id)
            .filter(Q(variant__isnull=True) | Q(variant_id=variant.pk))
            .filter(Q(year_from__isnull=True) | Q(year_from__lte=year))
            .filter(Q(year_to__isnull=True) | Q(year_to__gte=year))
            .values_list("part_id", flat=True)
        )
        fits.update(dict.fromkeys(fitting, True))
    return fits


def _checked_part(order, part, fits=None):
    """The part to put on the order: the current number when ``part`` is superseded (with
    the warning to show), refused when it does not fit the vehicle. ``fits``: what
    ``parts_fitting`` already found (parts not in it are looked up)."""
    from aftersales.parts.lookup import current_part

    current = current_part(part)
    warning = ""
    if current.pk != part.pk:
        warning = _("%(old)s is superseded by %(new)s; the new number is used.") % {
            "old": part.number,
            "new": current.number,
        }
    if not current.active:
        message = _("Part %(number)s is no longer supplied.") % {"number": current.number}
        raise ValidationFailed(message, code="part_inactive", fields={"part": [message]})
    # a replacement fits where the number it replaces fitted
    known = fits or {}
    missing = [p for p in {part.pk: part, current.pk: current}.values() if p.pk not in known]
    if missing:
        known = {**known, **parts_fitting(missing, order.vehicle)}
    if not (known[current.pk] or known[part.pk]):
        variant = order.vehicle.variant
        message = _(
            "Part %(number)s does not fit this vehicle (%(variant)s). Check the number or "
            "look the part up by VIN."
        ) % {"number": current.number, "variant": variant.name}
        raise ValidationFailed(message, code="part_does_not_fit", fields={"part": [message]})
    return current, warning


def _reserve(order, actor, line, quantity, key, items=None) -> Decimal:
    """Reserve what the order's warehouse has of ``quantity`` for the line; record the
    rest as a shortage. Returns the quantity reserved. ``items``: stock items already
    locked, by part id."""
    from aftersales.parts import stock

    if order.warehouse_id is None or quantity <= 0:
        line.reservation = None
        return ZERO
    item = (items or {}).get(line.part_id) or stock.item_for(
        warehouse=order.warehouse, part=line.part
    )
    available = max(item.on_hand - item.reserved, ZERO)
    take = min(quantity, available)
    line.reservation = None
    if take > 0:
        line.reservation = stock.reserve(
            actor=actor if getattr(actor, "pk", None) else None,
            warehouse=order.warehouse,
            part=line.part,
            quantity=take,
            key=key,
            doc=stock.Doc(type="repair_order", id=order.pk, number=order.number),
            item=item,
        )
    if quantity > take:
        stock.record_shortage(
            warehouse=order.warehouse,
            part=line.part,
            quantity=quantity - take,
            key=f"{key}:short",
            item=item,
        )
    return take


def _release(actor, line) -> None:
    from aftersales.parts import stock
    from aftersales.parts.choices import ReservationStatus

    reservation = line.reservation
    if reservation is not None and reservation.status == ReservationStatus.ACTIVE:
        stock.release(actor=actor if getattr(actor, "pk", None) else None, reservation=reservation)


def line_stock(line) -> dict:
    """What stock holds for a part line: ``reserved`` (still open) and ``to_order``."""
    from aftersales.parts.choices import ReservationStatus

    reserved = ZERO
    reservation = line.reservation if line.reservation_id else None
    if reservation is not None and reservation.status == ReservationStatus.ACTIVE:
        reserved = reservation.quantity - reservation.issued
    used = line.issued_qty - line.returned_qty
    return {"reserved": reserved, "to_order": max(line.quantity - used - reserved, ZERO)}


def _add_part(order, actor, *, part, quantity, pay_type, package=None, fits=None, items=None):
    """A part line, reserved in stock; ``fits`` and ``items`` as ``_checked_part`` and
    ``_reserve`` take them."""
    quantity = _number(quantity, "quantity")
    part, warning = _checked_part(order, part, fits)
    determination = _line_warranty(order, part=part)
    pay_type = _choose_pay_type(determination, pay_type)
    price = money(part.list_price)
    line = RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.PART,
        position=_next_position(order),
        part=part,
        package=package,
        description=f"{part.number} {part.name}"[:200],
        quantity=quantity,
        unit_price=price,
        amount=money(quantity * price),
        pay_type=pay_type,
        warranty_status=determination.status,
        warranty_reason=str(determination.reason or "")[:300],
        fitment_warning=warning[:200],
        additional=_is_additional(order),
        approval=Approval.PROPOSED,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _reserve(order, actor, line, quantity, line.key, items)
    if line.reservation is not None:
        line.save(update_fields=["reservation"])
    return line


@transaction.atomic
def line_add_part(
    *, actor, repair_order, version, part, quantity, pay_type=None, additional=None
) -> RepairOrderLine:
    """Add a part line at the part's list price: refused when the part does not fit the
    vehicle (universal parts fit all), a superseded number is replaced by the current one
    (said in ``fitment_warning``); what the order's warehouse has is reserved, the rest is
    recorded as a shortage (to order)."""
    order = _order_for_change(actor, repair_order, version)
    line = _add_part(order, actor, part=part, quantity=quantity, pay_type=pay_type)
    data = {**_line_data(line), **{k: str(v) for k, v in line_stock(line).items()}}
    _finish(order, actor, _("Part added: %(line)s") % {"line": line.description}, data)
    return line


MAX_LINES_AT_ONCE = 100


@transaction.atomic
def estimate_add_lines(*, actor, repair_order, version, lines: list[dict]) -> list[RepairOrderLine]:
    """Several lines in one go (the estimate screen's save, a maintenance package built by
    hand, an integration): all are added or none. Each item is ``{"kind": "labour",
    "operation", "pay_type", "hours", "description"}``, ``{"kind": "part", "part",
    "quantity", "pay_type"}`` or ``{"kind": "sublet"|"fee", "description", "amount",
    "pay_type"}`` with the objects already looked up. A refused item names its place
    (``lines.<n>.<field>``)."""
    order = _order_for_change(actor, repair_order, version)
    if not lines or len(lines) > MAX_LINES_AT_ONCE:
        message = _("Send between 1 and %(n)s lines.") % {"n": MAX_LINES_AT_ONCE}
        raise ValidationFailed(message, fields={"lines": [message]})
    # the look-ups every line needs, for all of them at once
    operations = [
        i["operation"] for i in lines if i.get("kind") == LineKind.LABOUR and i.get("operation")
    ]
    standard = labour.standard_hours_of(operations, order.vehicle.variant)
    parts = [i["part"] for i in lines if i.get("kind") == LineKind.PART and i.get("part")]
    fits = parts_fitting(parts, order.vehicle) if parts else {}
    items = {}
    if parts and order.warehouse_id is not None:
        from aftersales.parts import stock

        items = stock.items_for(warehouse=order.warehouse, parts=parts)
    added = []
    for n, item in enumerate(lines):
        kind = item.get("kind")
        try:
            if kind == LineKind.LABOUR:
                line = _add_labour(
                    order,
                    actor,
                    operation=item["operation"],
                    pay_type=item.get("pay_type") or None,
                    hours=item.get("hours"),
                    description=item.get("description") or "",
                    standard=standard.get(item["operation"].pk),
                )
            elif kind == LineKind.PART:
                line = _add_part(
                    order,
                    actor,
                    part=item["part"],
                    quantity=item.get("quantity") or "1",
                    pay_type=item.get("pay_type") or None,
                    fits=fits,
                    items=items,
                )
            elif kind in (LineKind.SUBLET, LineKind.FEE):
                line = _add_other(
                    order,
                    actor,
                    kind,
                    description=item.get("description") or "",
                    amount=item.get("amount"),
                    pay_type=item.get("pay_type") or PayType.CUSTOMER,
                )
            else:
                message = _("Choose labour, part, sublet or fee.")
                raise ValidationFailed(message, fields={"kind": [message]})
        except ValidationFailed as error:
            error.fields = {f"lines.{n}.{k}": v for k, v in error.fields.items()}
            raise
        added.append(line)
    _finish(
        order,
        actor,
        _("%(n)s lines added") % {"n": len(added)},
        {"lines": [_line_data(line) for line in added]},
    )
    return added


# ---------------------------------------------------------------- sublet and fees


def _add_other(order, actor, kind, *, description, amount, pay_type):
    amount = _number(amount, "amount", maximum=MAX_AMOUNT)
    return RepairOrderLine.objects.create(
        repair_order=order,
        kind=kind,
        position=_next_position(order),
        description=_description(description),
        quantity=Decimal("1"),
        unit_price=amount,
        amount=amount,
        pay_type=_pay_type(pay_type or PayType.CUSTOMER),
        additional=_is_additional(order),
        approval=Approval.PROPOSED,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def line_add_sublet(
    *, actor, repair_order, version, description, amount, pay_type=PayType.CUSTOMER
) -> RepairOrderLine:
    """Work bought from another workshop (e.g. windscreen, ADAS calibration)."""
    order = _order_for_change(actor, repair_order, version)
    line = _add_other(
        order, actor, LineKind.SUBLET, description=description, amount=amount, pay_type=pay_type
    )
    _finish(
        order, actor, _("Sublet added: %(line)s") % {"line": line.description}, _line_data(line)
    )
    return line


@transaction.atomic
def line_add_fee(
    *, actor, repair_order, version, description, amount, pay_type=PayType.CUSTOMER
) -> RepairOrderLine:
    """A fee (e.g. environmental disposal of oil and filters)."""
    order = _order_for_change(actor, repair_order, version)
    line = _add_other(
        order, actor, LineKind.FEE, description=description, amount=amount, pay_type=pay_type
    )
    _finish(order, actor, _("Fee added: %(line)s") % {"line": line.description}, _line_data(line))
    return line


# ---------------------------------------------------------------- change and remove


def _line_for_change(actor, line, version):
    line_id = getattr(line, "pk", line)
    order_id = RepairOrderLine.objects.values_list("repair_order_id", flat=True).get(pk=line_id)
    order = _order_for_change(actor, order_id, version)
    line = (
        RepairOrderLine.objects.select_for_update(of=("self",))
        .select_related("part", "reservation")
        .get(pk=line_id)
    )
    return order, line


@transaction.atomic
def line_update(
    *, actor, line, version, quantity=None, pay_type=None, unit_price=None, description=None
) -> RepairOrderLine:
    """Change a line the customer has not yet agreed to (or any line before signing; a
    decision taken at the counter is then asked again). A part line's new quantity is
    reserved again; the unit price may be changed on sublet and fee lines only."""
    order, line = _line_for_change(actor, line, version)
    if line.approval == Approval.DECLINED or (
        line.approval == Approval.APPROVED and order.status not in BEFORE_SIGNING
    ):
        raise LineLocked(
            _(
                "The customer has already decided on “%(line)s”; add a new line for "
                "further work instead."
            )
            % {"line": line.description}
        )
    before = _line_data(line)
    fields = ["quantity", "unit_price", "amount", "pay_type", "description", "approval"]
    if description is not None:
        line.description = _description(description)
    if unit_price is not None and unit_price != "":
        if line.kind not in (LineKind.SUBLET, LineKind.FEE):
            message = _("The price of labour and parts comes from the rates and the price list.")
            raise ValidationFailed(message, fields={"unit_price": [message]})
        line.unit_price = _number(unit_price, "unit_price", maximum=MAX_AMOUNT)
    if pay_type not in (None, ""):
        if line.kind in (LineKind.LABOUR, LineKind.PART):
            determination = _line_warranty(order, operation=line.operation, part=line.part)
            line.pay_type = _choose_pay_type(determination, pay_type)
            line.warranty_status = determination.status
            line.warranty_reason = str(determination.reason or "")[:300]
            fields += ["warranty_status", "warranty_reason"]
            if line.kind == LineKind.LABOUR:
                line.unit_price = money(labour.labour_rate(order.dealer, line.pay_type))
        else:
            line.pay_type = _pay_type(pay_type)
    old_quantity = line.quantity
    if quantity not in (None, ""):
        maximum = Decimal("999") if line.kind == LineKind.LABOUR else MAX_QUANTITY
        line.quantity = _number(quantity, "quantity", maximum=maximum)
        used = line.issued_qty - line.returned_qty
        if line.quantity < used:
            message = _("%(n)s have already been issued to the car; return them first.") % {
                "n": used
            }
            raise ValidationFailed(message, fields={"quantity": [message]})
    line.amount = money(line.quantity * line.unit_price)
    line.approval = Approval.PROPOSED
    if line.kind == LineKind.PART and line.quantity != old_quantity:
        _release(actor, line)
        needed = line.quantity - (line.issued_qty - line.returned_qty)
        _reserve(order, actor, line, needed, f"{line.key}:v{order.version}")
        fields.append("reservation")
    line.save(update_fields=fields)
    _finish(
        order,
        actor,
        _("Line changed: %(line)s") % {"line": line.description},
        {"before": before, "after": _line_data(line)},
    )
    return line


@transaction.atomic
def line_remove(*, actor, line, version) -> None:
    """Remove a line (its reservation is released): only while nobody has clocked on it
    and nothing has been issued to it."""
    order, line = _line_for_change(actor, line, version)
    if line.issued_qty > 0 or ClockEntry.objects.filter(line=line).exists():
        raise LineLocked(
            _("“%(line)s” has work or parts booked on it and cannot be removed.")
            % {"line": line.description}
        )
    data = _line_data(line)
    _release(actor, line)
    line.delete()
    _finish(order, actor, _("Line removed: %(line)s") % {"line": data["description"]}, data)


# ---------------------------------------------------------------- maintenance packages


@transaction.atomic
def package_apply(*, actor, repair_order, version, package) -> list[RepairOrderLine]:
    """Add a maintenance package's operations and parts in one go. Applying the same
    package to the order again adds nothing (returns the lines it added before)."""
    order = _order_for_change(actor, repair_order, version)
    package = MaintenancePackage.objects.get(pk=getattr(package, "pk", package))
    done = list(order.lines.filter(package=package))
    if done:
        return done
    model_id = order.vehicle.variant.vehicle_model_id
    if not package.active or (package.vehicle_model_id and package.vehicle_model_id != model_id):
        message = _("Package %(code)s is not for this vehicle.") % {"code": package.code}
        raise ValidationFailed(
            message, code="package_not_for_vehicle", fields={"package": [message]}
        )
    lines = []
    for row in package.operations.select_related("operation").order_by("id"):
        lines.append(
            _add_labour(
                order,
                actor,
                operation=row.operation,
                pay_type=None,
                hours=None,
                description="",
                package=package,
            )
        )
    for row in package.parts.select_related("part").order_by("id"):
        lines.append(
            _add_part(
                order, actor, part=row.part, quantity=row.quantity, pay_type=None, package=package
            )
        )
    if not lines:
        message = _("Package %(code)s has no operations or parts.") % {"code": package.code}
        raise ValidationFailed(message, fields={"package": [message]})
    _finish(
        order,
        actor,
        _("Package applied: %(package)s") % {"package": package.name},
        {"package": package.pk, "lines": [line.pk for line in lines]},
    )
    return lines


# ---------------------------------------------------------------- promised time


def _as_time(value) -> datetime.time:
    if isinstance(value, str):
        return datetime.time.fromisoformat(value)
    return value


def _working(day: datetime.date) -> bool:
    try:
        return is_working_day(day)
    except CalendarUnavailable:  # beyond the published calendar: Monday to Friday
        return day.weekday() < 5


def lay_hours(start: datetime.datetime, hours: Decimal, opening, closing) -> datetime.datetime:
    """The instant ``hours`` of workshop time after ``start``, counting only the time
    between ``opening`` and ``closing`` on Chinese working days (make-up days count,
    weekends and public holidays do not; beyond the published calendar, Monday-Friday)."""
    local = start.astimezone(CALENDAR_TZ)
    remaining = datetime.timedelta(seconds=float(max(hours, ZERO)) * 3600)
    cursor = local
    for _day in range(3660):
        day = cursor.date()
        day_open = datetime.datetime.combine(day, opening, tzinfo=CALENDAR_TZ)
        day_close = datetime.datetime.combine(day, closing, tzinfo=CALENDAR_TZ)
        if _working(day) and cursor < day_close:
            cursor = max(cursor, day_open)
            available = day_close - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        cursor = datetime.datetime.combine(
            day + datetime.timedelta(days=1), opening, tzinfo=CALENDAR_TZ
        )
    return cursor


def _remaining_hours(lines) -> Decimal:
    remaining = ExpressionWrapper(
        Greatest(F("standard_hours") - F("actual_hours"), Value(ZERO)),
        output_field=DecimalField(max_digits=8, decimal_places=2),
    )
    value = (
        lines.filter(kind=LineKind.LABOUR)
        .exclude(approval=Approval.DECLINED)
        .exclude(job_status=JobStatus.DONE)
        .aggregate(h=Coalesce(Sum(remaining), Value(ZERO), output_field=DecimalField()))["h"]
    )
    return Decimal(value or 0)


def workshop_load(order: RepairOrder) -> tuple[Decimal, int]:
    """The remaining standard hours of the dealer's other orders that hold the workshop
    (approved, in progress, waiting for parts, paused, rework) and the number of
    technicians sharing them (at least 1)."""
    from aftersales.org.models import RoleAssignment
    from aftersales.org.roles import Role

    others = RepairOrderLine.objects.filter(
        repair_order__dealer_id=order.dealer_id, repair_order__status__in=LOADING
    ).exclude(repair_order_id=order.pk)
    technicians = (
        RoleAssignment.objects.filter(
            role=Role.TECHNICIAN, dealer_id=order.dealer_id, active=True, user__is_active=True
        )
        .values("user_id")
        .distinct()
        .count()
    )
    return _remaining_hours(others), max(technicians, 1)


def promised_time(order: RepairOrder, *, now=None) -> datetime.datetime:
    """When the car can be ready: now + (workshop load ÷ technicians) + this order's
    remaining standard hours, laid onto the dealer's working hours and Chinese working
    days, rounded up to the next 5 minutes."""
    now = now or timezone.now()
    settings = ServiceSettings.for_dealer(order.dealer_id)
    opening, closing = _as_time(settings.workday_start), _as_time(settings.workday_end)
    load, technicians = workshop_load(order)
    own = _remaining_hours(RepairOrderLine.objects.filter(repair_order_id=order.pk))
    hours = load / technicians + own
    result = lay_hours(now, hours, opening, closing)
    rounded = result.replace(second=0, microsecond=0)
    if rounded < result:
        rounded += datetime.timedelta(minutes=1)
    extra = (5 - rounded.minute % 5) % 5
    closing_at = datetime.datetime.combine(rounded.date(), closing, tzinfo=CALENDAR_TZ)
    rounded = min(rounded + datetime.timedelta(minutes=extra), max(closing_at, rounded))
    return rounded


# ---------------------------------------------------------------- terms


@transaction.atomic
def estimate_set_terms(
    *, actor, repair_order, version, payment_method, old_parts, free_wash, promised_at=None
) -> RepairOrder:
    """Record the terms the customer agrees to: how they pay, what happens to the old
    parts, the free wash and the promised completion time (default: ``promised_time``;
    it may not be in the past)."""
    order = locked(repair_order, version=version)
    require(actor, order, CHANGE)
    require_open(order)
    errors = {}
    if payment_method not in PaymentMethod.values:
        errors["payment_method"] = [_("Choose the payment method.")]
    if old_parts not in OldPartsDisposition.values:
        errors["old_parts"] = [_("Choose what happens to the old parts.")]
    now = timezone.now()
    if promised_at in (None, ""):
        promised_at = promised_time(order, now=now)
    elif isinstance(promised_at, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(promised_at)
        if parsed is None:
            errors["promised_at"] = [_("Enter a date and time.")]
        else:
            promised_at = parsed
    if isinstance(promised_at, datetime.datetime):
        if timezone.is_naive(promised_at):
            promised_at = timezone.make_aware(promised_at)
        if promised_at < now - datetime.timedelta(minutes=1):
            errors["promised_at"] = [_("The promised time cannot be in the past.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, fields=errors)
    order.payment_method = payment_method
    order.old_parts = old_parts
    order.free_wash = bool(free_wash)
    order.promised_at = promised_at
    order.estimate_total = estimate_totals(order)["total"]
    bump(order, "payment_method", "old_parts", "free_wash", "promised_at", "estimate_total")
    record_event(
        order,
        kind=EventKind.LINE,
        actor=actor,
        message=_("Estimate terms set"),
        data={
            "payment_method": payment_method,
            "old_parts": old_parts,
            "free_wash": bool(free_wash),
            "promised_at": promised_at.isoformat(),
        },
    )
    return order
