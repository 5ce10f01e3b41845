"""Booking pages: the calendar (a day or a week of a dealer, bookings and capacity), the
booking form with live slot suggestions (and a new customer's car registered on the way),
the booking page with its history and the confirm / reschedule / cancel / check-in
actions, and the owner's own booking page from their signed link.

Rows are scoped with ``restrict`` (another dealer's booking is a 404); every step goes
through a service, whose refusal is shown on the page."""

import datetime
import re
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.appointments import bookings as services
from aftersales.appointments import selectors
from aftersales.appointments.capacity import days_capacity
from aftersales.appointments.choices import HOLDING, BookingStatus, Channel, ServiceType
from aftersales.appointments.forms_bookings import (
    BookingForm,
    CancelForm,
    CheckInForm,
    QuickVehicleForm,
    new_key,
)
from aftersales.appointments.models import Booking, ScheduleSettings
from aftersales.appointments.slots import DayGrid, find_slots, needs_for
from aftersales.core.access import allowed_at, user_has_perm
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import clean_key
from aftersales.core.pages import error_text
from aftersales.workorders.choices import BayKind, FuelLevel
from aftersales.workorders.views_reception import needs

VIEW, ADD = "appointments.view_booking", "appointments.add_booking"
# Bookings that take workshop time on their day (a checked-in car is in the workshop).
IN_WORKSHOP = HOLDING | {BookingStatus.CHECKED_IN}
SLOT_DAYS = 7  # the booking form offers the chosen day and the six after it
SLOTS_A_DAY = 8


def _date(raw, default):
    try:
        return datetime.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _dealer(request, permission):
    """The dealer the page is about: ``?dealer=`` among those the user may see, else
    their own, else the first."""
    dealers = selectors.dealers_with(request.user, permission)
    wanted = request.GET.get("dealer") or request.POST.get("dealer") or ""
    if wanted.isdigit():
        found = dealers.filter(pk=int(wanted)).first()
        if found is not None:
            return found, dealers
    own = dealers.filter(pk=request.user.dealer_id).first() if request.user.dealer_id else None
    return own or dealers.first(), dealers


def _hours(windows) -> float:
    return sum((end - start).total_seconds() / 3600 for start, end in windows)


# ---------------------------------------------------------------- calendar


def day_load(capacity, day_bookings) -> dict:
    """A day's capacity against its bookings: technician hours booked of those available
    (in all and per bay kind), and the advisors' free reception slots.

    Per bay kind the hours available are the smaller of the bays' open hours and the
    shift hours of the technicians who work in that kind of bay; booked hours count by the
    kind of the bay the booking holds (a quick job in a general bay loads the general
    bays)."""
    holding = [b for b in day_bookings if b.status in IN_WORKSHOP]
    open_hours = (capacity.closes - capacity.opens).total_seconds() / 3600
    kinds: dict[str, dict] = {}
    for bay in capacity.bays:
        row = kinds.setdefault(bay.kind, {"bays": 0, "bay_hours": 0.0, "booked": 0.0})
        row["bays"] += 1
        row["bay_hours"] += open_hours
    for b in holding:
        kind = b.bay.kind if b.bay_id else b.bay_kind
        kinds.setdefault(kind, {"bays": 0, "bay_hours": 0.0, "booked": 0.0})
        kinds[kind]["booked"] += float(b.hours)
    per_kind = []
    for kind, row in sorted(kinds.items()):
        skilled = sum(_hours(p.windows) for p in capacity.technicians if kind in p.bay_kinds)
        available = min(row["bay_hours"], skilled)
        per_kind.append(
            {
                "kind": kind,
                "label": BayKind(kind).label if kind in BayKind.values else kind,
                "bays": row["bays"],
                "available": round(available, 1),
                "booked": round(row["booked"], 1),
                "share": round(100 * row["booked"] / available) if available else 100,
            }
        )
    available = sum(_hours(p.windows) for p in capacity.technicians)
    booked = sum(float(b.hours) for b in holding)
    grid = DayGrid(
        capacity,
        [
            (b.advisor_id, b.bay_id, b.technician_id, b.starts_at, b.ends_at)
            for b in day_bookings
            if b.status in HOLDING
        ],
    )
    reception_slots = sum(
        (available_bits & ~busy).bit_count() // grid.reception
        for available_bits, busy in grid.advisors.values()
    )
    return {
        "available": round(available, 1),
        "booked": round(booked, 1),
        "share": round(100 * booked / available) if available else 0,
        "per_kind": per_kind,
        "reception_slots": reception_slots,
        "advisors": len(capacity.advisors),
    }


def day_lanes(capacity, day_bookings) -> dict:
    """The day view: one lane per bay with its bookings placed by time (as shares of the
    opening hours, for the CSS), the hour marks, and the bookings of bays no longer in use
    in a lane of their own."""
    span = (capacity.closes - capacity.opens).total_seconds()

    def place(start, end):
        left = max(0.0, (start - capacity.opens).total_seconds() / span * 100)
        right = min(100.0, (end - capacity.opens).total_seconds() / span * 100)
        return round(left, 2), round(max(right - left, 1.5), 2)

    lanes = {bay.id: {"bay": bay, "items": []} for bay in capacity.bays}
    other = {"bay": None, "items": []}
    for b in day_bookings:
        if b.status == BookingStatus.CANCELLED:
            continue
        left, width = place(b.starts_at, b.ends_at)
        lanes.get(b.bay_id, other)["items"].append({"booking": b, "left": left, "width": width})
    marks = []
    hour = capacity.opens.replace(minute=0, second=0, microsecond=0)
    while hour <= capacity.closes:
        if hour >= capacity.opens:
            marks.append(
                {"label": timezone.localtime(hour).strftime("%H:%M"), "left": place(hour, hour)[0]}
            )
        hour += datetime.timedelta(hours=1)
    rows = list(lanes.values()) + ([other] if other["items"] else [])
    return {"lanes": rows, "marks": marks}


@needs(VIEW)
def calendar(request):
    """A dealer's bookings for a week (default, from today) or a day, with the capacity of
    each day: technician hours booked of those available, per bay kind, and the advisors'
    free reception slots. The day view lays the bookings out by bay and time."""
    dealer, dealers = _dealer(request, VIEW)
    mode = "day" if request.GET.get("view") == "day" else "week"
    first = _date(request.GET.get("day"), timezone.localdate())
    last = first if mode == "day" else first + datetime.timedelta(days=6)
    rows = []
    object_list = []
    if dealer is not None:
        object_list = list(selectors.bookings(request.user, dealer=dealer, first=first, last=last))
        by_day: dict[datetime.date, list] = {}
        for booking in object_list:
            by_day.setdefault(timezone.localdate(booking.starts_at), []).append(booking)
        for day, capacity in sorted(days_capacity(dealer, first, last).items()):
            day_bookings = by_day.get(day, [])
            rows.append(
                {
                    "day": day,
                    "capacity": capacity,
                    "bookings": day_bookings,
                    "load": day_load(capacity, day_bookings) if capacity.is_open else None,
                    "lanes": day_lanes(capacity, day_bookings)
                    if capacity.is_open and mode == "day"
                    else None,
                }
            )
    step = datetime.timedelta(days=1 if mode == "day" else 7)
    dealer_list = list(dealers[:200])
    context = {
        "dealer": dealer,
        "dealers": dealer_list if len(dealer_list) > 1 else [],
        "mode": mode,
        "first": first,
        "last": last,
        "previous": first - step,
        "next": first + step,
        "today": timezone.localdate(),
        "days": rows,
        "object_list": object_list,
        "statuses": BookingStatus.choices,
        "can_add": user_has_perm(request.user, ADD),
    }
    return render(request, "appointments/calendar.html", context)


# ---------------------------------------------------------------- the booking form


def _vehicle_for(user, vehicle_id, q):
    """The vehicle picked on the form: one the user's dealers know, or the one the exact
    plate or VIN found at reception (any dealer's car may be booked in)."""
    from aftersales.crm.selectors import reception_lookup, vehicles

    if not str(vehicle_id or "").isdigit():
        return None
    found = vehicles(user).filter(pk=int(vehicle_id)).first()
    if found is None and q:
        looked_up = reception_lookup(user, q)
        if looked_up is not None and looked_up.pk == int(vehicle_id):
            found = looked_up
    return found


def _variants(user):
    from aftersales.catalogue.models import Variant

    return (
        Variant.objects.restrict(user, "view")
        .select_related("vehicle_model")
        .order_by("vehicle_model__brand__code", "vehicle_model__code", "-model_year", "name")
    )


def _may_register(user, dealer) -> bool:
    return dealer is not None and all(
        allowed_at(user, p, dealer=dealer) for p in ("crm.add_customer", "crm.add_vehicle")
    )


def _quick_initial(q: str) -> dict:
    """A plate or VIN that found nothing goes into the new-vehicle form."""
    cleaned = re.sub(r"[\s\-·.]", "", q or "").upper()
    return {"vin": cleaned} if len(cleaned) == 17 else {"plate": cleaned}


def _register(request, dealer):
    """A new customer and their vehicle from the quick form; (vehicle, form)."""
    from aftersales.crm.services import customer_create, vehicle_create

    form = QuickVehicleForm(request.POST, variants=_variants(request.user), prefix="new")
    if not form.is_valid():
        return None, form
    data = form.cleaned_data
    try:
        with transaction.atomic():
            customer = customer_create(
                actor=request.user, dealer=dealer, name=data["name"], mobile=data["mobile"]
            )
            vehicle = vehicle_create(
                actor=request.user,
                owner=customer,
                dealer=dealer,
                vin=data["vin"],
                plate=data["plate"],
                variant=data["variant"],
            )
    except ServiceError as exc:
        for field, msgs in (exc.fields or {}).items():
            for message in msgs:
                form.add_error(field if field in form.fields else None, message)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return None, form
    return vehicle, form


def _booking_form_initial(vehicle, q, user):
    channel = (
        Channel.DCRC if not user_has_perm(user, "appointments.checkin_booking") else Channel.PHONE
    )
    return {
        "vehicle": vehicle.pk,
        "q": q,
        "idempotency_key": new_key(),
        "channel": channel,
        "service_type": ServiceType.MAINTENANCE,
        "day": timezone.localdate() + datetime.timedelta(days=1),
        "contact_name": vehicle.owner.name if vehicle.owner_id else "",
        "contact_mobile": vehicle.owner.mobile if vehicle.owner_id else "",
    }


@needs(ADD)
def booking_new(request):
    """Book a car: find it by plate or VIN (or register a new customer's car), choose the
    service, package or operations, pick one of the suggested free times (they follow the
    form as it changes)."""
    from aftersales.crm.selectors import reception_lookup

    dealer, dealers = _dealer(request, ADD)
    error, vehicle, form, quick = "", None, None, None
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    if request.method == "POST" and request.POST.get("action") == "register":
        vehicle, quick = (
            _register(request, dealer) if _may_register(request.user, dealer) else (None, None)
        )
        if quick is None:
            raise PermissionDenied
        if vehicle is not None:
            messages.success(
                request, _("Customer and vehicle registered: %(vin)s.") % {"vin": vehicle.vin}
            )
            query = {"q": vehicle.vin, "dealer": dealer.pk}
            return redirect(f"{reverse('booking-new')}?{urlencode(query)}")
        error = _("The new customer's car could not be registered; see below.")
    elif request.method == "POST":
        form = BookingForm(request.POST)
        vehicle = _vehicle_for(request.user, request.POST.get("vehicle"), q)
        if vehicle is None:
            error = _("Find the vehicle first.")
            form = None
        elif dealer is None:
            error = _("You may not take bookings at any dealer.")
        elif form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.booking_create(
                    actor=request.user,
                    dealer=dealer,
                    vehicle=vehicle,
                    service_type=data["service_type"],
                    channel=data["channel"],
                    starts_at=data["starts_at"],
                    operations=list(data["operations"]),
                    package=data["package"],
                    concern=data["concern"],
                    contact_name=data["contact_name"],
                    contact_mobile=data["contact_mobile"],
                    confirm=data["confirm"],
                    idempotency_key=clean_key(data["idempotency_key"]),
                )
            except ServiceError as exc:
                error = error_text(exc)
                for field, msgs in (exc.fields or {}).items():
                    for message in msgs:
                        if field in form.fields:
                            form.add_error(field, message)
            else:
                messages.success(
                    request,
                    _("Booking %(number)s made for %(when)s.")
                    % {
                        "number": booking.number,
                        "when": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
                    },
                )
                return redirect("booking-detail", pk=booking.pk)
    elif q:
        vehicle = reception_lookup(request.user, q)
        if vehicle is None:
            error = _("No vehicle with the plate or VIN %(q)s.") % {"q": q}
            if _may_register(request.user, dealer):
                quick = QuickVehicleForm(
                    initial=_quick_initial(q), variants=_variants(request.user), prefix="new"
                )
    if vehicle is not None and form is None:
        form = BookingForm(initial=_booking_form_initial(vehicle, q, request.user))
    dealer_list = list(dealers[:200])
    return render(
        request,
        "appointments/booking_new.html",
        {
            "dealer": dealer,
            "dealers": dealer_list if len(dealer_list) > 1 else [],
            "vehicle": vehicle,
            "form": form,
            "quick": quick,
            "may_register": _may_register(request.user, dealer),
            "q": q,
            "error": error,
        },
    )


def slot_days(dealer, needs_, first, *, exclude_booking=None, per_day=SLOTS_A_DAY):
    """The free times from ``first`` over ``SLOT_DAYS`` days, grouped by day:
    ``[(day, first few slots, how many in all)]``."""
    slots = find_slots(
        dealer=dealer,
        first=first,
        last=first + datetime.timedelta(days=SLOT_DAYS - 1),
        bay_kind=needs_.bay_kind,
        categories=needs_.categories,
        hours=needs_.hours,
        exclude_booking=exclude_booking,
    )
    grouped: dict[datetime.date, list] = {}
    for slot in slots:
        grouped.setdefault(timezone.localdate(slot.starts_at), []).append(slot)
    return [
        (day, day_slots[:per_day], len(day_slots)) for day, day_slots in sorted(grouped.items())
    ]


@needs(VIEW)
def booking_slots(request):
    """The free times for the booking form (an htmx partial): the chosen day and the six
    after it, the first 8 each day, each with the least-loaded advisor, bay and
    technician. ``booking`` (a reschedule) frees that booking's own time first."""
    from aftersales.workorders.models import LabourOperation, MaintenancePackage

    dealer, _dealers = _dealer(request, VIEW)
    params = request.GET
    service_type = params.get("service_type") or ServiceType.MAINTENANCE
    if service_type not in ServiceType.values:
        service_type = ServiceType.MAINTENANCE
    ids = [int(v) for v in params.getlist("operations") if str(v).isdigit()]
    operations = list(LabourOperation.objects.filter(pk__in=ids, active=True))
    package = None
    if str(params.get("package", "")).isdigit():
        package = MaintenancePackage.objects.filter(pk=int(params["package"]), active=True).first()
    vehicle = _vehicle_for(request.user, params.get("vehicle"), params.get("q", ""))
    exclude = None
    if str(params.get("booking", "")).isdigit():
        exclude = (
            Booking.objects.restrict(request.user, "view").filter(pk=int(params["booking"])).first()
        )
    first = max(_date(params.get("day"), timezone.localdate()), timezone.localdate())
    needs_ = needs_for(
        operations=operations, service_type=service_type, package=package, vehicle=vehicle
    )
    days = []
    if dealer is not None:
        days = slot_days(dealer, needs_, first, exclude_booking=exclude)
    return render(
        request,
        "appointments/_slots.html",
        {
            "days": days,
            "needs": needs_,
            "bay_kind": BayKind(needs_.bay_kind).label
            if needs_.bay_kind in BayKind.values
            else needs_.bay_kind,
            "hours": Decimal(needs_.hours),
        },
    )


# ---------------------------------------------------------------- one booking


def _booking(request, pk):
    try:
        return selectors.booking_detail(request.user, pk)
    except Booking.DoesNotExist:
        raise Http404 from None


@needs(VIEW)
def booking_detail(request, pk):
    """A booking: its data, history (every move from → to), the customer's no-shows and
    what may be done next."""
    booking = _booking(request, pk)
    dealer = booking.dealer
    holding = booking.status in HOLDING
    context = {
        "booking": booking,
        "operations": list(booking.operations.all()),
        "events": list(booking.events.all()),
        "no_shows": services.no_show_count(booking.customer),
        "can_confirm": booking.status == BookingStatus.REQUESTED
        and allowed_at(request.user, "appointments.change_booking", dealer=dealer),
        "can_move": holding
        and allowed_at(request.user, "appointments.change_booking", dealer=dealer),
        "can_cancel": holding
        and allowed_at(request.user, "appointments.cancel_booking", dealer=dealer),
        "can_check_in": holding
        and allowed_at(request.user, "appointments.checkin_booking", dealer=dealer),
        "check_in_form": CheckInForm(initial={"fuel_level": FuelLevel.HALF}),
        "cancel_form": CancelForm(),
        "move_day": max(timezone.localdate(booking.starts_at), timezone.localdate()),
        "day": timezone.localdate(booking.starts_at),
    }
    return render(request, "appointments/booking_detail.html", context)


def _act(request, pk, permission_action, act):
    booking = _booking(request, pk)
    if not Booking.objects.restrict(request.user, permission_action).filter(pk=booking.pk).exists():
        raise PermissionDenied
    try:
        return act(booking)
    except ServiceError as exc:
        messages.error(request, error_text(exc))
        return redirect("booking-detail", pk=booking.pk)


def _version(request):
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else -1


@require_POST
@needs("appointments.change_booking")
def booking_confirm(request, pk):
    def act(booking):
        services.booking_confirm(actor=request.user, booking=booking, version=_version(request))
        messages.success(request, _("Booking confirmed; the customer gets a message."))
        return redirect("booking-detail", pk=booking.pk)

    return _act(request, pk, "change", act)


def _posted_time(raw):
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return timezone.make_aware(datetime.datetime.strptime(raw, pattern))
        except (TypeError, ValueError):
            continue
    return None


@require_POST
@needs("appointments.change_booking")
def booking_reschedule(request, pk):
    def act(booking):
        starts_at = _posted_time(request.POST.get("starts_at", ""))
        if starts_at is None:
            messages.error(request, _("Choose one of the free times."))
            return redirect("booking-detail", pk=booking.pk)
        moved = services.booking_reschedule(
            actor=request.user, booking=booking, version=_version(request), starts_at=starts_at
        )
        messages.success(
            request,
            _("Booking moved to %(when)s.")
            % {"when": timezone.localtime(moved.starts_at).strftime("%Y-%m-%d %H:%M")},
        )
        return redirect("booking-detail", pk=booking.pk)

    return _act(request, pk, "change", act)


@require_POST
@needs("appointments.cancel_booking")
def booking_cancel(request, pk):
    def act(booking):
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why the booking is cancelled."))
            return redirect("booking-detail", pk=booking.pk)
        services.booking_cancel(
            actor=request.user,
            booking=booking,
            version=_version(request),
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("Booking cancelled."))
        return redirect("booking-detail", pk=booking.pk)

    return _act(request, pk, "cancel", act)


@require_POST
@needs("appointments.checkin_booking")
def booking_check_in(request, pk):
    def act(booking):
        form = CheckInForm(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                "; ".join(
                    f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
                    for name, msgs in form.errors.items()
                    for message in msgs
                ),
            )
            return redirect("booking-detail", pk=booking.pk)
        data = form.cleaned_data
        order = services.booking_check_in(
            actor=request.user,
            booking=booking,
            version=_version(request),
            odometer_km=data["odometer_km"],
            fuel_level=data["fuel_level"],
            covers_installed=data["covers_installed"],
            odometer_reason=data["odometer_reason"],
        )
        messages.success(
            request, _("Checked in: repair order %(number)s.") % {"number": order.number}
        )
        return redirect(reverse("repair-order-detail", kwargs={"pk": order.pk}))

    return _act(request, pk, "checkin", act)


# ---------------------------------------------------------------- the owner's own link


def masked_plate(plate: str) -> str:
    """京A***45: enough for the owner to recognise the car, not to read it off a
    forwarded link."""
    if not plate:
        return ""
    return plate[:2] + "*" * max(len(plate) - 4, 1) + plate[-2:]


def booking_public(request, token):
    """The owner's booking page from the signed link of a reminder or a campaign: the
    vehicle (plate masked) and the service already filled in, the free times of the next
    days, and one button to book (channel "reminder"; the dealer confirms it). No login:
    the signed token is the owner's key, and it carries ids only."""
    from aftersales.appointments.forms_bookings import PublicBookingForm
    from aftersales.appointments.links import read_booking_link

    try:
        link = read_booking_link(token)
    except ServiceError as exc:
        return render(
            request,
            "appointments/booking_public.html",
            {"refused": str(exc.message), "code": exc.code},
            status=exc.status,
        )
    dealer, vehicle = link.dealer, link.vehicle
    settings = ScheduleSettings.for_dealer(dealer)
    today = timezone.localdate()
    last_day = today + datetime.timedelta(days=settings.horizon_days)
    needs_ = needs_for(
        service_type=link.service_type, package=link.package, vehicle=vehicle, operations=()
    )
    if request.GET.get("slots"):
        first = min(max(_date(request.GET.get("day"), today), today), last_day)
        return render(
            request,
            "appointments/_slots.html",
            {
                "days": slot_days(dealer, needs_, first),
                "public": True,
                "needs": needs_,
                "bay_kind": BayKind(needs_.bay_kind).label
                if needs_.bay_kind in BayKind.values
                else needs_.bay_kind,
                "hours": Decimal(needs_.hours),
            },
        )
    upcoming = (
        Booking.objects.filter(
            dealer=dealer, vehicle=vehicle, status__in=HOLDING, starts_at__gte=timezone.now()
        )
        .order_by("starts_at")
        .first()
    )
    form, error = None, ""
    if upcoming is None:
        form = PublicBookingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.booking_create(
                    actor=None,
                    dealer=dealer,
                    vehicle=vehicle,
                    service_type=link.service_type,
                    channel=Channel.REMINDER,
                    starts_at=data["starts_at"],
                    package=link.package,
                    concern=data["concern"],
                    contact_mobile=data["contact_mobile"],
                )
            except ServiceError as exc:
                error = error_text(exc)
            else:
                return redirect("booking-link", token=token)
    return render(
        request,
        "appointments/booking_public.html",
        {
            "token": token,
            "dealer": dealer,
            "plate": masked_plate(vehicle.plate),
            "variant": vehicle.variant,
            "service_type": ServiceType(link.service_type).label,
            "package": link.package,
            "upcoming": upcoming,
            "form": form,
            "error": error,
            "first_day": today + datetime.timedelta(days=1),
            "last_day": last_day,
        },
    )
