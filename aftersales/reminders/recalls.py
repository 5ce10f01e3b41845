"""Recall completion: a recalled vehicle's recall is done when a repair order of that
vehicle, opened on or after the recall's start, was delivered with the recall's labour
operation finished on it. The recall's reminder stays open on the DCRC's list until then
(``selectors``), whatever month it was written for.

``recalls_complete`` runs with the daily returns job, set-based: one ``UPDATE`` of the
vehicles not done yet whose recall names its labour operation; re-running it changes
nothing. Recalls without an operation are marked done by hand (``recall_vehicle_done``)."""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_update, snapshot
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.reminders.models import Recall, RecallVehicle

MARK = "reminders.change_recall"


def _finished_orders(recall):
    """Delivered repair orders of the recalled vehicle, opened since the recall started,
    with the recall's operation done."""
    from aftersales.workorders.choices import JobStatus, LineKind
    from aftersales.workorders.models import RepairOrder, RepairOrderLine

    done_line = RepairOrderLine.objects.filter(
        repair_order_id=OuterRef("pk"),
        kind=LineKind.LABOUR,
        operation_id=recall.operation_id,
        job_status=JobStatus.DONE,
    )
    return (
        RepairOrder.objects.filter(
            vehicle_id=OuterRef("vehicle_id"),
            delivered_at__isnull=False,
            created_at__date__gte=recall.starts_on,
        )
        .filter(Exists(done_line))
        .order_by("delivered_at", "id")
    )


def recalls_complete() -> int:
    """Mark done every recalled vehicle that had the recall's work delivered; returns how
    many were marked. One statement per recall with vehicles still to do (recalls are
    few, their vehicles many)."""
    marked = 0
    recalls = Recall.objects.filter(
        operation__isnull=False,
        pk__in=RecallVehicle.objects.filter(done_on__isnull=True).values("recall_id"),
    )
    for recall in recalls:
        orders = _finished_orders(recall)
        delivered_on = TruncDate("delivered_at", tzinfo=timezone.get_current_timezone())
        marked += (
            RecallVehicle.objects.filter(recall=recall, done_on__isnull=True)
            .filter(Exists(orders))
            .update(
                done_order=Subquery(orders.values("id")[:1]),
                done_on=Subquery(orders.annotate(day=delivered_on).values("day")[:1]),
            )
        )
    return marked


@transaction.atomic
def recall_vehicle_done(*, actor, recall_vehicle, done_on: datetime.date, order=None):
    """Record by hand that the recall work was done on the vehicle (a recall without a
    labour operation, or work done before the system knew). The order, when given, must be
    the same vehicle's; the date may not lie ahead."""
    row = (
        RecallVehicle.objects.select_for_update().select_related("recall").get(pk=recall_vehicle.pk)
    )
    dealer = order.dealer if order is not None else None
    if not allowed_at(actor, MARK, dealer=dealer):
        raise PermissionDenied()
    if order is not None and order.vehicle_id != row.vehicle_id:
        raise ValidationFailed(
            fields={"order": [_("This repair order is for another vehicle.")]}, code="invalid"
        )
    if done_on > timezone.localdate() or done_on < row.recall.starts_on:
        raise ValidationFailed(
            fields={"done_on": [_("The date must lie between the recall's start and today.")]},
            code="invalid",
        )
    if row.done_on == done_on and row.done_order_id == getattr(order, "pk", None):
        return row  # a retry changes nothing
    before = snapshot(row)
    row.done_on, row.done_order = done_on, order
    row.save(update_fields=["done_on", "done_order"])
    audit_update(row, actor=actor, before=before)
    return row


def recall_work_record(*, actor, recall, vin: str, done_on: datetime.date, order_number=""):
    """``recall_vehicle_done`` as a person records it: the vehicle by its VIN (it must be
    on the recall's list) and, optionally, the repair order by its number (one the actor
    may see)."""
    from aftersales.workorders.models import RepairOrder

    vin = (vin or "").strip().upper()
    row = RecallVehicle.objects.filter(recall=recall, vehicle__vin=vin).first()
    if row is None:
        message = _("This VIN is not on the recall's list.")
        raise ValidationFailed(message, code="not_recalled", fields={"vin": [message]})
    order = None
    number = (order_number or "").strip()
    if number:
        order = (
            RepairOrder.objects.restrict(actor, "view")
            .select_related("dealer")
            .filter(number=number)
            .first()
        )
        if order is None:
            message = _("No repair order with this number at your dealers.")
            raise ValidationFailed(message, code="unknown_order", fields={"order": [message]})
    return recall_vehicle_done(actor=actor, recall_vehicle=row, done_on=done_on, order=order)
