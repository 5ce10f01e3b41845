"""Workshop pages (tablet first): the advisor's order board, the foreman's board, the
technician's jobs with the clock buttons, and the work panel of the repair-order page.

Boards refresh their body every 30 s through htmx (the same URL answers with the body
only to an htmx request). Actions are htmx POSTs answering with the re-rendered fragment
and ``HX-Trigger: ro-changed``; a refused action re-renders the fragment with the reason
(status 200, so htmx shows it)."""

import uuid

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.access import user_has_perm
from aftersales.core.errors import ServiceError
from aftersales.workorders import boards, workshop
from aftersales.workorders.choices import (
    OPEN,
    Approval,
    ClockReason,
    JobStatus,
    LineKind,
    ROStatus,
)
from aftersales.workorders.models import (
    ClockEntry,
    RepairOrder,
    RepairOrderLine,
    WorkshopBay,
)
from aftersales.workorders.transitions import may

S = ROStatus
PAGE_SIZE = 25
VIEW = "workorders.view_repairorder"
DISPATCH = workshop.DISPATCH
WORK = workshop.WORK
ISSUE = workshop.ISSUE


class WorkshopPage(LoginRequiredMixin, View):
    permission = VIEW
    also = ()  # other permissions that open the page as well

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not any(
            user_has_perm(user, p) for p in (self.permission, *self.also)
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------- the SA's board


class RepairOrderListView(WorkshopPage):
    permission = VIEW

    def get(self, request):
        user = request.user
        status = request.GET.get("status", "")
        if status not in S.values:
            status = ""
        q = request.GET.get("q", "").strip()[:40]
        mine = request.GET.get("mine") == "1"
        rows = boards.sa_board(user, status=status, q=q, mine=mine)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        counts = boards.status_counts(user, mine=mine)
        chips = [
            (value, label, counts.get(value, 0)) for value, label in S.choices if value in OPEN
        ]
        context = {
            "page_obj": page,
            "paginator": page.paginator,
            "is_paginated": page.has_other_pages(),
            "object_list": page.object_list,
            "chips": chips,
            "open_total": sum(counts.values()),
            "status": status,
            "q": q,
            "mine": mine,
            "now": timezone.now(),
        }
        template = "workorders/workshop_order_rows.html"
        if not _is_htmx(request):
            template = "workorders/workshop_order_list.html"
        return render(request, template, context)


# ---------------------------------------------------------------- the foreman's board


def _board_context(request):
    user = request.user
    board = boards.foreman_board(user, dealer_id=request.GET.get("dealer"))
    bays = []
    staff = []
    if board.dealer_id:
        bays = list(WorkshopBay.objects.filter(dealer_id=board.dealer_id, active=True))
        staff = [c.technician for c in board.columns]
    return {
        "board": board,
        "object_list": board.jobs,
        "bays": bays,
        "staff": staff,
        "now": timezone.now(),
    }


class WorkshopBoardView(WorkshopPage):
    permission = DISPATCH

    def get(self, request):
        template = "workorders/workshop_board_body.html"
        if not _is_htmx(request):
            template = "workorders/workshop_board.html"
        return render(request, template, _board_context(request))


# ---------------------------------------------------------------- the technician's jobs


def _my_jobs_context(request, error="", done=""):
    mine = boards.technician_jobs(request.user)
    return {
        "mine": mine,
        "object_list": mine.jobs,
        "reasons": ClockReason.choices,
        "error": error,
        "done": done,
        "now": timezone.now(),
    }


class MyJobsView(WorkshopPage):
    permission = WORK

    def get(self, request):
        template = "workorders/workshop_my_jobs_body.html"
        if not _is_htmx(request):
            template = "workorders/workshop_my_jobs.html"
        return render(request, template, _my_jobs_context(request))


# ---------------------------------------------------------------- the work panel


def _panel_context(request, order, error="", done=""):
    user = request.user
    lines = list(
        order.lines.select_related("bay", "part", "reservation")
        .prefetch_related(
            "assignments__technician",
        )
        .order_by("position", "id")
    )
    jobs = [line for line in lines if line.kind == LineKind.LABOUR]
    parts = [line for line in lines if line.kind == LineKind.PART]
    entries = list(
        ClockEntry.objects.filter(repair_order=order)
        .select_related("technician", "line")
        .order_by("-started_at", "-id")[:100]
    )
    summary = workshop.job_hours(order)
    hours = {j.line.pk: j for j in summary.jobs}
    my_clock = workshop.open_clock(user) if may(user, WORK, order) else None
    for job in jobs:
        job.hours = hours.get(job.pk)
        job.technicians = [a.technician for a in job.assignments.all()]
        job.mine = any(t.pk == user.pk for t in job.technicians)
        job.running_mine = my_clock is not None and my_clock.line_id == job.pk
    for part in parts:
        part.outstanding = part.quantity - part.issued_qty + part.returned_qty
        part.out = part.issued_qty - part.returned_qty
    can_dispatch = may(user, DISPATCH, order)
    return {
        "order": order,
        "jobs": jobs,
        "parts": parts,
        "entries": entries,
        "summary": summary,
        "can_dispatch": can_dispatch and order.status in workshop.DISPATCHABLE,
        "can_work": may(user, WORK, order),
        "can_issue": may(user, ISSUE, order) and order.status in workshop.DISPATCHABLE,
        "can_pause": (may(user, WORK, order) or can_dispatch) and order.status == S.IN_PROGRESS,
        "can_resume": (may(user, WORK, order) or can_dispatch)
        and order.status in workshop.STOPPED_ORDER,
        "staff": boards.workshop_staff(order.dealer_id) if can_dispatch else [],
        "bays": list(WorkshopBay.objects.filter(dealer_id=order.dealer_id, active=True))
        if can_dispatch
        else [],
        "reasons": ClockReason.choices,
        "approved": Approval.APPROVED,
        "done_status": JobStatus.DONE,
        "error": error,
        "done": done,
        "new_key": uuid.uuid4().hex,
    }


def _order(request, pk):
    return get_object_or_404(
        RepairOrder.objects.restrict(request.user, "view").select_related("vehicle"), pk=pk
    )


class WorkPanelView(WorkshopPage):
    permission = VIEW

    def get(self, request, pk):
        order = _order(request, pk)
        return render(request, "workorders/workshop_panel.html", _panel_context(request, order))


# ---------------------------------------------------------------- actions


def _version(request):
    raw = request.POST.get("version")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


class WorkAction(WorkshopPage):
    """POST an action on a line (``on = 'line'``) or an order; answer with the fragment
    the form came from (``view``: panel, my-jobs or board)."""

    on = "line"
    success = ""

    def act(self, request, obj):
        raise NotImplementedError

    def post(self, request, pk):
        if self.on == "line":
            obj = get_object_or_404(
                RepairOrderLine.objects.filter(
                    repair_order__in=RepairOrder.objects.restrict(request.user, "view")
                ),
                pk=pk,
            )
            order_pk = obj.repair_order_id
        else:
            obj = _order(request, pk)
            order_pk = obj.pk
        error = ""
        try:
            self.act(request, obj)
        except ServiceError as exc:
            error = str(exc.message)
        done = "" if error else str(self.success)
        view = request.POST.get("view", "panel")
        if view == "my-jobs":
            response = render(
                request,
                "workorders/workshop_my_jobs_body.html",
                _my_jobs_context(request, error=error, done=done),
            )
        elif view == "board":
            context = _board_context(request)
            context.update(error=error, done=done)
            response = render(request, "workorders/workshop_board_body.html", context)
        else:
            order = _order(request, order_pk)
            response = render(
                request,
                "workorders/workshop_panel.html",
                _panel_context(request, order, error=error, done=done),
            )
        if not error:
            response["HX-Trigger"] = "ro-changed"
        return response


class JobAssignAction(WorkAction):
    permission = DISPATCH

    def act(self, request, line):
        self.success = _("Job assigned.")
        version = _version(request)
        if version is None:
            version = RepairOrder.objects.values_list("version", flat=True).get(
                pk=line.repair_order_id
            )
        workshop.job_assign(
            actor=request.user,
            line=line,
            technicians=request.POST.getlist("technicians"),
            bay=request.POST.get("bay") or None,
            version=version,
        )


class ClockOnAction(WorkAction):
    permission = WORK

    def act(self, request, line):
        self.success = _("Clocked on.")
        workshop.clock_on(actor=request.user, line=line)


class ClockOffAction(WorkAction):
    permission = WORK
    also = (DISPATCH,)  # a service manager clocks off a forgotten clock

    def act(self, request, line):
        self.success = _("Clocked off.")
        technician = request.POST.get("technician") or None
        if technician is not None:
            from aftersales.org.models import User

            technician = User.objects.filter(pk=technician).first()
        workshop.clock_off(
            actor=request.user,
            line=line,
            reason=request.POST.get("reason", ""),
            technician=technician,
        )


class _OrderStep(WorkAction):
    on = "order"
    permission = WORK
    also = (DISPATCH,)
    service = None

    def act(self, request, order):
        version = _version(request)
        if version is None:
            from aftersales.core.errors import ValidationFailed

            raise ValidationFailed(_("The form is out of date: reload the page."))
        type(self).service(
            actor=request.user,
            repair_order=order,
            version=version,
            reason=request.POST.get("reason", "")[:200],
        )


class PauseAction(_OrderStep):
    service = staticmethod(workshop.repair_order_pause)

    def act(self, request, order):
        self.success = _("Work paused.")
        super().act(request, order)


class WaitForPartsAction(_OrderStep):
    service = staticmethod(workshop.repair_order_wait_for_parts)

    def act(self, request, order):
        self.success = _("The order waits for parts.")
        super().act(request, order)


class ResumeAction(_OrderStep):
    service = staticmethod(workshop.repair_order_resume)

    def act(self, request, order):
        self.success = _("Work resumed.")
        super().act(request, order)


class PartsIssueAction(WorkAction):
    permission = ISSUE

    def act(self, request, line):
        self.success = _("Parts issued.")
        workshop.parts_issue(
            actor=request.user,
            line=line,
            quantity=request.POST.get("quantity") or None,
            idempotency_key=request.POST.get("idempotency_key", ""),
        )


class PartsReturnAction(WorkAction):
    permission = ISSUE

    def act(self, request, line):
        self.success = _("Parts returned to stock.")
        workshop.parts_return(
            actor=request.user,
            line=line,
            quantity=request.POST.get("quantity", ""),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
