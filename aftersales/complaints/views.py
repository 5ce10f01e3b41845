"""Pages of complaint management (SPEC §9): the agent's intake (receive, judge), the
specialist's workbench (queues with capped counts), the complaint page with every form
the user may use, the dealer's and the region's list, the VRT tasks, the follow-up
worklist, the legal cases and the OEM's complaint settings.

Rows come from ``selectors`` (always ``restrict``-ed: another dealer's complaint is a
404); every write goes through a service; a refusal is shown next to its form.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.generic import ListView

from aftersales.complaints import forms as f
from aftersales.complaints import selectors, services
from aftersales.complaints.choices import (
    RUNNING,
    CaseKind,
    CaseStatus,
    Category,
    Channel,
    StepKind,
    StepStatus,
)
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import Complaint, ComplaintSettings, GoodwillLevel, LegalCase
from aftersales.core.access import user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import once, request_key
from aftersales.core.pages import PermissionPage, error_text, put_errors, safe_next

VIEW = "complaints.view_complaint"
PER_PAGE = 25


# ---------------------------------------------------------------- helpers


def _complaint(request, pk) -> Complaint:
    try:
        return selectors.complaint_detail(request.user, pk)
    except Complaint.DoesNotExist:
        raise Http404 from None


def _dealers_in(user, permission):
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    rows = Dealer.objects.filter(active=True).select_related("region").order_by("code")
    return rows if scope.everything else rows.filter(pk__in=scope.dealer_ids)


def _oem_staff(roles=None):
    """Active users holding an OEM-level role (the VRT's members, a case's staff)."""
    from aftersales.org.models import User

    where = Q(
        role_assignments__active=True,
        role_assignments__dealer__isnull=True,
        role_assignments__region__isnull=True,
    )
    if roles:
        where &= Q(role_assignments__role__in=roles)
    return User.objects.filter(where, is_active=True).distinct().order_by("username")


def _annotate(rows, now=None):
    """Working days left (``time_left``) or past the deadline (``time_over``) on each
    listed complaint whose clock runs: computed in Python, no query. Past the deadline is
    what the overdue queue says (the deadline's instant has gone by), even when no working
    time has passed since (a deadline at Friday 17:00 is overdue by 0.0 days on Saturday)."""
    now = now or timezone.now()
    for row in rows:
        left = None if row.paused_since else selectors.remaining_days(row, now)
        late = left is not None and row.deadline_at < now
        row.time_left = left if left is not None and not late else None
        row.time_over = abs(left) if late else None
    return rows


def _vehicle(user, vehicle_id, q):
    """The vehicle picked on the form, if the user may see it (or found it by its exact
    plate or VIN, as at reception)."""
    from aftersales.crm.selectors import reception_lookup, vehicles

    if not str(vehicle_id or "").isdigit():
        return None
    found = vehicles(user).filter(pk=int(vehicle_id)).select_related("owner").first()
    if found is None and q:
        looked_up = reception_lookup(user, q)
        if looked_up is not None and looked_up.pk == int(vehicle_id):
            found = looked_up
    return found


def _recent_orders(user, vehicle):
    if vehicle is None or not user_has_perm(user, "workorders.view_repairorder"):
        return []
    from aftersales.workorders.models import RepairOrder

    return list(
        RepairOrder.objects.restrict(user, "view")
        .filter(vehicle=vehicle)
        .select_related("dealer")
        .order_by("-created_at")[:5]
    )


class CappedListView(PermissionPage, ListView):
    """A list whose paginator counts no further than 1,000 rows."""

    paginate_by = PER_PAGE
    known_count = None

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kw):
        return selectors.CappedPaginator(
            queryset, per_page, orphans=orphans, known_count=self.known_count
        )


# ---------------------------------------------------------------- entry


class ComplaintHomeView(PermissionPage, View):
    """ "Complaints" in the bar: each role lands on the screen it works in."""

    permission = VIEW

    def get(self, request):
        user = request.user
        for permission, target in (
            ("complaints.file_complaint", "complaint-workbench"),
            ("complaints.judge_complaint", "complaint-intake"),
            ("complaints.support_complaint", "complaint-vrt-tasks"),
            ("complaints.add_legalcase", "complaint-case-list"),
        ):
            if user_has_perm(user, permission):
                return redirect(target)
        return redirect("complaint-list")


def _tabs(user):
    """The complaint screens this user may open (the sub-navigation of every page)."""
    tabs = [
        ("complaint-workbench", _("Workbench"), "complaints.file_complaint"),
        ("complaint-intake", _("Intake"), "complaints.judge_complaint"),
        ("complaint-list", _("Complaints"), VIEW),
        ("complaint-new", _("New complaint"), "complaints.add_complaint"),
        ("complaint-vrt-tasks", _("VRT tasks"), None),
        ("complaint-follow-ups", _("Satisfaction follow-ups"), "complaints.judge_complaint"),
        ("complaint-case-list", _("Legal cases"), "complaints.view_legalcase"),
        ("complaint-settings", _("Settings"), "complaints.view_complaintsettings"),
    ]
    shown = []
    for name, label, permission in tabs:
        if permission is None:
            if not _may_see_vrt_tasks(user):
                continue
        elif not user_has_perm(user, permission):
            continue
        shown.append({"name": name, "url": reverse(name), "label": label})
    return shown


class TabsMixin:
    tab = ""

    def tabs_context(self):
        return {"complaint_tabs": _tabs(self.request.user), "complaint_tab": self.tab}


# ---------------------------------------------------------------- intake


def _receive_form(request, data=None, *, initial=None):
    scope = user_scope(request.user, "complaints.add_complaint")
    return f.ReceiveForm(
        data,
        initial=initial,
        dealers=_dealers_in(request.user, "complaints.add_complaint"),
        forward_only=not scope.everything,
    )


def _receive_context(request, form=None):
    """The receive form with the vehicle found by its plate or VIN (``?q=``)."""
    from aftersales.crm.selectors import reception_lookup

    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    vehicle, lookup_error = None, ""
    if form is not None and form.is_bound:
        vehicle = _vehicle(request.user, request.POST.get("vehicle"), q)
    elif q:
        vehicle = reception_lookup(request.user, q)
        if vehicle is None:
            lookup_error = _("No vehicle with the plate or VIN %(q)s.") % {"q": q}
    if form is None:
        initial = {"idempotency_key": f.new_key(), "q": q}
        if vehicle is not None:
            initial["vehicle"] = vehicle.pk
            owner = vehicle.owner
            if owner is not None:
                initial["contact_name"] = owner.name[:60]
                initial["contact_phone"] = getattr(owner, "mobile", "")[:20]
        form = _receive_form(request, initial=initial)
    return {
        "receive_form": form,
        "q": q,
        "vehicle": vehicle,
        "lookup_error": lookup_error,
        "orders": _recent_orders(request.user, vehicle),
        "forward_only": not user_scope(request.user, "complaints.add_complaint").everything,
    }


class IntakeView(TabsMixin, CappedListView):
    """The agent's screen: receive a complaint, and the complaints waiting to be judged
    (not those forwarded by dealers: the specialist judges those)."""

    permission = "complaints.judge_complaint"
    template_name = "complaints/intake.html"
    tab = "complaint-intake"

    def get_queryset(self):
        return selectors.agent_queue(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        _annotate(context["object_list"])
        context.update(self.tabs_context())
        if user_has_perm(self.request.user, "complaints.add_complaint"):
            context.update(_receive_context(self.request))
        context["decisions"] = f.JUDGE_DECISIONS
        return context


class ReceiveView(TabsMixin, PermissionPage, View):
    """Receive a complaint (the agent) or forward one to the OEM (a dealer's staff)."""

    permission = "complaints.add_complaint"
    tab = "complaint-new"

    def _render(self, request, form=None, status=200):
        context = {**_receive_context(request, form), **self.tabs_context()}
        return render(request, "complaints/receive.html", context, status=status)

    def get(self, request):
        return self._render(request)

    def post(self, request):
        form = _receive_form(request, request.POST)
        if not form.is_valid():
            return self._render(request, form)
        data = form.cleaned_data
        vehicle = _vehicle(request.user, data.get("vehicle"), data.get("q"))
        orders = []
        if vehicle is not None:
            wanted = {int(v) for v in request.POST.getlist("repair_orders") if v.isdigit()}
            orders = [o for o in _recent_orders(request.user, vehicle) if o.pk in wanted]
        channel = data["channel"]
        try:
            complaint, _acted = once(
                user=request.user,
                scope="complaints.receive",
                key=request_key(request),
                action=lambda: services.complaint_receive(
                    actor=request.user,
                    channel=channel,
                    contact_name=data.get("contact_name", ""),
                    contact_phone=data.get("contact_phone", ""),
                    subject=data["subject"],
                    description=data["description"],
                    expectation=data.get("expectation", ""),
                    vehicle=vehicle,
                    dealer=data.get("dealer"),
                    repair_orders=orders,
                ),
                model=Complaint,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return self._render(request, form)
        messages.success(
            request,
            _("Complaint %(number)s received.") % {"number": complaint.number},
        )
        if safe_next(request):
            return redirect(safe_next(request))
        return redirect("complaint-detail", pk=complaint.pk)


# ---------------------------------------------------------------- workbench


class WorkbenchView(TabsMixin, CappedListView):
    """The complaint specialist's queues as tabs with capped counts."""

    permission = "complaints.file_complaint"
    template_name = "complaints/workbench.html"
    tab = "complaint-workbench"

    def dispatch(self, request, *args, **kwargs):
        self.now = timezone.now()
        key = request.GET.get("queue") or selectors.QUEUE_KEYS[0]
        self.queue_key = key if key in selectors.QUEUE_KEYS else selectors.QUEUE_KEYS[0]
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        self.counts = selectors.queue_counts(self.request.user, now=self.now)
        self.known_count = self.counts[self.queue_key]
        return selectors.queue(self.request.user, self.queue_key, now=self.now)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        _annotate(context["object_list"], self.now)
        context.update(self.tabs_context())
        context["queues"] = [
            {
                "key": q.key,
                "label": q.label,
                "help": q.help,
                "count": self.counts[q.key],
                "capped": self.counts[q.key] > selectors.COUNT_CAP,
                "active": q.key == self.queue_key,
            }
            for q in selectors.QUEUES
        ]
        context["queue"] = self.queue_key
        context["cap"] = selectors.COUNT_CAP
        return context


# ---------------------------------------------------------------- lists


class ComplaintListView(TabsMixin, CappedListView):
    """The complaints in the user's scope: the dealer's assigned ones with the plan due,
    the region's dealers' (supervision), the OEM's; filters and a comment from the list."""

    permission = VIEW
    template_name = "complaints/list.html"
    tab = "complaint-list"

    def filters(self):
        get = self.request.GET
        status = get.get("status", "open")
        if status not in ("open", "closed", "all", *S.values):
            status = "open"
        dealer = get.get("dealer", "")
        region = get.get("region", "")
        return {
            "status": status,
            "dealer": int(dealer) if dealer.isdigit() else None,
            "region": int(region) if region.isdigit() else None,
            "overdue": get.get("overdue") == "1",
            "q": get.get("q", "")[:40],
        }

    def get_queryset(self):
        filters = self.filters()
        return selectors.search(
            self.request.user,
            status="" if filters["status"] == "all" else filters["status"],
            dealer=filters["dealer"],
            region=filters["region"],
            overdue=filters["overdue"],
            q=filters["q"],
        )

    def get_context_data(self, **kwargs):
        from aftersales.org.models import Region

        context = super().get_context_data(**kwargs)
        rows = _annotate(context["object_list"])
        due = selectors.open_plan_due(r.pk for r in rows)
        user = self.request.user
        for row in rows:
            row.plan_due = due.get(row.pk)
            row.may_comment = services.may(
                user, "complaints.comment_complaint", row
            ) or services.may(user, "complaints.handle_complaint", row)
        scope = user_scope(user, VIEW)
        dealers = list(_dealers_in(user, VIEW)[:300])
        context.update(self.tabs_context())
        context.update(
            filters=self.filters(),
            statuses=[
                ("open", pgettext("status", "Open")),
                *S.choices,
                ("closed", _("Finished")),
                ("all", _("All")),
            ],
            dealers=dealers if len(dealers) > 1 else [],
            regions=list(Region.objects.order_by("code")) if scope.everything else [],
            now=timezone.now(),
        )
        return context


def _may_see_vrt_tasks(user) -> bool:
    return user_has_perm(user, "complaints.support_complaint") or selectors.is_vrt_member(user)


class VrtTaskView(TabsMixin, CappedListView):
    """Open VRT steps where the user is a member; every open one for the technical-support
    specialists."""

    permission = "complaints.support_complaint"
    template_name = "complaints/vrt_tasks.html"
    tab = "complaint-vrt-tasks"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _may_see_vrt_tasks(request.user):
            raise PermissionDenied
        return super(PermissionPage, self).dispatch(request, *args, **kwargs)

    def get_queryset(self):
        everyone = user_has_perm(self.request.user, "complaints.support_complaint")
        if everyone and self.request.GET.get("mine") == "1":
            everyone = False
        self.everyone = everyone
        return selectors.vrt_tasks(self.request.user, everyone=everyone)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context())
        context["everyone"] = self.everyone
        context["may_all"] = user_has_perm(self.request.user, "complaints.support_complaint")
        context["now"] = timezone.now()
        return context


class FollowUpListView(TabsMixin, CappedListView):
    """Satisfaction follow-ups due after closure, for the customer-service agents."""

    permission = "complaints.judge_complaint"
    template_name = "complaints/follow_ups.html"
    tab = "complaint-follow-ups"

    def get_queryset(self):
        self.done = self.request.GET.get("done") == "1"
        return selectors.follow_ups(self.request.user, done=self.done)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context())
        context["done"] = self.done
        context["now"] = timezone.now()
        context["outcomes"] = f.FollowUpForm.base_fields["outcome"].choices
        return context


# ---------------------------------------------------------------- one complaint


def _holds_decider_role(user, escalation, complaint) -> bool:
    escalation.complaint = complaint
    return services.may_decide(user, escalation)


def _actions(user, complaint) -> dict:
    """Which forms the complaint page offers this user now (the services check again)."""

    def may(perm):
        return services.may(user, perm, complaint)

    status = complaint.status
    steps = list(complaint.steps.all())
    open_kinds = {s.kind for s in steps if s.status == StepStatus.OPEN}
    running = status in RUNNING
    files = may("complaints.file_complaint")
    handles = may("complaints.handle_complaint")
    if status == S.NEW:
        judge = files if complaint.channel == Channel.DEALER else may("complaints.judge_complaint")
    else:
        judge = status == S.TO_FILE and files
    quality = complaint.category == Category.QUALITY
    open_step = running and (
        (
            quality
            and StepKind.VRT not in open_kinds
            and (files or may("complaints.support_complaint"))
        )
        or (not quality and StepKind.PROPOSAL not in open_kinds and files)
    )
    record = [
        s
        for s in steps
        if s.status == StepStatus.OPEN
        and (
            (s.kind == StepKind.VRT and any(m.pk == user.pk for m in s.members.all()))
            or (s.kind == StepKind.PROPOSAL and files)
        )
    ]
    region_side = (
        may("complaints.comment_complaint")
        and complaint.region_id
        and not user_scope(user, "complaints.comment_complaint").everything
    )
    acknowledge = [
        s
        for s in steps
        if s.status == StepStatus.DONE
        and s.kind in (StepKind.VRT, StepKind.PROPOSAL)
        and (
            (handles and not s.acknowledged_by_dealer_at)
            or (not handles and region_side and not s.acknowledged_by_region_at)
        )
    ]
    plan_done = any(s.kind == StepKind.PLAN and s.status == StepStatus.DONE for s in steps)
    decide = [
        e
        for e in complaint.escalations.all()
        if e.decided_at is None and _holds_decider_role(user, e, complaint)
    ]
    follow_ups = (
        [u for u in complaint.follow_ups.all() if u.done_at is None]
        if may("complaints.judge_complaint")
        else []
    )
    settings_row = ComplaintSettings.current()
    return {
        "judge": judge,
        "file": status == S.TO_FILE and files,
        "assign": status == S.FILED and files,
        "set_limit": running and files,
        "open_step": open_step,
        "record_step": record,
        "acknowledge": acknowledge,
        "plan": status == S.HANDLING and handles and (StepKind.PLAN in open_kinds or not plan_done),
        "execution": status == S.HANDLING and handles and StepKind.EXECUTION in open_kinds,
        "comment": may("complaints.comment_complaint") or handles,
        "pause": running
        and files
        and complaint.paused_since is None
        and settings_row.pause_allowed,
        "resume": running and files and complaint.paused_since is not None,
        "escalate": running and may("complaints.escalate_complaint"),
        "decide": decide,
        "close": status in (S.FILED, S.HANDLING) and may("complaints.close_complaint"),
        "reopen": status == S.CLOSED and complaint.dealer_id and may("complaints.close_complaint"),
        "follow_up": follow_ups,
    }


def _initial_forms(request, complaint, actions):
    """A fresh form for each action the user may take."""
    from aftersales.org.models import Region

    version = {"version": complaint.version}
    built = {}
    if actions["judge"]:
        built["judge"] = f.JudgeForm(initial=version, prefix="judge")
        if complaint.status == S.TO_FILE:
            built["judge"].fields["decision"].choices = [f.JUDGE_DECISIONS[0]]
    if actions["file"]:
        built["file"] = f.FileForm(initial=version, prefix="file")
    if actions["assign"]:
        built["assign"] = f.AssignForm(
            initial=version,
            prefix="assign",
            regions=Region.objects.order_by("code"),
            dealers=_dealers_in(request.user, "complaints.file_complaint"),
        )
    if actions["set_limit"]:
        built["set_limit"] = f.LimitForm(
            initial={**version, "limit_days": complaint.limit_days}, prefix="limit"
        )
    if actions["open_step"]:
        form = f.StepOpenForm(initial=version, prefix="step", members=_oem_staff())
        if complaint.category == Category.QUALITY:
            form.fields["kind"].choices = [(StepKind.VRT, StepKind.VRT.label)]
        else:
            form.fields["kind"].choices = [(StepKind.PROPOSAL, StepKind.PROPOSAL.label)]
            del form.fields["members"]
        built["open_step"] = form
    if actions["plan"]:
        built["plan"] = f.PlanForm(initial=version, prefix="plan")
    if actions["execution"]:
        built["execution"] = f.ExecutionForm(initial=version, prefix="execution")
    if actions["comment"]:
        built["comment"] = f.CommentForm(prefix="comment")
    if actions["pause"]:
        built["pause"] = f.ReasonForm(initial=version, prefix="pause")
    if actions["escalate"]:
        built["escalate"] = f.EscalateForm(initial=version, prefix="escalate")
    if actions["close"]:
        built["close"] = f.CloseForm(initial=version, prefix="close")
    if actions["reopen"]:
        built["reopen"] = f.LongReasonForm(initial=version, prefix="reopen")
    return built


def _item_forms(actions, failed_action=None, failed_form=None):
    """The per-row forms (record a step, acknowledge, decide, follow up), each keyed by
    its row; a failed one keeps its errors."""

    def pick(action, pk, make):
        if failed_action == action and failed_form is not None:
            try:
                if int(failed_form.data.get(f"{action}-{_ROW_FIELD[action]}", 0)) == pk:
                    return failed_form
            except (TypeError, ValueError):
                pass
        return make()

    return {
        "record_step": [
            (
                s,
                pick(
                    "record_step",
                    s.pk,
                    lambda s=s: f.StepRecordForm(initial={"step": s.pk}, prefix="record_step"),
                ),
            )
            for s in actions["record_step"]
        ],
        "acknowledge": [
            (s, f.StepForm(initial={"step": s.pk}, prefix="acknowledge"))
            for s in actions["acknowledge"]
        ],
        "decide": [
            (
                e,
                pick(
                    "decide",
                    e.pk,
                    lambda e=e: f.DecideForm(
                        initial={"escalation": e.pk, "approved_amount": e.amount or None},
                        prefix="decide",
                    ),
                ),
            )
            for e in actions["decide"]
        ],
        "follow_up": [
            (
                u,
                pick(
                    "follow_up",
                    u.pk,
                    lambda u=u: f.FollowUpForm(initial={"follow_up": u.pk}, prefix="follow_up"),
                ),
            )
            for u in actions["follow_up"]
        ],
    }


_ROW_FIELD = {"record_step": "step", "decide": "escalation", "follow_up": "follow_up"}


def _detail(request, complaint, *, failed_action=None, failed_form=None, status=200):
    _annotate([complaint])
    actions = _actions(request.user, complaint)
    page_forms = _initial_forms(request, complaint, actions)
    if failed_form is not None and failed_action in page_forms:
        page_forms[failed_action] = failed_form
    steps = list(complaint.steps.all())
    context = {
        "complaint": complaint,
        "actions": actions,
        "forms": page_forms,
        "rows": _item_forms(actions, failed_action, failed_form),
        "steps": steps,
        "support_steps": [s for s in steps if s.kind in (StepKind.VRT, StepKind.PROPOSAL)],
        "dealer_steps": [s for s in steps if s.kind in (StepKind.PLAN, StepKind.EXECUTION)],
        "escalations": list(complaint.escalations.all()),
        "events": list(complaint.events.all())[::-1],
        "failed_action": failed_action,
        "region_of_dealer": {},
        "dealer_regions": [],
        "pause_allowed": ComplaintSettings.current().pause_allowed,
        "may_view_crm": user_has_perm(request.user, "crm.view_vehicle"),
        "may_view_ro": user_has_perm(request.user, "workorders.view_repairorder"),
    }
    if "assign" in page_forms:
        context["dealer_regions"] = [
            (d.pk, d.region_id, f"{d.code} {d.name}")
            for d in page_forms["assign"].fields["dealer"].queryset
        ]
    context.update(_tabs_for(request, ""))
    return render(request, "complaints/detail.html", context, status=status)


class ComplaintDetailView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        return _detail(request, _complaint(request, pk))


# -------------------------------------------- actions: gate, form, service call


def _row(rows, pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    for row in rows:
        if row.pk == pk:
            return row
    raise Http404


def _run_judge(request, c, d):
    services.complaint_judge(
        actor=request.user,
        complaint=c,
        decision=d["decision"],
        judgement=d.get("judgement", ""),
        reply=d.get("reply", ""),
        version=d.get("version"),
    )
    return _("Complaint %(number)s judged.")


def _run_file(request, c, d):
    services.complaint_file(
        actor=request.user,
        complaint=c,
        category=d["category"],
        grade=d["grade"],
        limit_days=d.get("limit_days"),
        version=d.get("version"),
    )
    return _("Complaint %(number)s filed; the clock runs.")


def _run_assign(request, c, d):
    services.complaint_assign(
        actor=request.user,
        complaint=c,
        dealer=d["dealer"],
        region=d.get("region"),
        plan_days=d.get("plan_days"),
        version=d.get("version"),
    )
    return _("Complaint %(number)s assigned.")


def _run_set_limit(request, c, d):
    services.complaint_set_limit(
        actor=request.user,
        complaint=c,
        limit_days=d["limit_days"],
        reason=d["reason"],
        version=d.get("version"),
    )
    return _("Time limit of %(number)s changed.")


def _run_open_step(request, c, d):
    services.step_open(
        actor=request.user,
        complaint=c,
        kind=d["kind"],
        limit_days=d.get("limit_days"),
        members=list(d.get("members") or []),
        departments=d.get("departments", ""),
        version=d.get("version"),
    )
    return _("Support asked for on %(number)s.")


def _run_record_step(request, c, d):
    step = _row(c.steps.all(), d["step"])
    services.step_record(
        actor=request.user,
        step=step,
        conclusion=d.get("conclusion", ""),
        solution=d.get("solution", ""),
        defect_exists=d["_form"].defect(),
        responsibility=d.get("responsibility", ""),
        no_result=d.get("no_result", False),
    )
    return _("Result recorded on %(number)s.")


def _run_acknowledge(request, c, d):
    services.step_acknowledge(actor=request.user, step=_row(c.steps.all(), d["step"]))
    return _("Acknowledged.")


def _run_plan(request, c, d):
    services.plan_submit(
        actor=request.user,
        complaint=c,
        plan=d["plan"],
        goodwill_amount=d.get("goodwill_amount"),
        version=d.get("version"),
    )
    return _("Handling plan of %(number)s submitted.")


def _run_execution(request, c, d):
    services.plan_execution_record(
        actor=request.user, complaint=c, report=d["report"], version=d.get("version")
    )
    return _("Execution of %(number)s reported.")


def _run_comment(request, c, d):
    services.complaint_comment(actor=request.user, complaint=c, text=d["text"])
    return _("Comment added to %(number)s.")


def _run_pause(request, c, d):
    services.complaint_pause(
        actor=request.user, complaint=c, reason=d["reason"], version=d.get("version")
    )
    return _("Clock of %(number)s paused.")


def _run_resume(request, c, d):
    services.complaint_resume(actor=request.user, complaint=c, version=d.get("version"))
    return _("Clock of %(number)s resumed.")


def _run_escalate(request, c, d):
    services.complaint_escalate(
        actor=request.user,
        complaint=c,
        note=d["note"],
        amount=d.get("amount"),
        version=d.get("version"),
    )
    return _("Complaint %(number)s escalated.")


def _run_decide(request, c, d):
    escalation = _row(c.escalations.all(), d["escalation"])
    services.escalation_decide(
        actor=request.user,
        escalation=escalation,
        decision=d["decision"],
        approved_amount=d.get("approved_amount"),
    )
    return _("Decision recorded on %(number)s.")


def _run_close(request, c, d):
    services.complaint_close(
        actor=request.user,
        complaint=c,
        condition=d["condition"],
        evidence=d["evidence"],
        version=d.get("version"),
    )
    return _("Complaint %(number)s closed.")


def _run_reopen(request, c, d):
    services.complaint_reopen(
        actor=request.user, complaint=c, reason=d["reason"], version=d.get("version")
    )
    return _("Complaint %(number)s reopened.")


def _run_follow_up(request, c, d):
    follow_up = _row(c.follow_ups.all(), d["follow_up"])
    services.follow_up_record(
        actor=request.user,
        follow_up=follow_up,
        outcome=d["outcome"],
        score=d.get("score"),
        remarks=d.get("remarks", ""),
        care_action=d.get("care_action", ""),
    )
    return _("Follow-up of %(number)s recorded.")


def _assign_form(request, data):
    from aftersales.org.models import Region

    return f.AssignForm(
        data,
        prefix="assign",
        regions=Region.objects.order_by("code"),
        dealers=_dealers_in(request.user, "complaints.file_complaint"),
    )


def _step_open_form(request, data):
    return f.StepOpenForm(data, prefix="step", members=_oem_staff())


def _any(*perms):
    return lambda user, c: any(services.may(user, p, c) for p in perms)


# action → (form builder, gate, service call). The gate refuses (403) someone who could
# never use the action on this complaint; everything else the service decides.
ACTIONS = {
    "judge": (
        lambda r, d: f.JudgeForm(d, prefix="judge"),
        _any("complaints.judge_complaint", "complaints.file_complaint"),
        _run_judge,
    ),
    "file": (
        lambda r, d: f.FileForm(d, prefix="file"),
        _any("complaints.file_complaint"),
        _run_file,
    ),
    "assign": (_assign_form, _any("complaints.file_complaint"), _run_assign),
    "set_limit": (
        lambda r, d: f.LimitForm(d, prefix="limit"),
        _any("complaints.file_complaint"),
        _run_set_limit,
    ),
    "open_step": (
        _step_open_form,
        _any("complaints.file_complaint", "complaints.support_complaint"),
        _run_open_step,
    ),
    "record_step": (
        lambda r, d: f.StepRecordForm(d, prefix="record_step"),
        lambda user, c: True,  # a VRT member needs no permission beyond seeing it
        _run_record_step,
    ),
    "acknowledge": (
        lambda r, d: f.StepForm(d, prefix="acknowledge"),
        _any("complaints.handle_complaint", "complaints.comment_complaint"),
        _run_acknowledge,
    ),
    "plan": (
        lambda r, d: f.PlanForm(d, prefix="plan"),
        _any("complaints.handle_complaint"),
        _run_plan,
    ),
    "execution": (
        lambda r, d: f.ExecutionForm(d, prefix="execution"),
        _any("complaints.handle_complaint"),
        _run_execution,
    ),
    "comment": (
        lambda r, d: f.CommentForm(d, prefix="comment"),
        _any("complaints.comment_complaint", "complaints.handle_complaint"),
        _run_comment,
    ),
    "pause": (
        lambda r, d: f.ReasonForm(d, prefix="pause"),
        _any("complaints.file_complaint"),
        _run_pause,
    ),
    "resume": (
        lambda r, d: f.VersionedForm(d, prefix="resume"),
        _any("complaints.file_complaint"),
        _run_resume,
    ),
    "escalate": (
        lambda r, d: f.EscalateForm(d, prefix="escalate"),
        _any("complaints.escalate_complaint"),
        _run_escalate,
    ),
    "decide": (
        lambda r, d: f.DecideForm(d, prefix="decide"),
        _any("complaints.decide_complaint"),
        _run_decide,
    ),
    "close": (
        lambda r, d: f.CloseForm(d, prefix="close"),
        _any("complaints.close_complaint"),
        _run_close,
    ),
    "reopen": (
        lambda r, d: f.LongReasonForm(d, prefix="reopen"),
        _any("complaints.close_complaint"),
        _run_reopen,
    ),
    "follow_up": (
        lambda r, d: f.FollowUpForm(d, prefix="follow_up"),
        _any("complaints.judge_complaint"),
        _run_follow_up,
    ),
}


class ComplaintActionView(PermissionPage, View):
    """One form of the complaint page (or of a list: ``next`` leads back there)."""

    permission = VIEW

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404
        complaint = _complaint(request, pk)
        build, gate, run = ACTIONS[action]
        if not gate(request.user, complaint):
            raise PermissionDenied
        form = build(request, request.POST)
        back = safe_next(request)
        if form.is_valid():
            try:
                text = run(request, complaint, {**form.cleaned_data, "_form": form})
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, text % {"number": complaint.number})
                return redirect(back or reverse("complaint-detail", args=[complaint.pk]))
        if back:
            problems = [str(e) for errors in form.errors.values() for e in errors]
            messages.error(
                request,
                _("%(number)s: not done. %(problems)s")
                % {"number": complaint.number, "problems": " ".join(problems)},
            )
            return redirect(back)
        complaint = _complaint(request, pk)
        return _detail(request, complaint, failed_action=action, failed_form=form)


# ---------------------------------------------------------------- legal cases


class CaseListView(TabsMixin, CappedListView):
    permission = "complaints.view_legalcase"
    template_name = "complaints/case_list.html"
    tab = "complaint-case-list"

    def get_queryset(self):
        self.status = self.request.GET.get("status", "")
        self.status = self.status if self.status in CaseStatus.values else ""
        self.kind = self.request.GET.get("kind", "")
        self.kind = self.kind if self.kind in CaseKind.values else ""
        return selectors.cases(self.request.user, status=self.status, kind=self.kind)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context())
        context.update(
            status=self.status,
            kind=self.kind,
            statuses=CaseStatus.choices,
            kinds=CaseKind.choices,
            may_add=user_has_perm(self.request.user, "complaints.add_legalcase"),
        )
        return context


def _case_staff():
    return _oem_staff(["legal", "marketing_pr", "complaint_specialist"])


class CaseNewView(TabsMixin, PermissionPage, View):
    permission = "complaints.add_legalcase"
    tab = "complaint-case-list"

    def _render(self, request, form):
        return render(request, "complaints/case_new.html", {"form": form, **self.tabs_context()})

    def get(self, request):
        initial = {"opened_on": timezone.localdate()}
        number = request.GET.get("complaint", "")
        if number:
            initial["complaint_numbers"] = number
        return self._render(request, f.CaseForm(initial=initial, staff=_case_staff()))

    def post(self, request):
        form = f.CaseForm(request.POST, staff=_case_staff())
        if form.is_valid():
            numbers = form.numbers()
            found = list(selectors.complaints(request.user).filter(number__in=numbers))
            missing = sorted(set(numbers) - {c.number for c in found})
            if missing:
                form.add_error(
                    "complaint_numbers",
                    _("No complaint numbered: %(numbers)s.") % {"numbers": ", ".join(missing)},
                )
            else:
                data = form.cleaned_data
                try:
                    case = services.case_open(
                        actor=request.user,
                        kind=data["kind"],
                        title=data["title"],
                        complaints=found,
                        opened_on=data.get("opened_on"),
                        staff=list(data.get("staff") or []),
                        body=data.get("body", ""),
                        description=data.get("description", ""),
                    )
                except ServiceError as exc:
                    put_errors(form, exc)
                else:
                    messages.success(
                        request, _("Case %(number)s recorded.") % {"number": case.number}
                    )
                    return redirect("complaint-case-detail", pk=case.pk)
        return self._render(request, form)


def _case(request, pk):
    return get_object_or_404(
        LegalCase.objects.restrict(request.user, "view").prefetch_related(
            "complaints__dealer", "staff"
        ),
        pk=pk,
    )


def _case_page(request, case, form=None):
    may_change = user_has_perm(request.user, "complaints.change_legalcase")
    if form is None and may_change and case.status == CaseStatus.OPEN:
        form = f.CaseUpdateForm(
            initial={
                "hearing_on": case.hearing_on,
                "outcome": case.outcome,
                "staff": [u.pk for u in case.staff.all()],
            },
            staff=_case_staff(),
        )
    context = {"case": case, "form": form, **_tabs_for(request, "complaint-case-list")}
    return render(request, "complaints/case_detail.html", context)


def _tabs_for(request, tab):
    return {"complaint_tabs": _tabs(request.user), "complaint_tab": tab}


class CaseDetailView(PermissionPage, View):
    permission = "complaints.view_legalcase"

    def get(self, request, pk):
        return _case_page(request, _case(request, pk))


class CaseUpdateView(PermissionPage, View):
    permission = "complaints.change_legalcase"

    def post(self, request, pk):
        case = _case(request, pk)
        form = f.CaseUpdateForm(request.POST, staff=_case_staff())
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.case_update(
                    actor=request.user,
                    case=case,
                    hearing_on=data.get("hearing_on"),
                    outcome=data.get("outcome", ""),
                    closed_on=data.get("closed_on"),
                    staff=list(data.get("staff") or []),
                )
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Case %(number)s saved.") % {"number": case.number})
                return redirect("complaint-case-detail", pk=case.pk)
        return _case_page(request, case, form)


# ---------------------------------------------------------------- settings


def _roles():
    from aftersales.org.roles import Role

    return Role.choices


def _settings_page(request, form=None, formset=None, status=200):
    row = ComplaintSettings.current()
    levels = list(GoodwillLevel.objects.order_by("min_amount"))
    may_change = user_has_perm(request.user, "complaints.change_complaintsettings")
    may_change_matrix = user_has_perm(request.user, "complaints.change_goodwilllevel")
    if form is None:
        form = f.SettingsForm(initial=f.SettingsForm.initial_from(row))
    if formset is None:
        formset = f.GoodwillFormSet(
            initial=[{"max_amount": lv.max_amount, "role": lv.role} for lv in levels],
            prefix="levels",
            form_kwargs={"roles": _roles()},
        )
    role_labels = dict(_roles())
    context = {
        "settings_row": row,
        "form": form,
        "formset": formset,
        "levels": [(lv, role_labels.get(lv.role, lv.role)) for lv in levels],
        "may_change": may_change,
        "may_change_matrix": may_change_matrix,
        **_tabs_for(request, "complaint-settings"),
    }
    return render(request, "complaints/settings.html", context, status=status)


class SettingsView(PermissionPage, View):
    """The OEM's complaint rules and the goodwill authorization matrix."""

    permission = "complaints.view_complaintsettings"

    def get(self, request):
        return _settings_page(request)


class SettingsSaveView(PermissionPage, View):
    permission = "complaints.change_complaintsettings"

    def post(self, request):
        form = f.SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.settings_update(actor=request.user, **form.changes())
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Complaint rules saved."))
                return redirect("complaint-settings")
        return _settings_page(request, form=form)


class GoodwillSaveView(PermissionPage, View):
    permission = "complaints.change_goodwilllevel"

    def post(self, request):
        formset = f.GoodwillFormSet(request.POST, prefix="levels", form_kwargs={"roles": _roles()})
        if formset.is_valid():
            levels = [
                {
                    "max_amount": form.cleaned_data.get("max_amount"),
                    "role": form.cleaned_data["role"],
                }
                for form in formset.forms
                if form.cleaned_data.get("role")
            ]
            try:
                services.goodwill_matrix_set(actor=request.user, levels=levels)
            except ServiceError as exc:
                formset._non_form_errors = formset.error_class(
                    [error_text(exc)], renderer=formset.renderer
                )
            else:
                messages.success(request, _("Goodwill authorization matrix saved."))
                return redirect("complaint-settings")
        return _settings_page(request, formset=formset)
