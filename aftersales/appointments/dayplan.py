"""The foreman's day plan (SPEC §3): every job of the open repair orders and of the
bookings still to arrive, on a technician and a bay, from the optimiser.

``day_plan_build`` reads the day's jobs and capacity, keeps the pinned and the started
jobs where they are, asks the optimiser (CP-SAT, hinted with first come first served) for
the rest and writes the plan; a repair order whose planned finish is later than its
promised time gets the new promised time and a timeline entry, which its advisor sees.
``planned_job_move`` lets the foreman put a job elsewhere (it is then pinned); a job may
run over a technician's short break (``capacity.BREAK_MINUTES``), ending that much later;
``replan_on_delays`` re-plans a day when a clocked-on job runs over its planned end.
"""

from __future__ import annotations

import datetime
import math

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.appointments import optimiser
from aftersales.appointments.capacity import day_capacity, job_needs
from aftersales.appointments.choices import HOLDING, PlanStatus
from aftersales.appointments.models import Booking, DayPlan, PlannedJob
from aftersales.core.access import require_at
from aftersales.core.errors import Conflict, ValidationFailed

# Repair orders whose labour still needs the workshop.
OPEN_FOR_WORK = {
    "checked_in",
    "diagnosing",
    "estimated",
    "awaiting_approval",
    "approved",
    "in_progress",
    "waiting_parts",
    "paused",
    "qc_failed",
    "rework",
}

REASONS = {
    optimiser.NO_BAY: gettext_lazy("the dealer has no bay of the kind this job needs"),
    optimiser.NO_TECHNICIAN: gettext_lazy("no technician on shift has the skill for this job"),
    optimiser.NO_WINDOW: gettext_lazy("no skilled technician's shift is long enough for this job"),
    optimiser.NO_TIME: gettext_lazy(
        "it cannot be finished by closing time (the car arrives too late or waits for other work)"
    ),
    optimiser.CYCLE: gettext_lazy("its jobs wait for each other in a circle"),
    optimiser.WAITS_FOR_UNPLACED: gettext_lazy("it waits for a job that cannot be placed"),
    optimiser.NO_ROOM: gettext_lazy("no room left in the day"),
}


class PlanRefused(Conflict):
    code = "plan_refused"


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def _minutes(moment, opens) -> int:
    return int(math.floor((moment - opens).total_seconds() / 60))


def _at(opens, minutes) -> datetime.datetime:
    return opens + datetime.timedelta(minutes=minutes)


def technician_of(person, opens) -> optimiser.Technician:
    """A capacity ``Person`` as the optimiser's technician (minutes from ``opens``), with
    the breaks a job may run across."""
    windows = tuple((_minutes(s, opens), _minutes(e, opens)) for s, e in person.windows)
    breaks = tuple((_minutes(s, opens), _minutes(e, opens)) for s, e in person.breaks)
    return optimiser.Technician(
        person.user_id, windows, person.bay_kinds, person.categories, breaks=breaks
    )


def _ops_by_line(lines):
    return {line.pk: line.operation for line in lines if line.operation_id}


def collect(dealer, day, capacity, *, now=None):
    """The day's problem: (Problem, {key: source}) where source is the line or booking."""
    from aftersales.workorders.choices import Approval, JobStatus, LineKind
    from aftersales.workorders.models import ClockEntry, RepairOrderLine

    now = now or timezone.now()
    opens = capacity.opens
    horizon = _minutes(capacity.closes, opens)
    start_min = max(0, _minutes(now, opens)) if timezone.localdate(now) == day else 0
    existing = {}
    plan = DayPlan.objects.filter(dealer=dealer, day=day).first()
    if plan is not None:
        for job in PlannedJob.objects.filter(plan=plan, pinned=True):
            existing[job.key] = job
    lines = list(
        RepairOrderLine.objects.filter(
            repair_order__dealer=dealer,
            repair_order__status__in=OPEN_FOR_WORK,
            kind=LineKind.LABOUR,
            approval=Approval.APPROVED,
        )
        .exclude(job_status=JobStatus.DONE)
        .select_related("repair_order", "operation")
        .order_by("repair_order__checked_in_at", "repair_order_id", "position", "id")
    )
    running = {
        entry.line_id: entry
        for entry in ClockEntry.objects.filter(line__in=lines, ended_at__isnull=True)
    }
    technicians = [technician_of(p, opens) for p in capacity.technicians]
    breaks_of = {t.id: t.breaks for t in technicians}
    jobs, sources = [], {}
    chassis_of_order: dict[int, list[str]] = {}
    for line in lines:
        order = line.repair_order
        key = f"line:{line.pk}"
        op = line.operation
        bay_kind, categories = job_needs([op] if op else [], order.kind)
        hours = float(line.standard_hours or line.quantity or 1)
        remaining = max(15, int(round((hours - float(line.actual_hours or 0)) * 60)))
        release = start_min
        if order.checked_in_at is not None:
            release = max(release, _minutes(order.checked_in_at, opens))
        due = _minutes(order.promised_at, opens) if order.promised_at else None
        fixed = None
        entry = running.get(line.pk)
        if entry is not None and line.bay_id:
            begun = max(0, _minutes(entry.started_at, opens))
            fixed = (entry.technician_id, line.bay_id, begun)
            # worked since (not counting a break it ran over), and a little more
            worked = optimiser.work_minutes(
                breaks_of.get(entry.technician_id, ()), begun, start_min
            )
            remaining = max(remaining, worked + 15)
        elif key in existing:
            pinned = existing[key]
            fixed = (pinned.technician_id, pinned.bay_id, _minutes(pinned.starts_at, opens))
        after = ()
        if bay_kind == "alignment":
            after = tuple(chassis_of_order.get(order.pk, ()))
        elif op is not None and op.category == "chassis":
            chassis_of_order.setdefault(order.pk, []).append(key)
        jobs.append(
            optimiser.Job(
                key=key,
                duration=remaining,
                bay_kind=bay_kind,
                categories=frozenset(categories),
                release=max(0, min(release, horizon)),
                due=due,
                group=f"ro:{order.pk}",
                after=after,
                fixed=fixed,
            )
        )
        sources[key] = line
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    bookings = list(
        Booking.objects.filter(
            dealer=dealer,
            status__in=HOLDING,
            starts_at__gte=start,
            starts_at__lt=start + datetime.timedelta(days=1),
        ).prefetch_related("operations__operation")
    )
    for booking in bookings:
        key = f"booking:{booking.pk}"
        ops = [entry.operation for entry in booking.operations.all()]
        _kind, categories = job_needs(ops, booking.service_type)
        release = max(start_min, _minutes(booking.starts_at, opens) + capacity.reception_minutes)
        fixed = None
        if key in existing:
            pinned = existing[key]
            fixed = (pinned.technician_id, pinned.bay_id, _minutes(pinned.starts_at, opens))
        jobs.append(
            optimiser.Job(
                key=key,
                duration=max(15, int(round(float(booking.hours) * 60))),
                bay_kind=booking.bay_kind,
                categories=frozenset(categories),
                release=max(0, min(release, horizon)),
                # the slot's end plus the reception: the work starts after the advisor
                due=_minutes(booking.ends_at, opens) + capacity.reception_minutes,
                group=f"vehicle:{booking.vehicle_id}",
                fixed=fixed,
            )
        )
        sources[key] = booking
    bays = [optimiser.Bay(b.id, b.kind) for b in capacity.bays]
    return optimiser.Problem(jobs, technicians, bays, horizon), sources


@transaction.atomic
def day_plan_build(*, actor, dealer, day, time_limit: float = 2.0, now=None) -> DayPlan:
    """Plan ``day`` at ``dealer`` again: pinned and started jobs stay, the rest is
    optimised; promised times that cannot be met move (with a note on the repair order)."""
    if actor is not None:
        require_at(actor, "appointments.change_dayplan", dealer=dealer)
    capacity = day_capacity(dealer, day)
    if not capacity.is_open:
        message = _("The dealer is closed on %(day)s: %(reason)s.") % {
            "day": day.isoformat(),
            "reason": capacity.closed_reason,
        }
        raise ValidationFailed(message, code="closed_day", fields={"day": [message]})
    plan, _created = DayPlan.objects.get_or_create(dealer=dealer, day=day)
    plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
    problem, sources = collect(dealer, day, capacity, now=now)
    if problem.jobs:
        solution = optimiser.solve(problem, time_limit=time_limit, workers=_workers())
    else:
        solution = optimiser.Solution(status="empty")
    opens = capacity.opens
    PlannedJob.objects.filter(plan=plan).delete()
    pinned_keys = {j.key for j in problem.jobs if j.fixed is not None}
    rows = []
    jobs = {j.key: j for j in problem.jobs}
    for key, (tech, bay, start, end) in solution.assignments.items():
        source = sources[key]
        job = jobs[key]
        rows.append(
            PlannedJob(
                plan=plan,
                line=source if key.startswith("line:") else None,
                booking=source if key.startswith("booking:") else None,
                technician_id=tech,
                bay_id=bay,
                starts_at=_at(opens, start),
                ends_at=_at(opens, end),
                due_at=_at(opens, job.due) if job.due is not None else None,
                late_minutes=max(0, end - job.due) if job.due is not None else 0,
                pinned=key in pinned_keys,
            )
        )
    PlannedJob.objects.bulk_create(rows)
    plan.status = {
        "optimal": PlanStatus.OPTIMAL,
        "feasible": PlanStatus.FEASIBLE,
        "greedy": PlanStatus.GREEDY,
    }.get(solution.status, PlanStatus.EMPTY)
    plan.revision += 1
    plan.objective, plan.bound = solution.objective, solution.bound
    plan.solve_seconds = round(solution.seconds, 3)
    plan.late_minutes, plan.idle_minutes = solution.late_minutes, solution.idle_minutes
    plan.unplaced = [
        {
            "job": key,
            "label": _label(sources.get(key)),
            "code": code,
            "reason": reason_text(code),
        }
        for key, code in sorted(solution.unplaced.items())
    ]
    plan.planned_by, plan.planned_at = actor, timezone.now()
    plan.version += 1
    plan.save()
    _move_promised_times(rows, actor)
    return plan


def _workers() -> int:
    # CP-SAT's full portfolio (LNS among it) finds better plans in 2 s than as many
    # workers as there are cores on small machines (bench/day_plan.py)
    return 8


def _label(source) -> str:
    if source is None:
        return ""
    if isinstance(source, Booking):
        return source.number
    return f"{source.repair_order.number} {source.description}"


def _move_promised_times(rows, actor) -> None:
    """Each repair order whose last planned job ends after its promised time gets that
    end as the new promised time, with a note on its timeline."""
    from aftersales.workorders.choices import EventKind
    from aftersales.workorders.events import record_event
    from aftersales.workorders.models import RepairOrder
    from aftersales.workorders.transitions import bump

    finish: dict[int, datetime.datetime] = {}
    for row in rows:
        if row.line is not None:
            order_id = row.line.repair_order_id
            finish[order_id] = max(finish.get(order_id, row.ends_at), row.ends_at)
    for order in RepairOrder.objects.select_for_update(of=("self",)).filter(
        pk__in=list(finish), promised_at__isnull=False
    ):
        planned = finish[order.pk]
        if planned <= order.promised_at:
            continue
        old = order.promised_at
        order.promised_at = planned
        bump(order, "promised_at")
        record_event(
            order,
            kind=EventKind.NOTE,
            actor=actor,
            message=_("Day plan: promised time moved from %(old)s to %(new)s")
            % {
                "old": timezone.localtime(old).strftime("%m-%d %H:%M"),
                "new": timezone.localtime(planned).strftime("%m-%d %H:%M"),
            },
            data={"promised_from": old.isoformat(), "promised_to": planned.isoformat()},
        )


@transaction.atomic
def planned_job_pin(*, actor, job, pinned: bool = True) -> PlannedJob:
    job = PlannedJob.objects.select_related("plan").select_for_update(of=("self",)).get(pk=job.pk)
    require_at(actor, "appointments.change_dayplan", dealer=job.plan.dealer)
    job.pinned = bool(pinned)
    job.save(update_fields=["pinned"])
    return job


@transaction.atomic
def planned_job_move(*, actor, job, technician, bay, starts_at) -> PlannedJob:
    """Put a job on ``technician`` and ``bay`` from ``starts_at`` and pin it there. Refused
    (nothing changes) when the technician lacks the skill or is not on shift then, the bay
    does not fit, or either is taken by another job of the plan."""
    job = (
        PlannedJob.objects.select_related("plan", "line__operation", "booking")
        .select_for_update(of=("self",))
        .get(pk=job.pk)
    )
    plan = job.plan
    require_at(actor, "appointments.change_dayplan", dealer=plan.dealer)
    capacity = day_capacity(plan.dealer_id, plan.day)
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    people = {p.user_id: p for p in capacity.technicians}
    person = people.get(getattr(technician, "pk", technician))
    bay_kind_of = {b.id: b.kind for b in capacity.bays}
    bay_id = getattr(bay, "pk", bay)
    if job.line_id:
        op = job.line.operation
        needed, categories = job_needs([op] if op else [], job.line.repair_order.kind)
    else:
        ops = [e.operation for e in job.booking.operations.select_related("operation")]
        needed, categories = job.booking.bay_kind, job_needs(ops, job.booking.service_type)[1]

    def refuse(code, message, field):
        raise PlanRefused(message, code=code, fields={field: [message]})

    if person is None:
        refuse("not_on_shift", _("This technician does not work on this day."), "technician")
    if not person.can_do(needed, categories):
        refuse("no_skill", _("This technician does not have the skill for this job."), "technician")
    # the job's work (its planned time less a break it ran over), from the new start on
    # the new technician's day: it may run over their break, not past their shift
    opens = capacity.opens
    horizon = _minutes(capacity.closes, opens)
    before = people.get(job.technician_id)
    work = optimiser.work_minutes(
        technician_of(before, opens).breaks if before is not None else (),
        _minutes(job.starts_at, opens),
        _minutes(job.ends_at, opens),
    )
    tech = technician_of(person, opens)
    start = _minutes(starts_at, opens)
    ends_at = starts_at + datetime.timedelta(minutes=tech.finish(start, work) - start)
    if not any(a <= start <= b for a, b, _pause in tech.segments(work, horizon)):
        refuse("not_on_shift", _("The technician is not on shift for the whole job."), "starts_at")
    if bay_id not in bay_kind_of or not optimiser.bay_fits(needed, bay_kind_of[bay_id]):
        refuse("bay_kind", _("This bay is not of the kind the job needs."), "bay")
    clash = (
        PlannedJob.objects.filter(plan=plan, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=job.pk)
        .filter(Q(technician_id=person.user_id) | Q(bay_id=bay_id))
        .first()
    )
    if clash is not None:
        refuse(
            "clash",
            _("The technician or the bay is taken by another job from %(start)s to %(end)s.")
            % {
                "start": timezone.localtime(clash.starts_at).strftime("%H:%M"),
                "end": timezone.localtime(clash.ends_at).strftime("%H:%M"),
            },
            "starts_at",
        )
    job.technician_id, job.bay_id = person.user_id, bay_id
    job.starts_at, job.ends_at, job.pinned = starts_at, ends_at, True
    job.late_minutes = (
        max(0, int((ends_at - job.due_at).total_seconds() // 60)) if job.due_at else 0
    )
    job.save(update_fields=["technician", "bay", "starts_at", "ends_at", "pinned", "late_minutes"])
    return job


def replan_on_delays(*, now=None, time_limit: float = 2.0) -> int:
    """Re-plan today's plan of each dealer where a job clocked on has run past its planned
    end. Returns how many plans were rebuilt."""
    from aftersales.org.models import Dealer

    now = now or timezone.now()
    today = timezone.localdate(now)
    overrun = (
        PlannedJob.objects.filter(
            plan__day=today,
            line__isnull=False,
            ends_at__lt=now,
            line__clock__ended_at__isnull=True,
            line__clock__started_at__isnull=False,
        )
        .values_list("plan__dealer_id", flat=True)
        .distinct()
    )
    rebuilt = 0
    for dealer_id in set(overrun):
        day_plan_build(
            actor=None,
            dealer=Dealer.objects.get(pk=dealer_id),
            day=today,
            time_limit=time_limit,
            now=now,
        )
        rebuilt += 1
    return rebuilt
