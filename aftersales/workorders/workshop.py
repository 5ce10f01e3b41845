"""Dispatch and work (SPEC §4 step 5, issue 5 item 7): the foreman assigns technicians and a
bay to each approved labour line (a job); technicians clock on and off their jobs (one open
clock per technician, a database constraint); the order is paused, waits for parts and
resumes; the parts clerk issues the order's parts from stock (consuming the reservation)
and takes back what was not used.

Every service locks the order first (``transitions.locked``), so two people acting on the
same order are serialised, and gives the order a new version afterwards (``bump``).
Status changes go through ``repair_order_transition``.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.audit import audit_event
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.workorders.choices import (
    PARTS_OPEN,
    WORKABLE,
    Approval,
    ClockReason,
    EventKind,
    JobStatus,
    LineKind,
    ROStatus,
)
from aftersales.workorders.events import actor_label, record_event
from aftersales.workorders.models import (
    ClockEntry,
    JobAssignment,
    RepairOrder,
    RepairOrderLine,
    WorkshopBay,
)
from aftersales.workorders.transitions import (
    Refusal,
    add_check,
    bump,
    locked,
    repair_order_transition,
    require,
    require_open,
    transition_locked,
)

S = ROStatus
ZERO = Decimal("0")
DISPATCH = "workorders.dispatch_repairorder"
WORK = "workorders.work_repairorder"
ISSUE = "parts.issue_stockitem"
WORKSHOP_ROLES = ("technician", "foreman")
# The car is with the workshop: jobs may be (re)assigned.
DISPATCHABLE = PARTS_OPEN
# Work stopped on the whole order; technicians resume it before clocking on again.
STOPPED_ORDER = {S.PAUSED, S.WAITING_PARTS}


class NotApproved(Conflict):
    code = "not_approved"


class ClockedElsewhere(Conflict):
    code = "clocked_on"


# ---------------------------------------------------------------- helpers


def _line_of(order: RepairOrder, line) -> RepairOrderLine:
    """The line re-read under the order's lock (the order's lock guards its lines)."""
    pk = getattr(line, "pk", line)
    try:
        return order.lines.select_related("part", "reservation").get(pk=pk)
    except RepairOrderLine.DoesNotExist:
        raise ValidationFailed(_("This line is not on the repair order.")) from None


def _order_of(line) -> int:
    if isinstance(line, RepairOrderLine):
        return line.repair_order_id
    return RepairOrderLine.objects.values_list("repair_order_id", flat=True).get(pk=line)


def _approved_job(line: RepairOrderLine, order: RepairOrder) -> None:
    if line.kind != LineKind.LABOUR:
        raise ValidationFailed(_("Only labour lines are workshop jobs."))
    _approved(line, order)


def _approved(line: RepairOrderLine, order: RepairOrder) -> None:
    if line.approval == Approval.DECLINED:
        raise NotApproved(
            _("The customer declined “%(job)s”: it cannot be worked on.")
            % {"job": line.description}
        )
    if line.approval != Approval.APPROVED:
        raise NotApproved(
            _("“%(job)s” still waits for the customer's approval: it cannot be worked on yet.")
            % {"job": line.description}
        )


def _name(user) -> str:
    return actor_label(user)


def _hours(started, ended) -> Decimal:
    return (Decimal((ended - started).total_seconds()) / 3600).quantize(Decimal("0.01"))


def _close_entry(entry: ClockEntry, *, reason: str, now) -> Decimal:
    """End an open clock entry and add its hours to the job; returns the hours."""
    ended = max(now, entry.started_at)
    entry.ended_at = ended
    entry.reason = reason
    entry.save(update_fields=["ended_at", "reason"])
    hours = _hours(entry.started_at, ended)
    RepairOrderLine.objects.filter(pk=entry.line_id).update(actual_hours=F("actual_hours") + hours)
    return hours


def _clock_message(entry: ClockEntry) -> str:
    return _("You are clocked on %(number)s “%(job)s”; clock off first.") % {
        "number": entry.repair_order.number,
        "job": entry.line.description,
    }


def _open_entry_of(technician) -> ClockEntry | None:
    return (
        ClockEntry.objects.select_related("repair_order", "line")
        .filter(technician=technician, ended_at__isnull=True)
        .first()
    )


def _workshop_staff(dealer_id: int, user_ids) -> set[int]:
    from aftersales.org.models import RoleAssignment

    return set(
        RoleAssignment.objects.filter(
            dealer_id=dealer_id,
            role__in=WORKSHOP_ROLES,
            active=True,
            user_id__in=user_ids,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


# ---------------------------------------------------------------- dispatch


@transaction.atomic
def job_assign(*, actor, line, technicians, bay=None, version) -> RepairOrderLine:
    """Set the technicians (one or more) and the bay of a job, replacing the earlier
    assignment. A technician clocked on the job stays on it."""
    order = locked(_order_of(line), version=version)
    require(actor, order, DISPATCH)
    require_open(order)
    return _assign(actor, order, _line_of(order, line), technicians, bay)


def _assign(actor, order, line, technicians, bay, *, staff_of=None, bay_of=None):
    """``job_assign`` on the order its caller locked and a line of it read under that
    lock. ``staff_of``/``bay_of`` answer the staff and bay checks (a batch asks the
    database once for all its jobs); by default each is one query."""
    _approved_job(line, order)
    if order.status not in DISPATCHABLE:
        raise Conflict(
            _("Repair order %(number)s is %(status)s: its jobs cannot be dispatched.")
            % {"number": order.number, "status": order.get_status_display()},
            code="not_dispatchable",
        )
    wanted = {getattr(t, "pk", t) for t in technicians or ()}
    wanted = {int(pk) for pk in wanted if pk not in (None, "")}
    if not wanted:
        raise ValidationFailed(
            _("Choose at least one technician."),
            fields={"technicians": [_("Choose at least one technician.")]},
        )
    staff = staff_of(wanted) if staff_of else _workshop_staff(order.dealer_id, wanted)
    if wanted - staff:
        raise ValidationFailed(
            _("Only technicians and foremen of this dealer can be assigned to a job."),
            fields={"technicians": [_("Not a technician of this dealer.")]},
        )
    bay_obj = None
    if bay not in (None, ""):
        bay_obj = (bay_of or _active_bay)(order, getattr(bay, "pk", bay))
        if bay_obj is None:
            raise ValidationFailed(
                _("Choose an active bay of this dealer."),
                fields={"bay": [_("Not an active bay of this dealer.")]},
            )
    current = set(line.assignments.values_list("technician_id", flat=True))
    removed = current - wanted
    if removed:
        still_on = list(
            ClockEntry.objects.filter(
                line=line, technician_id__in=removed, ended_at__isnull=True
            ).select_related("technician")
        )
        if still_on:
            raise Conflict(
                _("%(names)s is clocked on this job: clock off before taking them off it.")
                % {"names": ", ".join(_name(e.technician) for e in still_on)},
                code="clocked_on",
                fields={"technicians": [_("Clocked on this job.")]},
            )
        JobAssignment.objects.filter(line=line, technician_id__in=removed).delete()
    JobAssignment.objects.bulk_create(
        [
            JobAssignment(line=line, technician_id=pk, assigned_by=actor)
            for pk in sorted(wanted - current)
        ]
    )
    line.bay = bay_obj
    if line.job_status in ("", JobStatus.PENDING, JobStatus.ASSIGNED):
        line.job_status = JobStatus.ASSIGNED
    line.save(update_fields=["bay", "job_status"])
    bump(order)
    record_event(
        order,
        kind=EventKind.DISPATCH,
        actor=actor,
        message=_("Assigned “%(job)s”") % {"job": line.description},
        data={
            "line": line.pk,
            "technicians": sorted(wanted),
            "removed": sorted(removed),
            "bay": bay_obj.code if bay_obj else None,
        },
    )
    return line


def _active_bay(order, pk) -> WorkshopBay | None:
    return WorkshopBay.objects.filter(pk=pk, dealer_id=order.dealer_id, active=True).first()


@transaction.atomic
def repair_order_dispatch(*, actor, repair_order, version, jobs: list[dict]) -> RepairOrder:
    """Dispatch several jobs of one order at once (``[{"line", "technicians", "bay"}]``):
    all or none, the order's version checked once."""
    order = locked(repair_order, version=version)
    require(actor, order, DISPATCH)
    if not jobs:
        message = _("Choose at least one job.")
        raise ValidationFailed(message, fields={"jobs": [message]})
    lines = {line.pk: line for line in order.lines.filter(kind=LineKind.LABOUR)}
    # the staff and bay checks of every job in one query each (the same people and bays
    # usually come back job after job); the order stays locked for the whole batch
    everyone = set()
    for job in jobs:
        for technician in job.get("technicians") or ():
            pk = _int_or_none(getattr(technician, "pk", technician))
            if pk is not None:
                everyone.add(pk)
    staff = _workshop_staff(order.dealer_id, everyone) if everyone else set()
    bays: dict = {}

    def bay_of(order, pk):
        if pk not in bays:
            bays[pk] = _active_bay(order, pk)
        return bays[pk]

    for n, job in enumerate(jobs):
        line = lines.get(_int_or_none(job.get("line")))
        if line is None:
            message = _("Not a job of this order.")
            raise ValidationFailed(message, fields={f"jobs.{n}.line": [message]})
        require_open(order)
        try:
            _assign(
                actor,
                order,
                line,
                job.get("technicians") or (),
                job.get("bay"),
                staff_of=lambda wanted: wanted & staff,
                bay_of=bay_of,
            )
        except ValidationFailed as error:
            error.fields = {f"jobs.{n}.{k}": v for k, v in error.fields.items()}
            raise
    return order


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- clocking


@transaction.atomic
def clock_on(*, actor, line, now=None) -> ClockEntry:
    """The actor starts working on a job assigned to him. The first clock-on starts the
    order (approved → in progress); after a QC failure it starts the rework."""
    order = locked(_order_of(line))
    require(actor, order, WORK)
    require_open(order)
    line = _line_of(order, line)
    _approved_job(line, order)
    if order.status in STOPPED_ORDER:
        raise Conflict(
            _("Repair order %(number)s is %(status)s: resume it before clocking on.")
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="order_stopped",
        )
    if order.status not in WORKABLE:
        raise Conflict(
            _("Repair order %(number)s is %(status)s: nobody can clock on it.")
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="not_workable",
        )
    if not line.assignments.filter(technician=actor).exists():
        raise Conflict(
            _("You are not assigned to “%(job)s”; ask the foreman.") % {"job": line.description},
            code="not_assigned",
        )
    if line.job_status == JobStatus.DONE and order.status not in (S.QC_FAILED, S.REWORK):
        raise Conflict(
            _("“%(job)s” is finished already.") % {"job": line.description}, code="job_done"
        )
    running = _open_entry_of(actor)
    if running is not None:
        if running.line_id == line.pk:
            raise ClockedElsewhere(_("You are already clocked on this job."))
        raise ClockedElsewhere(_clock_message(running))
    if order.status == S.APPROVED:
        order = transition_locked(order=order, to=S.IN_PROGRESS, actor=actor)
    elif order.status == S.QC_FAILED:
        order = transition_locked(order=order, to=S.REWORK, actor=actor)
    now = now or timezone.now()
    try:
        # the constraint ``workorders_one_open_clock`` settles a race the check above lost
        with transaction.atomic():
            entry = ClockEntry.objects.create(
                dealer_id=order.dealer_id,
                repair_order=order,
                line=line,
                technician=actor,
                started_at=now,
            )
    except IntegrityError:
        running = _open_entry_of(actor)
        message = _clock_message(running) if running else _("You are clocked on another job.")
        raise ClockedElsewhere(message) from None
    line.job_status = JobStatus.RUNNING
    line.save(update_fields=["job_status"])
    bump(order)
    record_event(
        order,
        kind=EventKind.CLOCK,
        actor=actor,
        message=_("Clocked on “%(job)s”") % {"job": line.description},
        data={"line": line.pk, "technician": actor.pk, "entry": entry.pk, "on": True},
    )
    return entry


def _after_clock_off(line: RepairOrderLine, reason: str) -> None:
    others = ClockEntry.objects.filter(line=line, ended_at__isnull=True).exists()
    if others:
        line.job_status = JobStatus.RUNNING
    elif reason == ClockReason.FINISHED:
        line.job_status = JobStatus.DONE
    else:
        line.job_status = JobStatus.STOPPED
    line.save(update_fields=["job_status"])


@transaction.atomic
def clock_off(*, actor, line, reason, now=None, technician=None) -> ClockEntry:
    """End the technician's open clock on a job (the actor's own, or, for a foreman, one a
    technician forgot: ``technician=``). Finished by the last one on it: the job is done."""
    if reason not in ClockReason.values:
        raise ValidationFailed(
            _("Choose why you clock off."), fields={"reason": [_("Not a valid reason.")]}
        )
    order = locked(_order_of(line))
    technician = technician if technician is not None else actor
    on_behalf = getattr(technician, "pk", technician) != actor.pk
    require(actor, order, DISPATCH) if on_behalf else require(actor, order, WORK, DISPATCH)
    line = _line_of(order, line)
    entry = (
        ClockEntry.objects.select_for_update()
        .select_related("technician")
        .filter(line=line, technician=technician, ended_at__isnull=True)
        .first()
    )
    if entry is None:
        raise Conflict(
            _("You are not clocked on “%(job)s”.") % {"job": line.description}
            if not on_behalf
            else _("This technician is not clocked on “%(job)s”.") % {"job": line.description},
            code="not_clocked_on",
        )
    hours = _close_entry(entry, reason=reason, now=now or timezone.now())
    line.refresh_from_db(fields=["actual_hours"])
    _after_clock_off(line, reason)
    bump(order)
    data = {
        "line": line.pk,
        "technician": entry.technician_id,
        "entry": entry.pk,
        "on": False,
        "reason": reason,
        "hours": str(hours),
    }
    if on_behalf:
        message = _("Clocked %(name)s off “%(job)s” (%(reason)s)") % {
            "name": _name(entry.technician),
            "job": line.description,
            "reason": ClockReason(reason).label,
        }
        data["on_behalf"] = True
        audit_event(
            entry,
            actor=actor,
            action=AuditAction.UPDATE,
            changes={"ended_at": [None, entry.ended_at.isoformat()], "reason": ["", reason]},
        )
    else:
        message = _("Clocked off “%(job)s” (%(reason)s)") % {
            "job": line.description,
            "reason": ClockReason(reason).label,
        }
    record_event(order, kind=EventKind.CLOCK, actor=actor, message=message, data=data)
    return entry


# ---------------------------------------------------------------- pause and resume


def _stop_order(*, actor, repair_order, version, to, clock_reason, reason) -> RepairOrder:
    order = locked(repair_order, version=version)
    require(actor, order, WORK, DISPATCH)
    now = timezone.now()
    open_entries = list(
        ClockEntry.objects.select_for_update().filter(repair_order=order, ended_at__isnull=True)
    )
    for entry in open_entries:
        _close_entry(entry, reason=clock_reason, now=now)
    for line in order.lines.filter(pk__in={e.line_id for e in open_entries}):
        _after_clock_off(line, clock_reason)
    return transition_locked(
        order=order,
        to=to,
        actor=actor,
        note=reason,
        data={"closed_clocks": [e.pk for e in open_entries]} if open_entries else None,
    )


@transaction.atomic
def repair_order_pause(*, actor, repair_order, version, reason="") -> RepairOrder:
    """Stop work on the order (clocks on it are closed as a break)."""
    return _stop_order(
        actor=actor,
        repair_order=repair_order,
        version=version,
        to=S.PAUSED,
        clock_reason=ClockReason.BREAK,
        reason=reason,
    )


@transaction.atomic
def repair_order_wait_for_parts(*, actor, repair_order, version, reason="") -> RepairOrder:
    """Stop work until a part arrives (clocks on the order are closed: waiting for parts)."""
    return _stop_order(
        actor=actor,
        repair_order=repair_order,
        version=version,
        to=S.WAITING_PARTS,
        clock_reason=ClockReason.PARTS,
        reason=reason,
    )


@transaction.atomic
def repair_order_resume(*, actor, repair_order, version, reason="") -> RepairOrder:
    """Work may go on: technicians clock on again."""
    return repair_order_transition(
        repair_order=repair_order, to=S.IN_PROGRESS, actor=actor, version=version, note=reason
    )


# ---------------------------------------------------------------- parts


def _parts_order(line, actor, *, returning: bool) -> tuple[RepairOrder, RepairOrderLine]:
    order = locked(_order_of(line))
    require(actor, order, ISSUE)
    if order.status not in PARTS_OPEN:
        early = order.status in (S.DRAFT, S.CHECKED_IN, S.DIAGNOSING, S.ESTIMATED)
        early = early or order.status == S.AWAITING_APPROVAL
        if early and returning:
            message = _("Repair order %(number)s is not approved yet: nothing can be returned.")
        elif early:
            message = _(
                "Repair order %(number)s is not approved yet: parts cannot be issued to it."
            )
        elif returning:
            message = _("Repair order %(number)s is closed: parts cannot be returned from it.")
        else:
            message = _("Repair order %(number)s is closed: parts cannot be issued to it.")
        raise Conflict(message % {"number": order.number}, code="order_closed")
    line = _line_of(order, line)
    if line.kind != LineKind.PART or line.part_id is None:
        raise ValidationFailed(_("Only part lines are issued from stock."))
    if order.warehouse_id is None:
        raise Conflict(
            _("Repair order %(number)s has no parts warehouse.") % {"number": order.number},
            code="no_warehouse",
        )
    return order, line


def _doc(order):
    from aftersales.parts.stock import Doc

    return Doc(type="repair_order", id=order.id, number=order.number)


def _key(idempotency_key) -> str:
    key = str(idempotency_key or "").strip()
    return key[:80] if key else uuid.uuid4().hex


@transaction.atomic
def parts_issue(*, actor, line, quantity=None, idempotency_key) -> RepairOrderLine:
    """Issue a part line from the order's warehouse to the car (by default what is not yet
    issued), consuming the line's reservation. A retry with the same key books once."""
    from aftersales.parts import stock
    from aftersales.parts.choices import ReservationStatus

    order, line = _parts_order(line, actor, returning=False)
    _approved(line, order)
    posting_key = f"{line.key}:issue:{_key(idempotency_key)}"
    if stock.existing(posting_key):
        return line
    outstanding = line.quantity - line.issued_qty + line.returned_qty
    if quantity in (None, ""):
        amount = outstanding
        if amount <= 0:
            raise Conflict(
                _("%(part)s is issued in full already.") % {"part": line.description},
                code="nothing_to_issue",
            )
    else:
        amount = stock.positive(quantity)
        if amount > outstanding:
            raise ValidationFailed(
                _("At most %(n)s more of %(part)s may be issued to this line.")
                % {"n": stock.show(max(outstanding, ZERO)), "part": line.description},
                fields={
                    "quantity": [_("At most %(n)s.") % {"n": stock.show(max(outstanding, ZERO))}]
                },
            )
    reservation = line.reservation
    if reservation is not None and (
        reservation.status != ReservationStatus.ACTIVE
        or reservation.item.warehouse_id != order.warehouse_id
    ):
        reservation = None
    held = (reservation.quantity - reservation.issued) if reservation is not None else ZERO
    from_reservation = min(amount, held)
    rest = amount - from_reservation
    if from_reservation > 0:
        stock.issue(
            actor=actor,
            warehouse=order.warehouse,
            part=line.part,
            quantity=from_reservation,
            posting_key=posting_key,
            doc=_doc(order),
            reservation=reservation,
        )
    if rest > 0:
        stock.issue(
            actor=actor,
            warehouse=order.warehouse,
            part=line.part,
            quantity=rest,
            posting_key=posting_key if from_reservation == 0 else f"{posting_key}:free",
            doc=_doc(order),
        )
    line.issued_qty += amount
    line.save(update_fields=["issued_qty"])
    bump(order)
    record_event(
        order,
        kind=EventKind.PARTS,
        actor=actor,
        message=_("Issued %(n)s × %(part)s") % {"n": stock.show(amount), "part": line.description},
        data={"line": line.pk, "issued": str(amount), "posting_key": posting_key},
    )
    return line


@transaction.atomic
def parts_return(*, actor, line, quantity, idempotency_key) -> RepairOrderLine:
    """Units issued to the order come back to stock unused (at the cost they left with)."""
    from aftersales.parts import stock
    from aftersales.parts.choices import MoveKind
    from aftersales.parts.models import StockMove

    order, line = _parts_order(line, actor, returning=True)
    posting_key = f"{line.key}:return:{_key(idempotency_key)}"
    if stock.existing(posting_key):
        return line
    amount = stock.positive(quantity)
    out = line.issued_qty - line.returned_qty
    if amount > out:
        raise ValidationFailed(
            _("Only %(n)s of %(part)s are issued to this order: no more can come back.")
            % {"n": stock.show(max(out, ZERO)), "part": line.description},
            fields={"quantity": [_("At most %(n)s.") % {"n": stock.show(max(out, ZERO))}]},
        )
    issued = StockMove.objects.filter(
        posting_key__startswith=f"{line.key}:issue:", kind=MoveKind.ISSUE
    ).values_list("quantity", "unit_cost")
    units = sum((-q for q, _c in issued), ZERO)
    cost = sum((-q * (c or ZERO) for q, c in issued), ZERO)
    unit_cost = (cost / units).quantize(Decimal("0.0001")) if units else None
    stock.return_to_stock(
        actor=actor,
        warehouse=order.warehouse,
        part=line.part,
        quantity=amount,
        posting_key=posting_key,
        doc=_doc(order),
        unit_cost=unit_cost,
    )
    line.returned_qty += amount
    line.save(update_fields=["returned_qty"])
    bump(order)
    record_event(
        order,
        kind=EventKind.PARTS,
        actor=actor,
        message=_("Returned %(n)s × %(part)s to stock")
        % {"n": stock.show(amount), "part": line.description},
        data={"line": line.pk, "returned": str(amount), "posting_key": posting_key},
    )
    return line


# ---------------------------------------------------------------- self-check guard


def _jobs_finished(order, actor) -> list[Refusal]:
    found = []
    open_jobs = list(
        order.lines.filter(kind=LineKind.LABOUR, approval=Approval.APPROVED)
        .exclude(job_status=JobStatus.DONE)
        .values_list("description", flat=True)
    )
    if open_jobs:
        found.append(
            Refusal(
                "jobs_open",
                _("These jobs are not finished: %(jobs)s.") % {"jobs": ", ".join(open_jobs)},
                "lines",
            )
        )
    clocked = list(
        ClockEntry.objects.filter(repair_order=order, ended_at__isnull=True).select_related(
            "technician", "line"
        )
    )
    if clocked:
        found.append(
            Refusal(
                "clocked_on",
                _("Still clocked on this order: %(names)s.")
                % {
                    "names": ", ".join(
                        f"{_name(e.technician)} ({e.line.description})" for e in clocked
                    )
                },
                "lines",
            )
        )
    return found


add_check(S.SELF_CHECKED, _jobs_finished)


# ---------------------------------------------------------------- actual vs standard


@dataclass
class JobHours:
    line: RepairOrderLine
    standard: Decimal
    actual: Decimal
    running: bool = False
    technicians: list = field(default_factory=list)  # [(user, hours)]

    @property
    def variance(self) -> Decimal:
        return self.actual - self.standard


@dataclass
class HoursSummary:
    jobs: list[JobHours]
    standard: Decimal
    actual: Decimal
    technicians: list  # [(user, hours)]

    @property
    def variance(self) -> Decimal:
        return self.actual - self.standard


def job_hours(order: RepairOrder) -> HoursSummary:
    """Standard against actual hours of every approved job of the order, per job and per
    technician (closed clock entries; a running clock counts once it is closed). Three
    queries whatever the number of jobs."""
    from aftersales.org.models import User

    lines = list(
        order.lines.filter(kind=LineKind.LABOUR, approval=Approval.APPROVED).order_by(
            "position", "id"
        )
    )
    per_line = defaultdict(lambda: defaultdict(lambda: ZERO))
    running = set()
    totals = defaultdict(lambda: ZERO)
    for entry in ClockEntry.objects.filter(repair_order=order).only(
        "line_id", "technician_id", "started_at", "ended_at"
    ):
        if entry.ended_at is None:
            running.add(entry.line_id)
            per_line[entry.line_id][entry.technician_id] += ZERO
            continue
        hours = _hours(entry.started_at, entry.ended_at)
        per_line[entry.line_id][entry.technician_id] += hours
        totals[entry.technician_id] += hours
    users = {u.pk: u for u in User.objects.filter(pk__in={t for d in per_line.values() for t in d})}
    jobs = [
        JobHours(
            line=line,
            standard=line.standard_hours or line.quantity,
            actual=line.actual_hours,
            running=line.pk in running,
            technicians=[(users[t], h) for t, h in per_line[line.pk].items() if t in users],
        )
        for line in lines
    ]
    return HoursSummary(
        jobs=jobs,
        standard=sum((j.standard for j in jobs), ZERO),
        actual=sum((j.actual for j in jobs), ZERO),
        technicians=[(users[t], h) for t, h in totals.items() if t in users],
    )


def open_clock(technician) -> ClockEntry | None:
    """The technician's running clock, if any."""
    return _open_entry_of(technician)
