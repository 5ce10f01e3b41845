"""Reception pages: start a visit (find the car by plate or VIN, open the repair order)
and the order's reception panel (an htmx fragment on the repair-order page): odometer,
fuel level, concern, the walk-around diagram, photos, the comeback flag and check-in.

Every page checks its permission and finds the order with ``restrict`` (another dealer's
order answers 404). Every action calls a service and answers with the re-rendered panel
and ``HX-Trigger: ro-changed`` (the header and the other panels refresh); a refused action
re-renders the panel with the message and changes nothing."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.access import user_has_perm
from aftersales.core.errors import ServiceError, ValidationFailed
from aftersales.core.idempotency import clean_key
from aftersales.crm.selectors import reception_lookup, shown_mobile, vehicles
from aftersales.workorders import reception
from aftersales.workorders.api.reception import photo_response
from aftersales.workorders.choices import (
    BEFORE_WORK,
    Approval,
    FuelLevel,
    ROKind,
    ROStatus,
)
from aftersales.workorders.forms_reception import LookupForm, OpenForm, PhotoForm, new_key
from aftersales.workorders.models import PhotoKind, RepairOrder, RepairOrderLine, RepairOrderPhoto
from aftersales.workorders.selectors import order_or_404, repair_orders
from aftersales.workorders.transitions import may, refusals

S = ROStatus
ADD = "workorders.add_repairorder"
VIEW = "workorders.view_repairorder"


def needs(permission):
    """Signed in (else to the login page) and holding ``permission`` somewhere (else 403)."""

    def decorate(view):
        @login_required
        def wrapped(request, *args, **kwargs):
            if not user_has_perm(request.user, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def order_url(order) -> str:
    """The repair-order page, or the reception panel alone while that page is missing."""
    try:
        return reverse("repair-order-detail", kwargs={"pk": order.pk})
    except NoReverseMatch:
        return reverse("ro-reception-panel", kwargs={"pk": order.pk})


# ---------------------------------------------------------------- start a visit


def _vehicle_for(user, vehicle_id, q):
    """The vehicle the advisor picked: one their dealer knows, or the one the exact plate
    or VIN found at reception (any dealer's)."""
    try:
        vehicle_id = int(vehicle_id)
    except (TypeError, ValueError):
        return None
    found = vehicles(user).filter(pk=vehicle_id).first()
    if found is None and q:
        looked_up = reception_lookup(user, q)
        if looked_up is not None and looked_up.pk == vehicle_id:
            found = looked_up
    return found


def _visit_context(user, vehicle):
    orders = list(repair_orders(user).filter(vehicle=vehicle).order_by("-created_at")[:10])
    open_orders = [o for o in orders if o.status in reception.STILL_OPEN]
    last_visits = [o for o in orders if o.status not in reception.STILL_OPEN][:5]
    declined = list(
        RepairOrderLine.objects.restrict(user, "view")
        .filter(repair_order__vehicle=vehicle, approval=Approval.DECLINED)
        .select_related("repair_order")
        .order_by("-repair_order__created_at", "position")[:10]
    )
    owner = vehicle.owner
    return {
        "vehicle": vehicle,
        "owner": owner,
        "owner_mobile": shown_mobile(user, owner.mobile) if owner else "",
        "open_orders": open_orders,
        "last_visits": last_visits,
        "declined": declined,
    }


@needs(ADD)
def repair_order_new(request):
    """Start a visit: one box for the plate or the VIN (a scanner types and presses Enter),
    the car found with its owner, open orders, last visits and declined recommendations,
    then "Open repair order"."""
    user = request.user
    error = ""
    lookup = LookupForm(request.GET or None)
    vehicle = None
    q = ""
    if request.method == "POST":
        form = OpenForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            q = data["q"]
            vehicle = _vehicle_for(user, data["vehicle"], q)
            if vehicle is None:
                raise Http404
            try:
                order = reception.repair_order_open(
                    actor=user,
                    dealer=user.dealer,
                    vehicle=vehicle,
                    kind=data["kind"],
                    concern=data["concern"],
                    contact_name=data["contact_name"],
                    contact_mobile=data["contact_mobile"],
                    idempotency_key=clean_key(data["idempotency_key"]),
                )
            except ServiceError as exc:
                error = exc.message
                for field, messages in exc.fields.items():
                    if field in form.fields:
                        for message in messages:
                            form.add_error(field, message)
            else:
                return redirect(order_url(order))
    else:
        if lookup.is_valid() and lookup.cleaned_data["q"]:
            q = lookup.cleaned_data["q"]
            vehicle = reception_lookup(user, q)
            if vehicle is None:
                error = _(
                    "No vehicle with the plate or VIN %(q)s. Check it, or register the car first."
                ) % {"q": q}
        elif request.GET.get("vehicle"):
            vehicle = _vehicle_for(user, request.GET["vehicle"], "")
            if vehicle is None:
                raise Http404
        form = None
        if vehicle is not None:
            form = OpenForm(
                initial={
                    "vehicle": vehicle.pk,
                    "q": q,
                    "idempotency_key": new_key(),
                    "kind": ROKind.REPAIR,
                }
            )
    context = {"lookup": lookup, "form": form, "error": error, "q": q}
    if vehicle is not None:
        context.update(_visit_context(user, vehicle))
        if user.dealer_id is None:
            context["error"] = error or _("Only a dealer's staff can open a repair order.")
    return render(request, "workorders/reception_new.html", context)


# ---------------------------------------------------------------- the panel

MARK_COLOURS = {
    "scratch": "#0d6efd",
    "dent": "#dc3545",
    "crack": "#6f42c1",
    "chip": "#fd7e14",
    "other": "#6c757d",
}


def _marks(order):
    return [
        {
            "n": number,
            "x": mark["x"],
            "y": mark["y"],
            "kind": mark["kind"],
            "label": reception.MARK_KINDS.get(mark["kind"], mark["kind"]),
            "note": mark.get("note", ""),
            "colour": MARK_COLOURS.get(mark["kind"], "#6c757d"),
            "cx": round(mark["x"] * 2, 1),
            "cy": round(mark["y"] * 4, 1),
        }
        for number, mark in enumerate(order.walkaround or [], start=1)
    ]


def _panel(
    request,
    order,
    *,
    error="",
    field_errors=None,
    posted=None,
    warnings=(),
    status=200,
    changed=False,
):
    user = request.user
    order = RepairOrder.objects.select_related(
        "vehicle__variant__vehicle_model", "customer", "comeback_of", "dealer"
    ).get(pk=order.pk)
    can_edit = may(user, ADD, order) or may(user, "workorders.change_repairorder", order)
    can_photo = any(may(user, p, order) for p in reception.PHOTO_PERMISSIONS)
    status_ok = order.status in BEFORE_WORK
    notes_ok = order.status in reception.NOTES_EDITABLE
    values = {
        field: getattr(order, field)
        for field in reception.RECEPTION_FIELDS
        if field not in ("walkaround",)
    }
    values.update(posted or {})
    check_in_refusals = []
    if order.status == S.DRAFT:
        check_in_refusals = refusals(order, S.CHECKED_IN, user)
    suggested = None
    if order.status == S.DRAFT and order.comeback_of_id is None and order.concern:
        suggested = reception.find_comeback(order)
    comeback_visible = (
        order.comeback_of_id is not None
        and repair_orders(user).filter(pk=order.comeback_of_id).exists()
    )
    warnings = list(warnings)
    if order.odometer_suspect and not warnings:
        warnings.append(reception.odometer_warning(order))
    context = {
        "order": order,
        "values": values,
        "error": error,
        "field_errors": field_errors or {},
        "warnings": warnings,
        "can_edit": can_edit and status_ok,
        "can_edit_notes": can_edit and notes_ok,
        "can_edit_odometer": can_edit and order.status == S.DRAFT,
        "can_photo": can_photo and order.status not in (S.CLOSED, S.CANCELLED),
        "can_check_in": can_edit and order.status == S.DRAFT,
        "check_in_refusals": check_in_refusals,
        "fuel_levels": FuelLevel.choices,
        "kinds": ROKind.choices,
        "mark_kinds": [(k, v, MARK_COLOURS[k]) for k, v in reception.MARK_KINDS.items()],
        "marks": _marks(order),
        "marks_json": json.dumps(order.walkaround or [], ensure_ascii=False),
        "photos": list(order.photos.all()),
        "photo_form": PhotoForm(initial={"kind": PhotoKind.DAMAGE}),
        "photo_kinds": PhotoKind.choices,
        "suggested_comeback": suggested,
        "comeback_url": order_url(order.comeback_of) if comeback_visible else "",
        "photo_key": new_key(),
        "last_known_km": reception.last_known_km(order.vehicle),
    }
    response = render(request, "workorders/reception_panel.html", context, status=status)
    if changed:
        response["HX-Trigger"] = "ro-changed"
    return response


@require_GET
@needs(VIEW)
def reception_panel(request, pk):
    """The reception panel of one order (fragment, no page frame)."""
    return _panel(request, order_or_404(request.user, pk))


def _version(request):
    raw = request.POST.get("version")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("This form is out of date: reload the page and try again."), code="stale"
        ) from None


def _act(request, order, action, *, posted=None):
    """Run ``action()``; answer the panel, refreshed, or with the refusal shown."""
    try:
        result = action()
    except ServiceError as exc:
        return _panel(
            request,
            order,
            error=exc.message,
            field_errors=exc.fields,
            posted=posted if exc.code != "stale" else None,
        )
    warnings = getattr(result, "warnings", ()) or ()
    return _panel(request, order, warnings=warnings, changed=True)


_CHECKBOXES = {"covers_installed"}


@require_POST
@needs(VIEW)
def reception_save(request, pk):
    """Save the reception form, or the walk-around marks (only the fields the form sent:
    fields that may no longer change are not in the form)."""
    order = order_or_404(request.user, pk)
    fields = {}
    for field in reception.RECEPTION_FIELDS:
        if field in request.POST:
            fields[field] = request.POST.get(field)
    for field in _CHECKBOXES:
        if f"{field}__present" in request.POST:
            fields[field] = request.POST.get(field) == "on"
    if "walkaround" in fields:
        try:
            fields["walkaround"] = json.loads(fields["walkaround"] or "[]")
        except ValueError:
            fields["walkaround"] = "invalid"
    posted = {k: v for k, v in fields.items() if k != "walkaround"}

    def action():
        return reception.reception_update(
            actor=request.user, repair_order=order, version=_version(request), **fields
        )

    return _act(request, order, action, posted=posted)


@require_POST
@needs(VIEW)
def reception_photo_add(request, pk):
    """Upload a photo (the camera on a tablet)."""
    order = order_or_404(request.user, pk)

    def action():
        upload = request.FILES.get("image")
        if upload is None:
            message = _("Choose a photo to upload.")
            raise ValidationFailed(message, fields={"image": [message]})
        from aftersales.core.idempotency import once

        return once(
            user=request.user,
            scope=f"workorders.photo_add:{order.pk}",
            key=clean_key(request.POST.get("idempotency_key")),
            action=lambda: reception.photo_add(
                actor=request.user,
                repair_order=order,
                upload=upload,
                kind=request.POST.get("kind") or PhotoKind.DAMAGE,
                caption=request.POST.get("caption", ""),
            ),
            model=RepairOrderPhoto,
        )[0]

    return _act(request, order, action)


@require_POST
@needs(VIEW)
def reception_photo_remove(request, pk, photo_id):
    order = order_or_404(request.user, pk)
    photo = get_object_or_404(RepairOrderPhoto, pk=photo_id, repair_order=order)
    return _act(request, order, lambda: reception.photo_remove(actor=request.user, photo=photo))


@require_POST
@needs(ADD)
def reception_check_in(request, pk):
    order = order_or_404(request.user, pk)
    return _act(
        request,
        order,
        lambda: reception.repair_order_check_in(
            actor=request.user, repair_order=order, version=_version(request)
        ),
    )


@require_POST
@needs(ADD)
def reception_comeback(request, pk):
    """Confirm, correct (by RO number) or clear the comeback link."""
    order = order_or_404(request.user, pk)
    value = (request.POST.get("comeback_of") or "").strip() or None
    if request.POST.get("clear"):
        value = None
    return _act(
        request,
        order,
        lambda: reception.repair_order_set_comeback(
            actor=request.user, repair_order=order, version=_version(request), comeback_of=value
        ),
    )


@require_GET
@needs(VIEW)
def ro_photo(request, pk, photo_id):
    """A photo of an order, only to those who may see the order."""
    order = order_or_404(request.user, pk)
    photo = get_object_or_404(RepairOrderPhoto, pk=photo_id, repair_order=order)
    return photo_response(photo)
