"""Pages of service reminders (SPEC §10, source 2-12 to 2-15): the DCRC worklist (the
month's phone reminders and follow-ups, filtered, bulk-assigned by the DCRC manager), the
call screen (the customer 360 at hand, the outcome form, booking a free time from the
call), the vehicle reminder sheet (车辆提醒单) and the set-up pages: reminder rules and
quiet hours, the inspection schedule, campaigns, recalls and the monthly runs.

Rows come through ``restrict`` (another dealer's reminder is a 404); every write goes
through a service (``services``, ``campaigns``, ``setup``, ``appointments.bookings``);
a refusal is shown next to its form and changes nothing."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import clean_key, once
from aftersales.core.pages import PermissionPage, put_errors, safe_next
from aftersales.reminders import campaigns as campaign_services
from aftersales.reminders import forms as f
from aftersales.reminders import recalls, services, setup
from aftersales.reminders.choices import CampaignScope, ReminderKind, ReminderStatus, TaskKind
from aftersales.reminders.models import (
    Campaign,
    InspectionStep,
    Recall,
    RecallVehicle,
    Reminder,
    ReminderMessage,
    ReminderRun,
    ReminderSettings,
)
from aftersales.reminders.schedule import DEFAULT_INSPECTION_STEPS, month_start

VIEW = "reminders.view_reminder"
WORK = services.WORK
ASSIGN = services.ASSIGN
PER_PAGE = 25
RELATED = ("vehicle", "customer", "dealer", "assigned_to", "booking", "campaign", "recall")


# ---------------------------------------------------------------- helpers


def _dealers_in(user, permission):
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    rows = Dealer.objects.filter(active=True).order_by("code")
    return rows if scope.everything else rows.filter(pk__in=scope.dealer_ids)


def _agents(dealer_ids):
    """Active users who work on reminders at these dealers (the worklist's agents)."""
    from aftersales.org.models import User
    from aftersales.org.roles import roles_with

    if not dealer_ids:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            role_assignments__active=True,
            role_assignments__role__in=roles_with(WORK),
            role_assignments__dealer_id__in=list(dealer_ids),
        )
        .distinct()
        .order_by("first_name", "username")
    )


def _tabs(user):
    """The reminder screens this user may open (the sub-navigation of every page)."""
    tabs = [
        ("reminder-worklist", _("Worklist"), VIEW),
        ("reminder-campaign-list", _("Campaigns"), "reminders.view_campaign"),
        ("reminder-recall-list", _("Recalls"), "reminders.view_recall"),
        ("reminder-setup", _("Reminder rules"), "reminders.view_remindersettings"),
        ("reminder-run-list", _("Monthly runs"), "reminders.view_reminderrun"),
        ("reminder-stats", _("Statistics"), "reminders.export_reminder"),
    ]
    shown = []
    for name, label, permission in tabs:
        if not user_has_perm(user, permission):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a screen of another module not installed (yet)
            continue
        shown.append({"name": name, "url": url, "label": label})
    return shown


class TabsMixin:
    tab = ""

    def tabs_context(self):
        return {"reminder_tabs": _tabs(self.request.user), "reminder_tab": self.tab}


def _todo_q():
    """Still to call: open, or not reached with a call left (and its retry time come)."""
    return Q(status=ReminderStatus.OPEN) | Q(
        status=ReminderStatus.NOT_REACHED, attempts__lt=services.MAX_ATTEMPTS
    )


def _recall_done_q():
    """A recall reminder whose recall work is done on the vehicle (``recalls``): off the list."""
    from aftersales.reminders.models import RecallVehicle

    done = RecallVehicle.objects.filter(
        recall_id=OuterRef("recall_id"), vehicle_id=OuterRef("vehicle_id"), done_on__isnull=False
    )
    return Q(kind=ReminderKind.RECALL) & Q(Exists(done))


def _recalls_first(rows):
    return rows.annotate(
        recall_first=Case(
            When(kind=ReminderKind.RECALL, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("recall_first", "due_date", "id")


def _message_rows(reminder) -> list[dict]:
    """The WeChat and text messages sent about the reminder (prefetched as ``messages``
    where a page lists many): when, channel, status and why not sent or what failed."""
    rows = []
    for message in reminder.messages.all():
        reason = message.get_skip_reason_display() if message.skip_reason else message.error
        rows.append(
            {
                "at": message.sent_at or message.created_at,
                "channel": message.get_channel_display(),
                "status": message.get_status_display(),
                "state": message.status,
                "detail": reason,
            }
        )
    return rows


def _may_see_messages(user) -> bool:
    return user_has_perm(user, "reminders.view_remindermessage")


# ---------------------------------------------------------------- worklist


class WorklistView(TabsMixin, PermissionPage, ListView):
    """The month's reminder tasks the user may see: recalls first, then by due date;
    filtered by kind, task, status, due dates, agent, dealer and "mine"; the DCRC manager
    ticks rows and assigns them to an agent."""

    permission = VIEW
    template_name = "reminders/worklist.html"
    paginate_by = PER_PAGE
    tab = "reminder-worklist"

    def _prepare(self):
        """The filters, the month and the agents to choose from (after the permission
        check: ``get_queryset`` calls it first)."""
        request, user = self.request, self.request.user
        self.scope = user_scope(user, VIEW)
        dealers = (
            list(_dealers_in(user, VIEW)[:500])
            if self.scope.everything or len(self.scope.dealer_ids) > 1
            else []
        )
        self.form = f.WorklistFilterForm(request.GET or None, dealers=dealers)
        if self.form.is_bound:
            self.form.is_valid()
            self.filters = {
                k: v for k, v in self.form.cleaned_data.items() if k not in self.form.errors
            }
        else:
            self.filters = {}
        self.month = self.filters.get("month") or month_start(timezone.localdate())
        if self.filters.get("dealer"):
            self.agent_dealers = [self.filters["dealer"]]
        elif self.scope.everything:
            self.agent_dealers = []  # the OEM picks a dealer first
        else:
            self.agent_dealers = sorted(self.scope.dealer_ids)
        self.agents = list(_agents(self.agent_dealers)[:200])
        self.form.fields["agent"].widget.choices = [
            ("", _("Anyone")),
            ("none", pgettext("agent", "Not assigned")),
            *[(str(a.pk), str(a)) for a in self.agents],
        ]

    def get_queryset(self):
        self._prepare()
        filters, user = self.filters, self.request.user
        rows = Reminder.objects.restrict(user, "view").select_related(*RELATED)
        status = filters.get("status") or f.TODO
        if status == f.TODO:
            # open recalls stay on the list after their month until the work is done
            rows = (
                rows.filter(Q(month=self.month) | Q(kind=ReminderKind.RECALL, month__lt=self.month))
                .filter(_todo_q())
                .exclude(_recall_done_q())
            )
        else:
            rows = rows.filter(month=self.month)
            if status != "all":
                rows = rows.filter(status=status)
        if filters.get("kind"):
            rows = rows.filter(kind=filters["kind"])
        if filters.get("task"):
            rows = rows.filter(registered=filters["task"] == TaskKind.PHONE_FOLLOW_UP)
        if filters.get("due_from"):
            rows = rows.filter(due_date__gte=filters["due_from"])
        if filters.get("due_to"):
            rows = rows.filter(due_date__lte=filters["due_to"])
        agent = filters.get("agent") or ""
        if agent == "none":
            rows = rows.filter(assigned_to__isnull=True)
        elif agent.isdigit():
            rows = rows.filter(assigned_to_id=int(agent))
        if filters.get("mine"):
            rows = rows.filter(assigned_to=user)
        if filters.get("dealer"):
            rows = rows.filter(dealer_id=filters["dealer"])
        return _recalls_first(rows)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        may_assign = user_has_perm(user, ASSIGN)
        assign_agents = []
        if may_assign:
            assign_scope = user_scope(user, ASSIGN)
            ids = [
                d
                for d in self.agent_dealers
                if assign_scope.everything or d in assign_scope.dealer_ids
            ]
            assign_agents = self.agents if ids == self.agent_dealers else list(_agents(ids)[:200])
        now = timezone.now()
        for row in context["object_list"]:
            row.due_call = row.next_call_at is None or row.next_call_at <= now
        context.update(self.tabs_context())
        context.update(
            {
                "form": self.form,
                "month": self.month,
                "filters": self.filters,
                "may_assign": may_assign,
                "assign_agents": assign_agents,
                "may_work": user_has_perm(user, WORK),
                "shown_mobile": _mobile_shower(user),
                "now": now,
            }
        )
        for row in context["object_list"]:
            row.shown_mobile = context["shown_mobile"](row.customer.mobile)
        return context


def _mobile_shower(user):
    from aftersales.crm.selectors import can_see_phone
    from aftersales.crm.validators import mask_mobile

    visible = can_see_phone(user)
    return (lambda mobile: mobile) if visible else mask_mobile


class AssignView(PermissionPage, View):
    """POST: the ticked reminders to one agent (the DCRC manager); back to the list."""

    permission = ASSIGN

    def post(self, request):
        from aftersales.org.models import User

        back = safe_next(request) or reverse("reminder-worklist")
        ids = sorted({int(v) for v in request.POST.getlist("ids") if str(v).isdigit()})
        if not ids:
            messages.error(request, _("Tick at least one reminder."))
            return redirect(back)
        rows = list(Reminder.objects.restrict(request.user, "assign").filter(pk__in=ids))
        if len(rows) != len(ids):
            raise Http404
        raw = request.POST.get("agent", "")
        agent = None
        if raw:
            agent = User.objects.filter(pk=int(raw) if raw.isdigit() else 0, is_active=True).first()
            if agent is None:
                messages.error(request, _("No such user."))
                return redirect(back)
        try:
            services.reminders_assign(actor=request.user, reminders=rows, agent=agent)
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(back)
        if agent is None:
            text = _("%(n)d reminders taken back.") % {"n": len(rows)}
        else:
            text = _("%(n)d reminders assigned to %(agent)s.") % {
                "n": len(rows),
                "agent": str(agent),
            }
        messages.success(request, text)
        return redirect(back)


# ---------------------------------------------------------------- call screen


def _reminder(request, pk, action="view") -> Reminder:
    rows = Reminder.objects.restrict(request.user, action).select_related(
        *RELATED, "vehicle__variant__vehicle_model"
    )
    return get_object_or_404(rows, pk=pk)


def _customer_context(user, reminder) -> dict:
    """The customer 360 at hand on the call: who they are and how to reach them (the
    number masked unless the user may call customers), their vehicles, recent visits and
    repair orders, complaints, bookings to come and the vehicle's other open reminders."""
    from aftersales.appointments.choices import HOLDING
    from aftersales.appointments.messages import in_quiet_hours
    from aftersales.appointments.models import Booking
    from aftersales.crm import selectors as crm
    from aftersales.crm.models import ServiceVisit

    now = timezone.now()
    customer = crm.customers(user).filter(pk=reminder.customer_id).first()
    context = {"customer_visible": customer is not None, "customer": reminder.customer}
    if customer is not None:
        data = crm.customer_360(user, customer)
        context.update(
            {
                "customer": customer,
                "vehicles": data["vehicles"],
                "tags": data["tags"],
                "visit_count": data["visit_count"],
                "timeline": data["timeline"][:8],
                "shown_mobile": crm.shown_mobile(user, customer.mobile),
                "can_call": crm.can_see_phone(user),
                "visits": list(
                    ServiceVisit.objects.restrict(user, "view")
                    .filter(customer=customer)
                    .select_related("dealer", "vehicle")
                    .order_by("-visited_on", "-id")[:5]
                ),
                "quiet_now": in_quiet_hours(customer.quiet_from, customer.quiet_until, now),
            }
        )
    rules = ReminderSettings.current()
    context["rules_quiet_now"] = in_quiet_hours(rules.quiet_from, rules.quiet_until, now)
    context["rules"] = rules
    if user_has_perm(user, "workorders.view_repairorder"):
        from aftersales.workorders.models import RepairOrder

        context["orders"] = list(
            RepairOrder.objects.restrict(user, "view")
            .filter(vehicle_id=reminder.vehicle_id)
            .select_related("dealer")
            .order_by("-created_at")[:5]
        )
    if customer is not None and user_has_perm(user, "complaints.view_complaint"):
        from aftersales.complaints.models import Complaint

        context["complaints"] = list(
            Complaint.objects.restrict(user, "view")
            .filter(customer=customer)
            .order_by("-received_at")[:5]
        )
    if user_has_perm(user, "appointments.view_booking"):
        context["bookings"] = list(
            Booking.objects.restrict(user, "view")
            .filter(vehicle_id=reminder.vehicle_id, status__in=HOLDING, ends_at__gte=now)
            .select_related("dealer")
            .order_by("starts_at")[:5]
        )
    context["other_reminders"] = list(
        Reminder.objects.restrict(user, "view")
        .filter(vehicle_id=reminder.vehicle_id)
        .filter(_todo_q())
        .exclude(pk=reminder.pk)
        .order_by("due_date")[:10]
    )
    return context


def _call_state(user, reminder) -> dict:
    """What the user may do on this call, and why not."""
    callable_now = reminder.status in services.CALLABLE and not (
        reminder.status == ReminderStatus.NOT_REACHED and reminder.attempts >= services.MAX_ATTEMPTS
    )
    may_work = allowed_at(user, WORK, dealer=reminder.dealer)
    others = (
        reminder.assigned_to_id is not None
        and reminder.assigned_to_id != user.pk
        and not allowed_at(user, ASSIGN, dealer=reminder.dealer)
    )
    return {
        "callable": callable_now,
        "may_call": callable_now and may_work and not others,
        "assigned_elsewhere": others,
        "may_book": callable_now
        and may_work
        and not others
        and allowed_at(user, "appointments.add_booking", dealer=reminder.dealer),
    }


def _book_initial(reminder):
    return {
        "idempotency_key": f.new_key(),
        "service_type": f.SERVICE_FOR_KIND.get(reminder.kind, "maintenance"),
        "day": max(timezone.localdate() + datetime.timedelta(days=1), reminder.due_date),
        "concern": reminder.get_kind_display()
        + (f" · {reminder.recall}" if reminder.recall_id else "")
        + (f" · {reminder.campaign}" if reminder.campaign_id else ""),
    }


def _call_page(request, reminder, *, call_form=None, book_form=None, book_error="", status=200):
    user = request.user
    state = _call_state(user, reminder)
    context = {
        "reminder": reminder,
        "vehicle": reminder.vehicle,
        "call_form": call_form or f.CallForm(initial={"idempotency_key": f.new_key()}),
        "book_form": book_form or f.BookForm(initial=_book_initial(reminder)),
        "book_error": book_error,
        "message_rows": _message_rows(reminder) if _may_see_messages(user) else [],
        "notes": [line for line in (reminder.note or "").splitlines() if line.strip()],
        "next": safe_next(request),
        "max_attempts": services.MAX_ATTEMPTS,
        **state,
        **_customer_context(user, reminder),
    }
    return render(request, "reminders/call.html", context, status=status)


class CallView(PermissionPage, View):
    """The call screen of one reminder."""

    permission = VIEW

    def get(self, request, pk):
        return _call_page(request, _reminder(request, pk))


class CallRecordView(PermissionPage, View):
    """POST: one call's outcome (reminded, not reached, declined, wrong number) with notes.
    A retried submit (same form key) records the call once."""

    permission = WORK

    def post(self, request, pk):
        reminder = _reminder(request, pk, "work")
        form = f.CallForm(request.POST)
        if not form.is_valid():
            return _call_page(request, reminder, call_form=form)
        data = form.cleaned_data
        try:
            result, _acted = once(
                user=request.user,
                scope=f"reminder-call:{reminder.pk}",
                key=clean_key(data.get("idempotency_key")),
                action=lambda: services.reminder_call(
                    actor=request.user,
                    reminder=reminder,
                    outcome=data["outcome"],
                    note=data.get("note", ""),
                    retry_at=data.get("retry_at"),
                ),
                model=Reminder,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return _call_page(request, _reminder(request, pk), call_form=form)
        messages.success(
            request,
            _("Call recorded: %(outcome)s.") % {"outcome": result.get_status_display()},
        )
        return redirect(safe_next(request) or reverse("reminder-call", args=[reminder.pk]))


class CallBookView(PermissionPage, View):
    """POST: the customer books on the call. The booking (channel "DCRC outbound call") and
    the call's outcome "booked", linked to it, are one transaction: if either is refused
    nothing is written. A retried submit (same form key) books once."""

    permission = WORK

    def post(self, request, pk):
        from aftersales.appointments.bookings import booking_create
        from aftersales.appointments.choices import Channel

        reminder = _reminder(request, pk, "work")
        form = f.BookForm(request.POST)
        if not form.is_valid():
            return _call_page(request, reminder, book_form=form)
        data, user = form.cleaned_data, request.user

        def book_and_record():
            booking = booking_create(
                actor=user,
                dealer=reminder.dealer,
                vehicle=reminder.vehicle,
                service_type=data["service_type"],
                channel=Channel.DCRC,
                starts_at=data["starts_at"],
                concern=data.get("concern", ""),
                confirm=data.get("confirm", False),
            )
            return services.reminder_call(
                actor=user,
                reminder=reminder,
                outcome=ReminderStatus.BOOKED,
                note=data.get("note", ""),
                booking_id=booking.pk,
            )

        try:
            result, _acted = once(
                user=user,
                scope=f"reminder-book:{reminder.pk}",
                key=clean_key(data.get("idempotency_key")),
                action=book_and_record,
                model=Reminder,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return _call_page(request, _reminder(request, pk), book_form=form)
        booking = result.booking
        messages.success(
            request,
            _("Booked: %(number)s on %(when)s.")
            % {
                "number": booking.number,
                "when": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
        return redirect(safe_next(request) or reverse("reminder-call", args=[reminder.pk]))


class CallSlotsView(PermissionPage, View):
    """The free times at the reminder's dealer for the booking form (an htmx partial):
    the chosen day and the six after it, with the vehicle's standard hours."""

    permission = WORK

    def get(self, request, pk):
        from decimal import Decimal

        from aftersales.appointments.choices import ServiceType
        from aftersales.appointments.slots import needs_for
        from aftersales.appointments.views_bookings import slot_days
        from aftersales.workorders.choices import BayKind

        reminder = _reminder(request, pk, "work")
        service_type = request.GET.get("service_type") or "maintenance"
        if service_type not in ServiceType.values:
            service_type = ServiceType.MAINTENANCE
        today = timezone.localdate()
        try:
            first = datetime.date.fromisoformat(request.GET.get("day", ""))
        except ValueError:
            first = today
        first = max(first, today)
        needs = needs_for(service_type=service_type, vehicle=reminder.vehicle)
        return render(
            request,
            "appointments/_slots.html",
            {
                "days": slot_days(reminder.dealer, needs, first),
                "needs": needs,
                "bay_kind": BayKind(needs.bay_kind).label
                if needs.bay_kind in BayKind.values
                else needs.bay_kind,
                "hours": Decimal(needs.hours),
            },
        )


# ---------------------------------------------------------------- vehicle reminder sheet


class VehicleSheetView(PermissionPage, View):
    """车辆提醒单: every reminder of one vehicle the user may see, with its outcome, calls,
    booking, return and messages."""

    permission = VIEW

    def get(self, request, vehicle_id):
        from aftersales.crm.models import Vehicle

        user = request.user
        rows = list(
            Reminder.objects.restrict(user, "view")
            .filter(vehicle_id=vehicle_id)
            .select_related(*RELATED, "returned_order")
            .prefetch_related(
                Prefetch("messages", queryset=ReminderMessage.objects.order_by("created_at", "id"))
            )
            .order_by("-month", "kind", "-id")
        )
        show_messages = _may_see_messages(user)
        vehicle = (
            Vehicle.objects.restrict(user, "view")
            .select_related("variant__vehicle_model", "owner")
            .filter(pk=vehicle_id)
            .first()
        )
        if vehicle is None and not rows:
            raise Http404
        vehicle = vehicle or rows[0].vehicle
        for row in rows:
            row.message_rows = _message_rows(row) if show_messages else []
            row.note_lines = [line for line in (row.note or "").splitlines() if line.strip()]
        return render(
            request,
            "reminders/vehicle_sheet.html",
            {
                "vehicle": vehicle,
                "reminders": rows,
                "owner_visible": user_has_perm(user, "crm.view_vehicle"),
                "reminder_tabs": _tabs(user),
                "reminder_tab": "",
            },
        )


# ---------------------------------------------------------------- rules and schedule


def _setup_page(request, *, form=None, formset=None, status=200):
    user = request.user
    rules = ReminderSettings.current()
    may_change = allowed_at(user, "reminders.change_remindersettings")
    may_see_steps = user_has_perm(user, "reminders.view_inspectionstep")
    may_change_steps = allowed_at(user, "reminders.change_inspectionstep")
    steps = list(InspectionStep.objects.restrict(user, "view").order_by("from_month"))
    if formset is None and may_change_steps:
        initial = [
            {
                "from_month": s.from_month,
                "until_month": s.until_month,
                "every_months": s.every_months,
                "on_site": s.on_site,
            }
            for s in steps
        ] or [
            {
                "from_month": s.first,
                "until_month": s.last,
                "every_months": s.every,
                "on_site": s.on_site,
            }
            for s in DEFAULT_INSPECTION_STEPS
        ]
        formset = f.InspectionFormSet(initial=initial, prefix="steps")
    return render(
        request,
        "reminders/setup.html",
        {
            "form": form or f.SettingsForm(initial=f.SettingsForm.initial_from(rules)),
            "rules": rules,
            "may_change": may_change,
            "may_see_steps": may_see_steps,
            "may_change_steps": may_change_steps,
            "steps": steps,
            "default_steps": DEFAULT_INSPECTION_STEPS,
            "formset": formset,
            "reminder_tabs": _tabs(user),
            "reminder_tab": "reminder-setup",
        },
        status=status,
    )


class SetupView(PermissionPage, View):
    """The OEM's reminder rules (return window, distance estimate, lapsed owners, quiet
    hours) and the annual-inspection schedule."""

    permission = "reminders.view_remindersettings"

    def get(self, request):
        return _setup_page(request)


class SettingsSaveView(PermissionPage, View):
    permission = "reminders.change_remindersettings"

    def post(self, request):
        form = f.SettingsForm(request.POST)
        if form.is_valid():
            try:
                setup.reminder_settings_update(actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Reminder rules saved."))
                return redirect("reminder-setup")
        return _setup_page(request, form=form)


class InspectionSaveView(PermissionPage, View):
    permission = "reminders.change_inspectionstep"

    def post(self, request):
        formset = f.InspectionFormSet(request.POST, prefix="steps")
        if formset.is_valid():
            steps = [s for s in (form.step() for form in formset.forms) if s is not None]
            try:
                setup.inspection_schedule_set(actor=request.user, steps=steps)
            except ServiceError as exc:
                formset._non_form_errors = formset.error_class(
                    [
                        "; ".join(str(m) for msgs in exc.fields.values() for m in msgs)
                        or str(exc.message)
                    ],
                    renderer=formset.renderer,
                )
            else:
                messages.success(request, _("Inspection schedule saved."))
                return redirect("reminder-setup")
        return _setup_page(request, formset=formset)


# ---------------------------------------------------------------- campaigns


def visible_campaigns(user):
    """The campaigns the user may see: the national ones (the OEM's, for every holder of
    the permission) and the local ones of their dealers."""
    rows = Campaign.objects.restrict(user, "view")
    if user_has_perm(user, "reminders.view_campaign"):
        rows = rows | Campaign.objects.filter(scope=CampaignScope.NATIONAL)
    return rows


class CampaignListView(TabsMixin, PermissionPage, ListView):
    permission = "reminders.view_campaign"
    template_name = "reminders/campaign_list.html"
    paginate_by = PER_PAGE
    tab = "reminder-campaign-list"

    def get_queryset(self):
        return (
            visible_campaigns(self.request.user)
            .select_related("dealer")
            .prefetch_related("vehicle_models", "regions")
            .annotate(reminder_count=Count("reminders"))
            .order_by("-starts_on", "code")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        changeable = set(
            Campaign.objects.restrict(user, "change")
            .filter(pk__in=[c.pk for c in context["object_list"]])
            .values_list("pk", flat=True)
        )
        for row in context["object_list"]:
            row.may_change = row.pk in changeable
        context.update(self.tabs_context())
        context["may_add"] = user_has_perm(user, "reminders.add_campaign")
        return context


def _campaign_form(request, data=None, *, campaign=None):
    user = request.user
    permission = "reminders.change_campaign" if campaign else "reminders.add_campaign"
    scope = user_scope(user, permission)
    dealers = list(_dealers_in(user, permission)[:500])
    initial = None
    if campaign is not None and data is None:
        initial = {
            "code": campaign.code,
            "name": campaign.name,
            "description": campaign.description,
            "scope": campaign.scope,
            "dealer": campaign.dealer_id,
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
            "vehicle_models": list(campaign.vehicle_models.all()),
            "model_years": ", ".join(str(y) for y in campaign.model_years or []),
            "regions": list(campaign.regions.all()),
            "last_visit_before": campaign.last_visit_before,
            "active": campaign.active,
        }
    elif data is None:
        initial = {"scope": CampaignScope.NATIONAL if scope.everything else CampaignScope.LOCAL}
        if len(dealers) == 1:
            initial["dealer"] = dealers[0].pk
    if campaign is not None:
        dealers = [campaign.dealer] if campaign.dealer else []
    return f.CampaignForm(
        data,
        initial=initial,
        dealers=dealers,
        national=scope.everything,
        editing=campaign is not None,
    )


def _campaign_page(request, form, campaign=None, status=200):
    return render(
        request,
        "reminders/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "reminder_tabs": _tabs(request.user),
            "reminder_tab": "reminder-campaign-list",
        },
        status=status,
    )


class CampaignNewView(PermissionPage, View):
    """A national campaign (the OEM) or a local one (a dealer): its target is checked by
    the service, an empty or invalid target refused with the reason."""

    permission = "reminders.add_campaign"

    def get(self, request):
        return _campaign_page(request, _campaign_form(request))

    def post(self, request):
        form = _campaign_form(request, request.POST)
        if not form.is_valid():
            return _campaign_page(request, form)
        data = form.cleaned_data
        # a dealer outside the user's reach is no dealer (refused by the service); a user
        # of one dealer needs not choose it
        reach = list(_dealers_in(request.user, self.permission)[:2])
        dealer = None
        if data.get("dealer"):
            dealer = _dealers_in(request.user, self.permission).filter(pk=data["dealer"]).first()
        elif len(reach) == 1:
            dealer = reach[0]
        try:
            campaign = campaign_services.campaign_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                description=data.get("description", ""),
                scope=data["scope"],
                dealer=dealer,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                vehicle_models=list(data.get("vehicle_models") or []),
                model_years=data.get("model_years") or [],
                regions=list(data.get("regions") or []),
                last_visit_before=data.get("last_visit_before"),
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return _campaign_page(request, form)
        messages.success(request, _("Campaign %(code)s saved.") % {"code": campaign.code})
        return redirect("reminder-campaign-list")


class CampaignEditView(PermissionPage, View):
    """Change a campaign's name, content, dates and target, or end it."""

    permission = "reminders.change_campaign"

    def _campaign(self, request, pk):
        rows = Campaign.objects.restrict(request.user, "change").select_related("dealer")
        return get_object_or_404(rows, pk=pk)

    def get(self, request, pk):
        campaign = self._campaign(request, pk)
        return _campaign_page(request, _campaign_form(request, campaign=campaign), campaign)

    def post(self, request, pk):
        campaign = self._campaign(request, pk)
        form = _campaign_form(request, request.POST, campaign=campaign)
        if not form.is_valid():
            return _campaign_page(request, form, campaign)
        data = form.cleaned_data
        try:
            setup.campaign_update(
                actor=request.user,
                campaign=campaign,
                name=data["name"],
                description=data.get("description", ""),
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                vehicle_models=list(data.get("vehicle_models") or []),
                model_years=data.get("model_years") or [],
                regions=list(data.get("regions") or []),
                last_visit_before=data.get("last_visit_before"),
                active=data.get("active", False),
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return _campaign_page(request, form, campaign)
        messages.success(request, _("Campaign %(code)s saved.") % {"code": campaign.code})
        return redirect("reminder-campaign-list")


# ---------------------------------------------------------------- recalls


class RecallListView(TabsMixin, PermissionPage, ListView):
    permission = "reminders.view_recall"
    template_name = "reminders/recall_list.html"
    paginate_by = PER_PAGE
    tab = "reminder-recall-list"

    def get_queryset(self):
        return (
            Recall.objects.restrict(self.request.user, "view")
            .annotate(
                vehicle_count=Count("vehicles", distinct=True),
                done_count=Count("vehicles", filter=Q(vehicles__done_on__isnull=False)),
            )
            .order_by("-starts_on", "code")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context())
        context["may_add"] = allowed_at(self.request.user, "reminders.add_recall")
        return context


class RecallNewView(PermissionPage, View):
    """A recall from a VIN list (typed, pasted or uploaded): invalid and unknown VINs are
    reported with their line, the valid lines kept."""

    permission = "reminders.add_recall"

    def _page(self, request, form, report=None, status=200):
        return render(
            request,
            "reminders/recall_form.html",
            {
                "form": form,
                "report": report,
                "reminder_tabs": _tabs(request.user),
                "reminder_tab": "reminder-recall-list",
            },
            status=status,
        )

    def get(self, request):
        initial = {"idempotency_key": f.new_key(), "starts_on": timezone.localdate()}
        return self._page(request, f.RecallForm(initial=initial))

    def post(self, request):
        form = f.RecallForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, form)
        data = form.cleaned_data
        try:
            report = campaign_services.recall_upload(
                actor=request.user,
                code=data["code"],
                title=data["title"],
                remedy=data.get("remedy", ""),
                starts_on=data["starts_on"],
                vin_list=data["vins"],
                operation=data.get("operation"),
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return self._page(request, form)
        messages.success(
            request,
            _("Recall %(code)s saved: %(kept)d vehicles, %(reminders)d reminders.")
            % {
                "code": report.recall.code,
                "kept": report.kept,
                "reminders": report.reminders,
            },
        )
        return self._page(request, None, report)


class RecallDetailView(TabsMixin, PermissionPage, ListView):
    """One recall: its progress, and its reminders at the user's dealers."""

    permission = "reminders.view_recall"
    template_name = "reminders/recall_detail.html"
    paginate_by = PER_PAGE
    tab = "reminder-recall-list"

    work_form = None
    recall_verb = "view"
    http_method_names = ["get", "head", "options"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.recall = None

    def get_queryset(self):
        self.recall = get_object_or_404(
            Recall.objects.restrict(self.request.user, self.recall_verb), pk=self.kwargs["pk"]
        )
        return (
            Reminder.objects.restrict(self.request.user, "view")
            .filter(recall=self.recall)
            .select_related("vehicle", "customer", "dealer", "assigned_to")
            .order_by("status", "dealer_id", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        done = RecallVehicle.objects.filter(recall=self.recall).aggregate(
            total=Count("id"), done=Count("id", filter=Q(done_on__isnull=False))
        )
        context.update(self.tabs_context())
        context.update({"recall": self.recall, "progress": done})
        if user_has_perm(self.request.user, recalls.MARK):
            context["work_form"] = self.work_form or f.RecallWorkForm(
                initial={"done_on": timezone.localdate()}
            )
        return context


class RecallWorkView(RecallDetailView):
    """POST only: recall work done on one vehicle, recorded by hand (the recall page's
    form)."""

    permission = recalls.MARK
    recall_verb = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        self.object_list = self.get_queryset()  # the recall, in the user's scope
        form = f.RecallWorkForm(request.POST)
        if form.is_valid():
            try:
                row = recalls.recall_work_record(
                    actor=request.user,
                    recall=self.recall,
                    vin=form.cleaned_data["vin"],
                    done_on=form.cleaned_data["done_on"],
                    order_number=form.cleaned_data["order"],
                )
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Recall work on %(vin)s recorded as done on %(day)s.")
                    % {"vin": row.vehicle.vin, "day": row.done_on.isoformat()},
                )
                return redirect("reminder-recall-detail", pk=self.recall.pk)
        self.work_form = form
        return self.render_to_response(self.get_context_data())


# ---------------------------------------------------------------- monthly runs


class RunListView(TabsMixin, PermissionPage, ListView):
    """The monthly runs (what each added per kind, errors); the OEM starts one for a
    dealer and month."""

    permission = "reminders.view_reminderrun"
    template_name = "reminders/run_list.html"
    paginate_by = PER_PAGE
    tab = "reminder-run-list"
    run_form = None
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        return ReminderRun.objects.restrict(self.request.user, "view").select_related("dealer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        may_start = allowed_at(user, "reminders.add_reminderrun")
        context.update(self.tabs_context())
        context["may_start"] = may_start
        if may_start:
            nxt = month_start(month_start(timezone.localdate()) + datetime.timedelta(days=32))
            context["run_form"] = self.run_form or f.RunForm(
                initial={"month": nxt.strftime("%Y-%m")},
                dealers=_dealers_in(user, "reminders.add_reminderrun")[:500],
            )
        for run in context["object_list"]:
            run.total = sum((run.added or {}).values())
            run.kinds = [
                (ReminderKind(k).label if k in ReminderKind.values else k, n)
                for k, n in sorted((run.added or {}).items())
            ]
        return context

    def post(self, request):
        from aftersales.org.models import Dealer

        form = f.RunForm(request.POST, dealers=Dealer.objects.filter(active=True)[:500])
        if form.is_valid():
            dealer = None
            if form.cleaned_data.get("dealer"):
                dealer = Dealer.objects.filter(pk=form.cleaned_data["dealer"]).first()
            try:
                setup.reminder_run_start(
                    actor=request.user, month=form.cleaned_data["month"], dealer=dealer
                )
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The run for %(month)s was started.")
                    % {"month": form.cleaned_data["month"].strftime("%Y-%m")},
                )
                return redirect("reminder-run-list")
        self.run_form = form
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data())


class RunStartView(RunListView):
    """POST only: start a run (the run list's form)."""

    permission = "reminders.add_reminderrun"
    http_method_names = ["post"]
