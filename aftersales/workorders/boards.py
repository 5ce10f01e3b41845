"""The workshop boards (issue 5 item 13): the service advisor's open orders, the foreman's
jobs per technician and bay, the technician's own jobs. Every read goes through
``RepairOrder.objects.restrict(user, 'view')``; each board costs a fixed number of queries
whatever the number of rows.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, Count, Prefetch, Q, Value, When
from django.utils import timezone

from aftersales.core.access import user_scope
from aftersales.crm.validators import normalise_plate
from aftersales.workorders.choices import OPEN, Approval, JobStatus, LineKind, ROStatus
from aftersales.workorders.models import (
    ClockEntry,
    JobAssignment,
    RepairOrder,
    RepairOrderLine,
    WorkshopBay,
)
from aftersales.workorders.workshop import DISPATCHABLE, WORKSHOP_ROLES

S = ROStatus
# Promised times no longer matter once the car is ready.
NOT_LATE = {S.READY, S.DELIVERED, S.CLOSED, S.CANCELLED}


def orders(user, action: str = "view"):
    return RepairOrder.objects.restrict(user, action)


# ---------------------------------------------------------------- the SA's board


def sa_board(user, *, status: str = "", q: str = "", mine: bool = False, now=None):
    """The advisor's list: open orders (or one status), newest promise first among the
    late ones, searchable by RO number, plate or the VIN's last 6; ``late`` annotated."""
    now = now or timezone.now()
    rows = orders(user).select_related("vehicle", "customer", "service_advisor")
    q = (q or "").strip()
    if status:
        rows = rows.filter(status=status)
    elif not q:
        rows = rows.filter(status__in=OPEN)
    if q:
        term = q.upper()
        condition = Q(number__icontains=term) | Q(vehicle__plate__icontains=_plate(q))
        if len(term) >= 6:
            condition |= Q(vehicle__vin__endswith=term[-6:])
        rows = rows.filter(condition)
    if mine:
        rows = rows.filter(service_advisor=user)
    return rows.annotate(
        late=Case(
            When(Q(promised_at__lt=now) & ~Q(status__in=NOT_LATE), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    ).order_by("-late", "promised_at", "-created_at", "-id")


def _plate(q: str) -> str:
    try:
        return normalise_plate(q)
    except Exception:  # part of a plate: search for it as written, without separators
        return re.sub(r"[\s·.\-]", "", q).upper()


def status_counts(user, *, mine: bool = False) -> dict[str, int]:
    """Open orders per status (the filter chips), one query."""
    rows = orders(user).filter(status__in=OPEN)
    if mine:
        rows = rows.filter(service_advisor=user)
    return dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


# ---------------------------------------------------------------- the foreman's board


@dataclass
class Column:
    technician: object
    jobs: list = field(default_factory=list)
    clock: ClockEntry | None = None


@dataclass
class ForemanBoard:
    dealer_id: int | None
    columns: list[Column]
    queue: list  # approved jobs nobody is assigned to
    bays: list  # [(bay, [jobs])]
    clocked: list[ClockEntry]
    jobs: list  # every job on the board (the object list)


def board_dealer(user, permission: str = "workorders.dispatch_repairorder", dealer_id=None):
    """The dealer whose board the user sees: the one asked for if within reach, else their
    own, else the first they may act at (None: no dealer)."""
    scope = user_scope(user, permission)
    if dealer_id:
        try:
            dealer_id = int(dealer_id)
        except (TypeError, ValueError):
            dealer_id = None
    if dealer_id and (scope.everything or dealer_id in scope.dealer_ids):
        return dealer_id
    if user.dealer_id and (scope.everything or user.dealer_id in scope.dealer_ids):
        return user.dealer_id
    return min(scope.dealer_ids) if scope.dealer_ids else None


def workshop_jobs(user, dealer_id):
    """The approved jobs of the dealer's orders in the workshop, with their order, bay and
    technicians (two queries)."""
    return list(
        RepairOrderLine.objects.filter(
            repair_order__in=orders(user).filter(dealer_id=dealer_id, status__in=DISPATCHABLE),
            kind=LineKind.LABOUR,
            approval=Approval.APPROVED,
        )
        .select_related("repair_order", "repair_order__vehicle", "bay")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=JobAssignment.objects.select_related("technician").order_by("id"),
            )
        )
        .order_by("repair_order__promised_at", "repair_order_id", "position", "id")
    )


def workshop_staff(dealer_id):
    from aftersales.org.models import User

    return list(
        User.objects.filter(
            role_assignments__dealer_id=dealer_id,
            role_assignments__role__in=WORKSHOP_ROLES,
            role_assignments__active=True,
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def foreman_board(user, *, dealer_id=None) -> ForemanBoard:
    """Jobs per technician and per bay, the queue of unassigned jobs and who is clocked on
    now, at the user's dealer. Six queries whatever the number of jobs."""
    dealer_id = board_dealer(user, dealer_id=dealer_id)
    if dealer_id is None:
        return ForemanBoard(None, [], [], [], [], [])
    jobs = workshop_jobs(user, dealer_id)
    clocked = list(
        ClockEntry.objects.filter(
            repair_order__in=orders(user).filter(dealer_id=dealer_id), ended_at__isnull=True
        ).select_related("technician", "line", "repair_order")
    )
    clock_of = {entry.technician_id: entry for entry in clocked}
    running_lines = {entry.line_id for entry in clocked}
    staff = workshop_staff(dealer_id)
    columns = {u.pk: Column(technician=u, clock=clock_of.get(u.pk)) for u in staff}
    queue = []
    per_bay = defaultdict(list)
    for job in jobs:
        job.running = job.pk in running_lines
        people = [a.technician for a in job.assignments.all()]
        job.technicians = people
        if not people and job.job_status != JobStatus.DONE:
            queue.append(job)
        for person in people:
            column = columns.get(person.pk)
            if column is None:  # assigned, no longer holds a workshop role
                column = columns[person.pk] = Column(technician=person)
            column.jobs.append(job)
        if job.bay_id and job.job_status != JobStatus.DONE:
            per_bay[job.bay_id].append(job)
    bays = [
        (bay, per_bay.get(bay.pk, []))
        for bay in WorkshopBay.objects.filter(dealer_id=dealer_id, active=True).order_by("code")
    ]
    return ForemanBoard(
        dealer_id=dealer_id,
        columns=list(columns.values()),
        queue=queue,
        bays=bays,
        clocked=clocked,
        jobs=jobs,
    )


# ---------------------------------------------------------------- the technician's list


@dataclass
class MyJobs:
    jobs: list
    clock: ClockEntry | None


def technician_jobs(user) -> MyJobs:
    """The jobs assigned to the user that are not done, on orders in the workshop (the one
    they are clocked on first, then by promised time), and his running clock. Three
    queries."""
    jobs = list(
        RepairOrderLine.objects.filter(
            repair_order__in=orders(user).filter(status__in=DISPATCHABLE),
            assignments__technician=user,
            kind=LineKind.LABOUR,
            approval=Approval.APPROVED,
        )
        .exclude(job_status=JobStatus.DONE)
        .select_related("repair_order", "repair_order__vehicle", "bay")
        .order_by("repair_order__promised_at", "repair_order_id", "position", "id")
    )
    clock = (
        ClockEntry.objects.filter(
            technician=user,
            ended_at__isnull=True,
            repair_order__in=orders(user),
        )
        .select_related("repair_order", "line")
        .first()
    )
    for job in jobs:
        job.running = clock is not None and clock.line_id == job.pk
    jobs.sort(key=lambda job: not job.running)  # stable: the rest keep their order
    return MyJobs(jobs=jobs, clock=clock)
