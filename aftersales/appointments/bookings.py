"""Booking services (SPEC §3): take a booking from any channel, confirm, move, cancel,
check the car in (it becomes a repair order), and the two jobs: no-shows after the grace
time and the day-before reminders.

Capacity is never overbooked: every write that takes capacity locks the dealer's
``ScheduleSettings`` row first (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: the IMMEDIATE
transaction), then checks on the day's grid that the advisor, bay and technician are still
free, then writes. Two bookings racing for the last slot are serialised: the second sees
the first and gets ``slot_taken`` (409).
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.appointments.choices import (
    HOLDING,
    TRANSITIONS,
    BookingEventKind,
    BookingStatus,
    Channel,
    ServiceType,
)
from aftersales.appointments.links import booking_link as booking_link  # the contract's name
from aftersales.appointments.messages import in_quiet_hours, notify_customer
from aftersales.appointments.models import (
    Booking,
    BookingEvent,
    BookingOperation,
    ScheduleSettings,
)
from aftersales.appointments.slots import (
    DayGrid,
    Free,
    Needs,
    day_grids,
    find_slots,
    needs_for,
    steps_for,
)
from aftersales.core import versioning
from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.idempotency import once
from aftersales.core.numbering import next_number

B = BookingStatus


class SlotTaken(Conflict):
    code = "slot_taken"


class IllegalTransition(Conflict):
    code = "illegal_transition"


StaleVersion = versioning.StaleVersion


# ---------------------------------------------------------------- helpers


def _label(actor) -> str:
    if actor is None:
        return _("the system")
    return str(actor)


def _event(booking, kind, actor, message="", **data):
    return BookingEvent.objects.create(
        booking=booking,
        kind=kind,
        actor=actor,
        actor_label=_label(actor)[:100],
        message=str(message)[:300],
        from_starts_at=data.pop("from_starts_at", None),
        to_starts_at=data.pop("to_starts_at", None),
        data=data,
    )


def lock_schedule(dealer) -> ScheduleSettings:
    """The dealer's booking lock (its settings row, made when missing)."""
    dealer_id = getattr(dealer, "pk", dealer)
    ScheduleSettings.objects.get_or_create(dealer_id=dealer_id)
    return ScheduleSettings.objects.select_for_update().get(dealer_id=dealer_id)


def _locked(booking, version=None) -> Booking:
    return versioning.locked_row(
        Booking.objects.select_related("dealer", "vehicle", "customer"),
        booking,
        version=version,
        stale_message=lambda row: (
            _(
                "Booking %(number)s was changed by someone else in the meantime. "
                "Reload it and try again."
            )
            % {"number": row.number}
        ),
    )


def _step(booking, to: str) -> None:
    if to not in TRANSITIONS.get(booking.status, set()):
        raise IllegalTransition(
            _("Booking %(number)s is %(status)s: it cannot become %(to)s.")
            % {
                "number": booking.number,
                "status": booking.get_status_display(),
                "to": B(to).label,
            }
        )


def _save(booking, before, actor, *fields):
    booking.version += 1
    booking.save(update_fields=[*fields, "version", "updated_at"])
    audit_update(booking, actor=actor, before=before)


def _choice(value, choices, field, message):
    if value not in choices.values:
        raise ValidationFailed(message, fields={field: [message]})
    return value


def _clean_mobile(value) -> str:
    from django.core.exceptions import ValidationError

    from aftersales.crm.validators import normalise_mobile

    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalise_mobile(value)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], fields={"contact_mobile": exc.messages}) from None


def _refuse(code, message, field="starts_at"):
    raise ValidationFailed(message, code=code, fields={field: [message]})


def check_time(
    settings: ScheduleSettings, grid: DayGrid, starts_at, needs: Needs, *, now=None
) -> int:
    """The grid steps of a job of ``needs`` starting at ``starts_at``; refuses a time in
    the past, too far ahead, on a closed day, outside the opening hours, off the grid, a
    bay kind the dealer does not have, or a job longer than the day."""
    now = now or timezone.now()
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    capacity = grid.capacity
    if starts_at < now - datetime.timedelta(minutes=1):
        _refuse("in_the_past", _("This time is in the past: choose a time from now on."))
    if timezone.localdate(starts_at) > timezone.localdate(now) + datetime.timedelta(
        days=settings.horizon_days
    ):
        _refuse(
            "too_far_ahead",
            _("Bookings are taken up to %(days)s days ahead.") % {"days": settings.horizon_days},
        )
    if not capacity.is_open:
        _refuse(
            "closed_day",
            _("The dealer is closed on %(day)s: %(reason)s.")
            % {"day": capacity.day.isoformat(), "reason": capacity.closed_reason},
        )
    if not grid.fitting_bays(needs.bay_kind):
        from aftersales.workorders.choices import BayKind

        _refuse(
            "no_bay_kind",
            _("This dealer has no %(kind)s bay for this work.")
            % {"kind": BayKind(needs.bay_kind).label},
            "operations",
        )
    steps = steps_for(needs.hours, grid.step)
    if steps > grid.size:
        _refuse(
            "too_long",
            _(
                "%(hours)s hours of work do not fit in one opening day: book the car in at "
                "opening time and plan the rest on the repair order."
            )
            % {"hours": needs.hours},
            "operations",
        )
    index = grid.index(starts_at)
    if index < 0 or index + steps > grid.size:
        _refuse(
            "outside_hours",
            _("The work must start and end within the opening hours (%(opens)s-%(closes)s).")
            % {
                "opens": timezone.localtime(capacity.opens).strftime("%H:%M"),
                "closes": timezone.localtime(capacity.closes).strftime("%H:%M"),
            },
        )
    if abs(index - round(index)) > 1e-6:
        _refuse(
            "off_grid",
            _("Choose a start on the booking grid (every %(minutes)s minutes).")
            % {"minutes": grid.step},
        )
    return steps


def _take(grid: DayGrid, index: int, steps: int, needs: Needs, advisor, bay, technician) -> Free:
    """Who to book at ``index`` (the given ones if free, otherwise the least loaded free
    ones) and the grid steps the job takes; ``slot_taken`` when any is missing."""
    bays = grid.fitting_bays(needs.bay_kind)
    technicians = grid.skilled(needs.bay_kind, needs.categories)
    if bay is not None:
        bays = [b for b in bays if b == bay.pk]
    if technician is not None:
        technicians = [t for t in technicians if t == technician.pk]
    advisors = [advisor.pk] if advisor is not None else None
    free = grid.free_at(index, steps, bays, technicians, advisors=advisors, bay_kind=needs.bay_kind)
    if not (free.advisors and free.bays and free.technicians):
        raise SlotTaken(
            _(
                "This time is no longer free (advisor, bay or technician taken): "
                "choose another one."
            ),
            fields={"starts_at": [_("Slot taken.")]},
        )
    return free


def _own(dealer, advisor, bay, technician) -> None:
    """A chosen bay, advisor or technician must be this dealer's: another dealer's answers
    404, as if it did not exist."""
    from aftersales.appointments.models import Advisor, Technician

    dealer_id = getattr(dealer, "pk", dealer)
    if bay is not None and bay.dealer_id != dealer_id:
        raise NotFound(fields={"bay": [_("Not found.")]})
    for field, model, user in (
        ("advisor", Advisor, advisor),
        ("technician", Technician, technician),
    ):
        if user is not None and not model.objects.filter(dealer_id=dealer_id, user=user).exists():
            raise NotFound(fields={field: [_("Not found.")]})


def _place(dealer, settings, starts_at, needs, *, advisor, bay, technician, exclude=None, now=None):
    _own(dealer, advisor, bay, technician)
    day = timezone.localdate(starts_at)
    grid = day_grids(dealer, day, day, exclude_booking=exclude)[day]
    steps = check_time(settings, grid, starts_at, needs, now=now)
    index = round(grid.index(starts_at))
    free = _take(grid, index, steps, needs, advisor, bay, technician)
    ids = free.advisors[0], free.bays[0], free.technicians[0]
    return grid.at(index), grid.at(index + free.steps), ids


# ---------------------------------------------------------------- booking


@transaction.atomic
def booking_create(
    *,
    actor,
    dealer,
    vehicle,
    service_type: str,
    channel: str,
    starts_at,
    operations=(),
    package=None,
    concern: str = "",
    contact_name: str = "",
    contact_mobile: str = "",
    advisor=None,
    bay=None,
    technician=None,
    confirm: bool = False,
    idempotency_key: str = "",
    now=None,
) -> Booking:
    """Book ``vehicle`` at ``dealer`` from ``starts_at`` for ``operations`` (and/or a
    ``package``). Advisor, bay and technician are the least-loaded free ones unless given.
    ``actor`` None is the owner booking through their link (the caller checked the link).
    With ``idempotency_key`` a retry returns the booking the first call made."""
    if actor is not None:
        require_at(actor, "appointments.add_booking", dealer=dealer)

    def act():
        return _create(
            actor=actor,
            dealer=dealer,
            vehicle=vehicle,
            service_type=service_type,
            channel=channel,
            starts_at=starts_at,
            operations=operations,
            package=package,
            concern=concern,
            contact_name=contact_name,
            contact_mobile=contact_mobile,
            advisor=advisor,
            bay=bay,
            technician=technician,
            confirm=confirm,
            now=now,
        )

    if idempotency_key and actor is not None:
        booking, _acted = once(
            user=actor,
            scope="appointments.booking_create",
            key=idempotency_key,
            action=act,
            model=Booking,
        )
        return booking
    return act()


def _create(
    *,
    actor,
    dealer,
    vehicle,
    service_type,
    channel,
    starts_at,
    operations,
    package,
    concern,
    contact_name,
    contact_mobile,
    advisor,
    bay,
    technician,
    confirm,
    now,
):
    from aftersales.crm.services import relationship_ensure

    _choice(service_type, ServiceType, "service_type", _("Choose the service type."))
    _choice(channel, Channel, "channel", _("Choose the channel the booking came from."))
    if starts_at is None:
        _refuse("invalid", _("Choose the time of the visit."))
    if len(concern or "") > 2000:
        _refuse("invalid", _("At most 2000 characters."), "concern")
    if len(contact_name or "") > 50:
        _refuse("invalid", _("At most 50 characters."), "contact_name")
    mobile = _clean_mobile(contact_mobile)
    operations = list(operations)
    needs = needs_for(
        operations=operations, service_type=service_type, package=package, vehicle=vehicle
    )
    settings = lock_schedule(dealer)
    starts_at, ends_at, (advisor_id, bay_id, technician_id) = _place(
        dealer,
        settings,
        starts_at,
        needs,
        advisor=advisor,
        bay=bay,
        technician=technician,
        now=now,
    )
    owner = vehicle.owner if vehicle.owner_id else None
    relationship_ensure(dealer=dealer, vehicle=vehicle)
    now = now or timezone.now()
    booking = Booking.objects.create(
        dealer=dealer,
        number=next_number(doc_type="AP", dealer=dealer),
        status=B.CONFIRMED if confirm else B.REQUESTED,
        channel=channel,
        service_type=service_type,
        vehicle=vehicle,
        customer=owner,
        contact_name=(contact_name or (owner.name if owner else ""))[:50],
        contact_mobile=mobile or (getattr(owner, "mobile", "") or ""),
        concern=(concern or "").strip(),
        package=package,
        bay_kind=needs.bay_kind,
        hours=needs.hours,
        starts_at=starts_at,
        ends_at=ends_at,
        advisor_id=advisor_id,
        bay_id=bay_id,
        technician_id=technician_id,
        created_by=actor,
        confirmed_at=now if confirm else None,
    )
    BookingOperation.objects.bulk_create(
        BookingOperation(booking=booking, operation=op, hours=hours)
        for op, hours in needs.operations
    )
    audit_create(booking, actor=actor)
    _event(
        booking,
        BookingEventKind.CREATED,
        actor,
        _("Booked for %(when)s via %(channel)s")
        % {
            "when": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
            "channel": booking.get_channel_display(),
        },
        to_starts_at=starts_at,
    )
    if confirm:
        _event(booking, BookingEventKind.CONFIRMED, actor, _("Confirmed to the customer"))
        notify_customer(booking, "confirmed")
    return booking


@transaction.atomic
def booking_confirm(*, actor, booking, version) -> Booking:
    booking = _locked(booking, version)
    require_at(actor, "appointments.change_booking", dealer=booking.dealer)
    _step(booking, B.CONFIRMED)
    before = snapshot(booking)
    booking.status, booking.confirmed_at = B.CONFIRMED, timezone.now()
    _save(booking, before, actor, "status", "confirmed_at")
    _event(booking, BookingEventKind.CONFIRMED, actor, _("Confirmed to the customer"))
    notify_customer(booking, "confirmed")
    return booking


@transaction.atomic
def booking_reschedule(
    *, actor, booking, version, starts_at, advisor=None, bay=None, technician=None, now=None
) -> Booking:
    """Move a booking that still holds capacity to ``starts_at`` (advisor, bay and
    technician chosen again unless given); a full slot is refused with ``slot_taken`` and
    the booking stays where it was. The move is kept in the history."""
    current = Booking.objects.select_related("dealer").get(pk=getattr(booking, "pk", booking))
    require_at(actor, "appointments.change_booking", dealer=current.dealer)
    settings = lock_schedule(current.dealer_id)
    booking = _locked(current, version)
    if booking.status not in HOLDING:
        raise IllegalTransition(
            _("Booking %(number)s is %(status)s: it cannot be moved.")
            % {"number": booking.number, "status": booking.get_status_display()}
        )
    needs = Needs(
        booking.bay_kind,
        frozenset(op.category for op in _operations(booking))
        or needs_for(service_type=booking.service_type).categories,
        booking.hours,
    )
    new_start, new_end, (advisor_id, bay_id, technician_id) = _place(
        booking.dealer,
        settings,
        starts_at,
        needs,
        advisor=advisor,
        bay=bay,
        technician=technician,
        exclude=booking,
        now=now,
    )
    before = snapshot(booking)
    old_start = booking.starts_at
    booking.starts_at, booking.ends_at = new_start, new_end
    booking.advisor_id, booking.bay_id, booking.technician_id = advisor_id, bay_id, technician_id
    booking.reschedules += 1
    booking.reminded_at = None  # the new day gets its own reminder
    _save(
        booking,
        before,
        actor,
        "starts_at",
        "ends_at",
        "advisor",
        "bay",
        "technician",
        "reschedules",
        "reminded_at",
    )
    _event(
        booking,
        BookingEventKind.RESCHEDULED,
        actor,
        _("Moved from %(old)s to %(new)s")
        % {
            "old": timezone.localtime(old_start).strftime("%Y-%m-%d %H:%M"),
            "new": timezone.localtime(new_start).strftime("%Y-%m-%d %H:%M"),
        },
        from_starts_at=old_start,
        to_starts_at=new_start,
    )
    if booking.status == B.CONFIRMED:
        notify_customer(booking, "moved")
    return booking


def _operations(booking):
    return [entry.operation for entry in booking.operations.select_related("operation")]


@transaction.atomic
def booking_cancel(*, actor, booking, version, reason: str) -> Booking:
    booking = _locked(booking, version)
    require_at(actor, "appointments.cancel_booking", dealer=booking.dealer)
    reason = (reason or "").strip()
    if not reason:
        message = _("Give the reason for cancelling.")
        raise ValidationFailed(message, fields={"reason": [message]})
    _step(booking, B.CANCELLED)
    before = snapshot(booking)
    booking.status, booking.cancelled_at = B.CANCELLED, timezone.now()
    booking.cancel_reason = reason[:200]
    _save(booking, before, actor, "status", "cancelled_at", "cancel_reason")
    _event(booking, BookingEventKind.CANCELLED, actor, reason)
    if booking.confirmed_at is not None and booking.starts_at > timezone.now():
        notify_customer(booking, "cancelled")
    return booking


@transaction.atomic
def booking_check_in(
    *,
    actor,
    booking,
    version,
    odometer_km,
    fuel_level,
    covers_installed: bool = True,
    odometer_reason: str = "",
):
    """The car arrived: open its repair order with the booking's advisor and concern, record
    the reception data, check it in and add the booked operations as labour lines. Any
    refusal (a missing reading, an order already open for the car) changes nothing."""
    from aftersales.workorders.estimate import line_add_labour
    from aftersales.workorders.models import RepairOrder
    from aftersales.workorders.reception import (
        reception_update,
        repair_order_check_in,
        repair_order_open,
    )

    booking = _locked(booking, version)
    require_at(actor, "appointments.checkin_booking", dealer=booking.dealer)
    _step(booking, B.CHECKED_IN)
    concern = booking.concern or booking.get_service_type_display()
    order = repair_order_open(
        actor=actor,
        dealer=booking.dealer,
        vehicle=booking.vehicle,
        customer=booking.customer,
        contact_name=booking.contact_name,
        contact_mobile=booking.contact_mobile,
        kind=_ro_kind(booking.service_type),
        concern=concern,
        advisor=booking.advisor,
    )
    fields = {"odometer_km": odometer_km, "fuel_level": fuel_level}
    fields["covers_installed"] = covers_installed
    if odometer_reason:
        fields["odometer_reason"] = odometer_reason
    order = reception_update(actor=actor, repair_order=order, version=order.version, **fields)
    order = repair_order_check_in(actor=actor, repair_order=order, version=order.version)
    for entry in booking.operations.select_related("operation"):
        version = RepairOrder.objects.values_list("version", flat=True).get(pk=order.pk)
        line_add_labour(actor=actor, repair_order=order, version=version, operation=entry.operation)
    before = snapshot(booking)
    booking.status, booking.checked_in_at = B.CHECKED_IN, timezone.now()
    booking.repair_order = order
    _save(booking, before, actor, "status", "checked_in_at", "repair_order")
    _event(
        booking,
        BookingEventKind.CHECKED_IN,
        actor,
        _("Checked in: repair order %(number)s") % {"number": order.number},
        repair_order=order.pk,
    )
    return RepairOrder.objects.get(pk=order.pk)


def _ro_kind(service_type: str) -> str:
    from aftersales.workorders.choices import ROKind

    wanted = {
        "maintenance": "maintenance",
        "warranty": "warranty",
        "campaign": "other",
        "repair": "repair",
        "inspection": "repair",
    }.get(service_type, "repair")
    return wanted if wanted in ROKind.values else ROKind.REPAIR


# ---------------------------------------------------------------- walk-ins and look-ups


def walk_in_slot(*, dealer, service_type, operations=(), vehicle=None, now=None):
    """The next free start for a car that arrives without a booking (from now on, over the
    bookable days), or None when the horizon is full."""
    now = now or timezone.now()
    settings = ScheduleSettings.for_dealer(dealer)
    needs = needs_for(operations=operations, service_type=service_type, vehicle=vehicle)
    today = timezone.localdate(now)
    found = find_slots(
        dealer=dealer,
        first=today,
        last=today + datetime.timedelta(days=settings.horizon_days),
        bay_kind=needs.bay_kind,
        categories=needs.categories,
        hours=needs.hours,
        limit=1,
        now=now,
    )
    return found[0] if found else None


def no_show_count(customer) -> int:
    """How many bookings the customer did not turn up for, at any dealer."""
    if customer is None:
        return 0
    return Booking.objects.filter(customer=customer, status=B.NO_SHOW).count()


# ---------------------------------------------------------------- jobs


def _claim(rows):
    if connection.vendor == "postgresql":
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows


def mark_no_shows(*, now=None) -> int:
    """Bookings still holding capacity whose start plus the dealer's grace time has passed
    become no-shows. Re-running marks nothing twice."""
    now = now or timezone.now()
    marked = 0
    grace = {s.dealer_id: s.no_show_grace_minutes for s in ScheduleSettings.objects.all()}
    shortest = min([*grace.values(), ScheduleSettings().no_show_grace_minutes])
    candidates = list(
        Booking.objects.filter(
            status__in=HOLDING, starts_at__lt=now - datetime.timedelta(minutes=shortest)
        ).values_list("pk", "dealer_id", "starts_at")
    )
    default = ScheduleSettings().no_show_grace_minutes
    for pk, dealer_id, starts_at in candidates:
        if starts_at + datetime.timedelta(minutes=grace.get(dealer_id, default)) > now:
            continue
        with transaction.atomic():
            booking = _claim(Booking.objects.filter(pk=pk, status__in=HOLDING)).first()
            if booking is None:
                continue
            before = snapshot(booking)
            booking.status, booking.no_show_at = B.NO_SHOW, now
            _save(booking, before, None, "status", "no_show_at")
            _event(booking, BookingEventKind.NO_SHOW, None, _("The customer did not come"))
            marked += 1
    return marked


def send_reminders(*, now=None) -> int:
    """Queue the day-before reminder of tomorrow's confirmed bookings once the dealer's
    reminder hour has come and the customer's quiet hours (if any) are over; each booking
    is reminded once (again after a move)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    tomorrow = local.date() + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    hour = {s.dealer_id: s.reminder_hour for s in ScheduleSettings.objects.all()}
    default = ScheduleSettings().reminder_hour
    sent = 0
    due = Booking.objects.filter(
        status=B.CONFIRMED, reminded_at__isnull=True, starts_at__gte=start, starts_at__lt=end
    ).values_list("pk", "dealer_id", "customer__quiet_from", "customer__quiet_until")
    for pk, dealer_id, quiet_from, quiet_until in list(due):
        if local.hour < hour.get(dealer_id, default):
            continue
        if in_quiet_hours(quiet_from, quiet_until, now):
            continue  # a later run sends it once the customer's quiet hours are over
        with transaction.atomic():
            booking = (
                _claim(Booking.objects.filter(pk=pk, reminded_at__isnull=True))
                .select_related("dealer", "vehicle", "customer")
                .first()
            )
            if booking is None or booking.status != B.CONFIRMED:
                continue
            Booking.objects.filter(pk=pk).update(reminded_at=now)
            booking.reminded_at = now
            notify_customer(booking, "reminder")
            _event(booking, BookingEventKind.MESSAGE, None, _("Day-before reminder sent"))
            sent += 1
    return sent
