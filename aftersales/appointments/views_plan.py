"""The foreman's day-plan board: technicians × the day's hours, each planned job a block;
optimise, pin and move (htmx: the board is redrawn in place)."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.appointments import dayplan, selectors
from aftersales.appointments.capacity import day_capacity
from aftersales.appointments.models import DayPlan, PlannedJob
from aftersales.appointments.views_bookings import _date, _dealer
from aftersales.core.access import allowed_at
from aftersales.core.errors import ServiceError
from aftersales.core.pages import error_text
from aftersales.workorders.views_reception import needs

VIEW, CHANGE = "appointments.view_dayplan", "appointments.change_dayplan"


def _percent(moment, opens, span) -> float:
    return round(max(0.0, min(100.0, (moment - opens).total_seconds() / span * 100)), 3)


def _by(request) -> str:
    """The board's rows: technicians (default) or bays."""
    return "bay" if (request.POST.get("by") or request.GET.get("by")) == "bay" else "technician"


def _off_blocks(windows, opens, closes, span) -> list[dict]:
    """The hatched parts of a row: the day outside a person's working windows."""
    off, cursor = [], opens
    for start, end in windows:
        if start > cursor:
            left = _percent(cursor, opens, span)
            off.append({"left": left, "width": _percent(start, opens, span) - left})
        cursor = max(cursor, end)
    if cursor < closes:
        left = _percent(cursor, opens, span)
        off.append({"left": left, "width": 100 - left})
    return off


def _person_name(user) -> str:
    return str(user)


def board_context(request, dealer, day):
    by = _by(request)
    capacity = day_capacity(dealer, day)
    plan = selectors.day_plan(request.user, dealer, day)
    jobs = sorted(plan.jobs.all(), key=lambda j: (j.starts_at, j.pk)) if plan is not None else []
    rows, hours = [], []
    if capacity.is_open:
        opens, closes = capacity.opens, capacity.closes
        span = (closes - opens).total_seconds()
        hour = opens.replace(minute=0) + datetime.timedelta(hours=1)
        while hour < closes:
            hours.append(
                {
                    "label": timezone.localtime(hour).strftime("%H:%M"),
                    "left": _percent(hour, opens, span),
                }
            )
            hour += datetime.timedelta(hours=1)
        key = "bay_id" if by == "bay" else "technician_id"
        grouped = {}
        for job in jobs:
            grouped.setdefault(getattr(job, key), []).append(job)
        if by == "bay":
            heads = {b.id: (f"{b.code} {b.name}", _bay_kind(b.kind), None) for b in capacity.bays}
            for bay_id, bay_jobs in grouped.items():
                if bay_id not in heads:
                    bay = bay_jobs[0].bay
                    heads[bay_id] = (f"{bay.code} {bay.name}", _bay_kind(bay.kind), None)
        else:
            heads = {p.user_id: (p.name, "", p) for p in capacity.technicians}
            for tech_id, tech_jobs in grouped.items():
                if tech_id not in heads:
                    heads[tech_id] = (_person_name(tech_jobs[0].technician), "", None)
        for row_id, (name, note, person) in heads.items():
            blocks = []
            for job in grouped.get(row_id, []):
                left = _percent(job.starts_at, opens, span)
                blocks.append(
                    {
                        "job": job,
                        "left": left,
                        "width": max(1.5, _percent(job.ends_at, opens, span) - left),
                        "label": _job_label(job),
                        "other": job.bay.code
                        if by == "technician"
                        else _person_name(job.technician),
                    }
                )
            off = _off_blocks(person.windows, opens, closes, span) if person else []
            rows.append({"id": row_id, "name": name, "note": note, "blocks": blocks, "off": off})
    return {
        "dealer": dealer,
        "day": day,
        "by": by,
        "capacity": capacity,
        "plan": plan,
        "jobs": jobs,
        "rows": rows,
        "hours": hours,
        "technicians": capacity.technicians,
        "bays": capacity.bays,
        "can_change": allowed_at(request.user, CHANGE, dealer=dealer),
        "object_list": [plan] if plan is not None else [],
    }


def _bay_kind(kind) -> str:
    from aftersales.workorders.choices import BayKind

    try:
        return str(BayKind(kind).label)
    except ValueError:
        return kind


def _job_label(job) -> str:
    if job.line_id:
        return f"{job.line.repair_order.number} · {job.line.description}"
    return f"{job.booking.number} · {job.booking.get_service_type_display()}"


@needs(VIEW)
def day_plan_board(request):
    """The plan of a dealer's day (today by default)."""
    dealer, dealers = _dealer(request, VIEW)
    day = _date(request.GET.get("day"), timezone.localdate())
    if dealer is None:
        raise Http404
    context = board_context(request, dealer, day)
    context.update(
        {
            "dealers": dealers if dealers.count() > 1 else [],
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        }
    )
    return render(request, "appointments/plan_board.html", context)


def _answer(request, dealer, day):
    if request.htmx:
        return render(
            request, "appointments/plan_board_body.html", board_context(request, dealer, day)
        )
    where = f"{reverse('day-plan')}?dealer={dealer.pk}&day={day.isoformat()}"
    return redirect(where + ("&by=bay" if _by(request) == "bay" else ""))


@require_POST
@needs(CHANGE)
def day_plan_optimise(request):
    """Optimise the day (pinned and started jobs stay)."""
    dealer, _dealers = _dealer(request, CHANGE)
    day = _date(request.POST.get("day"), timezone.localdate())
    if dealer is None:
        raise Http404
    try:
        plan = dayplan.day_plan_build(actor=request.user, dealer=dealer, day=day)
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Day planned: %(jobs)s jobs, %(late)s minutes late in all, %(left)s left out.")
            % {"jobs": plan.jobs.count(), "late": plan.late_minutes, "left": len(plan.unplaced)},
        )
    return _answer(request, dealer, day)


def _job(request, pk):
    job = (
        PlannedJob.objects.select_related("plan__dealer")
        .filter(pk=pk, plan__in=DayPlan.objects.restrict(request.user, "view"))
        .first()
    )
    if job is None:
        raise Http404
    if not allowed_at(request.user, CHANGE, dealer=job.plan.dealer):
        raise PermissionDenied
    return job


@require_POST
@needs(CHANGE)
def planned_job_pin(request, pk):
    job = _job(request, pk)
    dayplan.planned_job_pin(actor=request.user, job=job, pinned=request.POST.get("pinned") != "0")
    return _answer(request, job.plan.dealer, job.plan.day)


@require_POST
@needs(CHANGE)
def planned_job_move(request, pk):
    """Move a job to the technician, bay and start time chosen (it is pinned there)."""
    job = _job(request, pk)
    plan = job.plan
    raw = request.POST.get("start", "")
    try:
        at = datetime.datetime.combine(plan.day, datetime.time.fromisoformat(raw))
        technician = int(request.POST.get("technician", ""))
        bay = int(request.POST.get("bay", ""))
    except ValueError:
        messages.error(request, _("Choose the technician, the bay and the start time."))
        return _answer(request, plan.dealer, plan.day)
    try:
        dayplan.planned_job_move(
            actor=request.user,
            job=job,
            technician=technician,
            bay=bay,
            starts_at=timezone.make_aware(at),
        )
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    return _answer(request, plan.dealer, plan.day)
