"""Booking pages: the calendar (a day or a week of a dealer, bookings and capacity), the
booking form with live slot suggestions, the booking page with its history and the
confirm / reschedule / cancel / check-in actions.

Rows are scoped with ``restrict`` (another dealer's booking is a 404); every step goes
through a service, whose refusal is shown as a message."""

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aftersales.appointments import bookings as services
from aftersales.appointments import selectors
from aftersales.appointments.capacity import days_capacity
from aftersales.appointments.choices import HOLDING, BookingStatus, Channel, ServiceType
from aftersales.appointments.models import Booking
from aftersales.appointments.slots import find_slots, needs_for
from aftersales.core.access import allowed_at, user_has_perm
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import clean_key
from aftersales.workorders.choices import FuelLevel
from aftersales.workorders.views_reception import needs

VIEW, ADD = "appointments.view_booking", "appointments.add_booking"


def error_text(exc: ServiceError) -> str:
    text = str(exc.message)
    details = [str(m) for msgs in (exc.fields or {}).values() for m in msgs]
    if details and text not in details:
        text = f"{text} ({'; '.join(details)})"
    return text


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


# ---------------------------------------------------------------- calendar


def _load(capacity, day_bookings):
    """Technician hours available, booked and the share, per bay kind and in all."""
    available = sum(
        (end - start).total_seconds() / 3600
        for p in capacity.technicians
        for start, end in p.windows
    )
    booked = sum(
        float(b.hours) for b in day_bookings if b.status in HOLDING or b.status == "checked_in"
    )
    kinds = {}
    open_hours = (
        (capacity.closes - capacity.opens).total_seconds() / 3600 if capacity.is_open else 0
    )
    for bay in capacity.bays:
        row = kinds.setdefault(bay.kind, {"bays": 0, "hours": 0.0, "booked": 0.0})
        row["bays"] += 1
        row["hours"] += open_hours
    for b in day_bookings:
        if b.bay_kind in kinds and (b.status in HOLDING or b.status == "checked_in"):
            kinds[b.bay_kind]["booked"] += float(b.hours)
    from aftersales.workorders.choices import BayKind

    per_kind = [
        {
            "kind": BayKind(kind).label,
            "bays": row["bays"],
            "share": round(100 * row["booked"] / row["hours"]) if row["hours"] else 0,
        }
        for kind, row in sorted(kinds.items())
    ]
    return {
        "available": round(available, 1),
        "booked": round(booked, 1),
        "share": round(100 * booked / available) if available else 0,
        "per_kind": per_kind,
    }


@needs(VIEW)
def calendar(request):
    """A dealer's bookings for a week (default, from today) or a day, with the capacity of
    each day: technician hours booked of those available, and per bay kind."""
    dealer, dealers = _dealer(request, VIEW)
    mode = "day" if request.GET.get("view") == "day" else "week"
    first = _date(request.GET.get("day"), timezone.localdate())
    last = first if mode == "day" else first + datetime.timedelta(days=6)
    rows = []
    object_list = []
    if dealer is not None:
        object_list = list(selectors.bookings(request.user, dealer=dealer, first=first, last=last))
        capacities = days_capacity(dealer, first, last)
        by_day = {}
        for booking in object_list:
            by_day.setdefault(timezone.localdate(booking.starts_at), []).append(booking)
        for day, capacity in sorted(capacities.items()):
            day_bookings = by_day.get(day, [])
            rows.append(
                {
                    "day": day,
                    "capacity": capacity,
                    "bookings": day_bookings,
                    "load": _load(capacity, day_bookings) if capacity.is_open else None,
                }
            )
    step = datetime.timedelta(days=1 if mode == "day" else 7)
    context = {
        "dealer": dealer,
        "dealers": dealers if dealers.count() > 1 else [],
        "mode": mode,
        "first": first,
        "last": last,
        "previous": first - step,
        "next": first + step,
        "today": timezone.localdate(),
        "days": rows,
        "object_list": object_list,
        "can_add": user_has_perm(request.user, ADD),
    }
    return render(request, "appointments/calendar.html", context)


# ---------------------------------------------------------------- the booking form


class BookingForm(forms.Form):
    vehicle = forms.IntegerField(widget=forms.HiddenInput)
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Channel.choices)
    service_type = forms.ChoiceField(
        label=gettext_lazy("Service type"), choices=ServiceType.choices
    )
    operations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Operations"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    concern = forms.CharField(
        label=gettext_lazy("Concern"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    contact_name = forms.CharField(label=gettext_lazy("Contact"), required=False, max_length=50)
    contact_mobile = forms.CharField(
        label=gettext_lazy("Contact mobile"), required=False, max_length=20
    )
    day = forms.DateField(
        label=gettext_lazy("Preferred day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("Time"), required=False)
    confirm = forms.BooleanField(label=gettext_lazy("Confirmed with the customer"), required=False)

    def __init__(self, *args, **kwargs):
        from aftersales.workorders.models import LabourOperation

        super().__init__(*args, **kwargs)
        self.fields["operations"].queryset = LabourOperation.objects.filter(active=True).order_by(
            "category", "code"
        )
        for name, field in self.fields.items():
            if not isinstance(field.widget, (forms.HiddenInput, forms.CheckboxInput)):
                field.widget.attrs.setdefault(
                    "class",
                    "form-select"
                    if name in ("channel", "service_type", "operations")
                    else "form-control",
                )


def _vehicle(user, raw):
    from aftersales.crm.selectors import vehicles

    if not str(raw or "").isdigit():
        return None
    return vehicles(user).filter(pk=int(raw)).first()


@needs(ADD)
def booking_new(request):
    """Book a car: find it by plate or VIN, choose the service and operations, pick one
    of the suggested free times (they follow the form as it changes)."""
    from aftersales.crm.selectors import reception_lookup

    dealer, dealers = _dealer(request, ADD)
    error, vehicle, form = "", None, None
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    if request.method == "POST":
        form = BookingForm(request.POST)
        vehicle = reception_lookup(request.user, q) if q else None
        if vehicle is None:
            vehicle = _vehicle(request.user, request.POST.get("vehicle"))
        if form.is_valid() and vehicle is not None and dealer is not None:
            data = form.cleaned_data
            if data["starts_at"] is None:
                form.add_error("starts_at", _("Choose one of the free times."))
            else:
                try:
                    booking = services.booking_create(
                        actor=request.user,
                        dealer=dealer,
                        vehicle=vehicle,
                        service_type=data["service_type"],
                        channel=data["channel"],
                        starts_at=data["starts_at"],
                        operations=list(data["operations"]),
                        concern=data["concern"],
                        contact_name=data["contact_name"],
                        contact_mobile=data["contact_mobile"],
                        confirm=data["confirm"],
                        idempotency_key=clean_key(data["idempotency_key"]),
                    )
                except ServiceError as exc:
                    error = error_text(exc)
                else:
                    messages.success(
                        request,
                        _("Booking %(number)s made for %(when)s.")
                        % {
                            "number": booking.number,
                            "when": timezone.localtime(booking.starts_at).strftime(
                                "%Y-%m-%d %H:%M"
                            ),
                        },
                    )
                    return redirect("booking-detail", pk=booking.pk)
        elif vehicle is None:
            error = _("Find the vehicle first.")
    elif q:
        vehicle = reception_lookup(request.user, q)
        if vehicle is None:
            error = _(
                "No vehicle with the plate or VIN %(q)s. Check it, or register the car first."
            ) % {"q": q}
    if vehicle is not None and form is None:
        form = BookingForm(
            initial={
                "vehicle": vehicle.pk,
                "q": q,
                "idempotency_key": uuid.uuid4().hex,
                "channel": Channel.PHONE,
                "service_type": ServiceType.MAINTENANCE,
                "day": timezone.localdate() + datetime.timedelta(days=1),
                "contact_name": vehicle.owner.name if vehicle.owner_id else "",
            }
        )
    return render(
        request,
        "appointments/booking_new.html",
        {
            "dealer": dealer,
            "dealers": dealers if dealers.count() > 1 else [],
            "vehicle": vehicle,
            "form": form,
            "q": q,
            "error": error,
        },
    )


@needs(VIEW)
def booking_slots(request):
    """The free times for the booking form (an htmx partial): the chosen day and the six
    after it, the first 8 each day, the least-loaded advisor, bay and technician."""
    from aftersales.workorders.models import LabourOperation

    dealer, _dealers = _dealer(request, VIEW)
    params = request.GET
    service_type = params.get("service_type") or ServiceType.MAINTENANCE
    if service_type not in ServiceType.values:
        service_type = ServiceType.MAINTENANCE
    ids = [int(v) for v in params.getlist("operations") if str(v).isdigit()]
    operations = list(LabourOperation.objects.filter(pk__in=ids, active=True))
    vehicle = _vehicle(request.user, params.get("vehicle"))
    first = max(_date(params.get("day"), timezone.localdate()), timezone.localdate())
    days = []
    needs_ = needs_for(operations=operations, service_type=service_type, vehicle=vehicle)
    if dealer is not None:
        slots = find_slots(
            dealer=dealer,
            first=first,
            last=first + datetime.timedelta(days=6),
            bay_kind=needs_.bay_kind,
            categories=needs_.categories,
            hours=needs_.hours,
        )
        grouped = {}
        for slot in slots:
            grouped.setdefault(timezone.localdate(slot.starts_at), []).append(slot)
        days = [(day, day_slots[:8], len(day_slots)) for day, day_slots in sorted(grouped.items())]
    return render(
        request,
        "appointments/_slots.html",
        {"days": days, "needs": needs_, "hours": Decimal(needs_.hours)},
    )


# ---------------------------------------------------------------- one booking


def _booking(request, pk):
    try:
        return selectors.booking_detail(request.user, pk)
    except Booking.DoesNotExist:
        raise Http404 from None


class CheckInForm(forms.Form):
    odometer_km = forms.IntegerField(
        label=gettext_lazy("Odometer (km)"),
        min_value=0,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    fuel_level = forms.ChoiceField(
        label=gettext_lazy("Fuel / charge level"),
        choices=FuelLevel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    covers_installed = forms.BooleanField(
        label=gettext_lazy("Protective covers installed"), required=False, initial=True
    )
    odometer_reason = forms.CharField(
        label=gettext_lazy("Reason for a lower reading"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


@needs(VIEW)
def booking_detail(request, pk):
    """A booking: its data, history (every move from → to) and what may be done next."""
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
        "move_day": timezone.localdate(booking.starts_at),
    }
    return render(request, "appointments/booking_detail.html", context)


def _act(request, pk, permission_action, act):
    booking = _booking(request, pk)
    if not Booking.objects.restrict(request.user, permission_action).filter(pk=booking.pk).exists():
        raise PermissionDenied
    try:
        result = act(booking)
    except ServiceError as exc:
        messages.error(request, error_text(exc))
        return redirect("booking-detail", pk=booking.pk)
    return result


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


@require_POST
@needs("appointments.change_booking")
def booking_reschedule(request, pk):
    def act(booking):
        raw = request.POST.get("starts_at", "")
        try:
            starts_at = timezone.make_aware(datetime.datetime.fromisoformat(raw)) if raw else None
        except ValueError:
            starts_at = None
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
        services.booking_cancel(
            actor=request.user,
            booking=booking,
            version=_version(request),
            reason=request.POST.get("reason", ""),
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
                "; ".join(str(m) for msgs in form.errors.values() for m in msgs),
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
