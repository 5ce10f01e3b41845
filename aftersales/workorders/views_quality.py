"""Quality pages: the repair order's quality panel (self-check, QC, ready, delivery check,
closing, follow-up status), the inspector's QC queue and the DCRC's follow-up queue and
call form.

Panel actions answer with the re-rendered panel and ``HX-Trigger: ro-changed`` so the
order's header and the other panels refresh; a refused action shows its reason in the
panel (status 200) and changes nothing."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.access import allowed_at
from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.crm.selectors import shown_mobile
from aftersales.workorders import selectors
from aftersales.workorders.choices import CallOutcome, FollowUpStatus, ROStatus
from aftersales.workorders.delivery import (
    delivery_checks_for,
    delivery_record,
    repair_order_close,
    repair_order_ready,
)
from aftersales.workorders.followup import (
    DONE,
    DUE_CHOICES,
    DUE_NOW,
    NPS,
    NPS_LABEL,
    NPS_RANGE,
    QUESTIONS,
    SCORE_RANGE,
    follow_up_record_call,
    follow_ups,
)
from aftersales.workorders.models import FollowUp, RepairOrder
from aftersales.workorders.quality import (
    QC_ITEMS,
    SELF_CHECK_ITEMS,
    check_history,
    qc_record,
    self_check_record,
    self_check_refusal,
    worked_on,
)
from aftersales.workorders.transitions import may, refusals

S = ROStatus
FOLLOW_UP_PAGE = 25
QC_QUEUE_PAGE = 50


def _dealer_of(obj):
    from aftersales.org.models import Dealer

    return Dealer(pk=obj.dealer_id)


def _messages(found) -> list[str]:
    return [r.message for r in found]


def panel_context(request, order: RepairOrder, *, error: str = "", done: str = "") -> dict:
    user = request.user
    status = order.status
    ctx = {
        "order": order,
        "history": check_history(order),
        "error": error,
        "done": done,
        "self_items": list(SELF_CHECK_ITEMS.items()),
        "qc_items": list(QC_ITEMS.items()),
    }
    # technician's self-check
    if status in (S.IN_PROGRESS, S.REWORK) and may(user, "workorders.work_repairorder", order):
        refusal = self_check_refusal(order, user)
        ctx["self_check"] = {
            "refusal": refusal,
            "blocked": [] if refusal else _messages(refusals(order, S.SELF_CHECKED, user)),
        }
    # inspector's QC
    if status == S.SELF_CHECKED and may(user, "workorders.inspect_repairorder", order):
        ctx["qc"] = {
            "same_person": worked_on(order, user),
        }
    # advisor: ready, delivery check
    can_deliver = may(user, "workorders.deliver_repairorder", order)
    if status == S.QC_PASSED and can_deliver:
        ctx["ready"] = {"blocked": _messages(refusals(order, S.READY, user))}
    if status == S.READY and can_deliver:
        saved = order.delivery_checks or {}
        ctx["delivery"] = {
            "items": [
                (key, label, saved.get(key) is True)
                for key, label in delivery_checks_for(order).items()
            ],
        }
    # cashier
    if status == S.DELIVERED and may(user, "workorders.close_repairorder", order):
        ctx["close"] = {"blocked": _messages(refusals(order, S.CLOSED, user))}
    # follow-up
    fu = FollowUp.objects.filter(repair_order=order).first()
    if fu is not None and allowed_at(user, "workorders.view_followup", dealer=_dealer_of(fu)):
        ctx["follow_up"] = fu
        ctx["follow_up_answers"] = _answers(fu)
    return ctx


def _answers(fu: FollowUp) -> list[tuple[str, int | None]]:
    rows = [(str(label), fu.scores.get(key)) for key, label in QUESTIONS.items()]
    if NPS in fu.scores:
        rows.append((str(NPS_LABEL), fu.scores[NPS]))
    return rows


def render_panel(request, order, *, error="", done="", changed=False):
    order.refresh_from_db()
    response = render(
        request,
        "workorders/quality_panel.html",
        panel_context(request, order, error=error, done=done),
    )
    if changed:
        response["HX-Trigger"] = "ro-changed"
    return response


class QualityPanelView(PermissionPage, View):
    """The quality tab of the repair order (an htmx fragment)."""

    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        return render_panel(request, order)


def _ticked(post, checklist) -> dict[str, bool]:
    return {key: post.get(key) in ("on", "1", "true", "yes") for key in checklist}


class _PanelAction(PermissionPage, View):
    """POST one quality step from the panel; the order must be one the user may act on
    (``action``: the permission verb), otherwise 404."""

    action = "view"

    def post(self, request, pk):
        order = selectors.order_or_404(request.user, pk, self.action)
        version = request.POST.get("version") or order.version
        try:
            message = self.act(request, order, version)
        except ServiceError as failure:
            return render_panel(request, order, error=str(failure.message))
        return render_panel(request, order, done=message, changed=True)


class SelfCheckView(_PanelAction):
    permission = "workorders.work_repairorder"
    action = "work"

    def act(self, request, order, version):
        self_check_record(
            actor=request.user,
            repair_order=order,
            version=version,
            items=_ticked(request.POST, SELF_CHECK_ITEMS),
            remarks=request.POST.get("remarks", ""),
        )
        return _("Self-check recorded: the order waits for QC.")


class QcView(_PanelAction):
    permission = "workorders.inspect_repairorder"
    action = "inspect"

    def act(self, request, order, version):
        passed = request.POST.get("result") == "pass"
        qc_record(
            actor=request.user,
            repair_order=order,
            version=version,
            items=_ticked(request.POST, QC_ITEMS),
            passed=passed,
            reason=request.POST.get("reason", ""),
        )
        return _("QC passed.") if passed else _("QC failed: the order goes back to rework.")


class ReadyView(_PanelAction):
    permission = "workorders.deliver_repairorder"
    action = "deliver"

    def act(self, request, order, version):
        repair_order_ready(actor=request.user, repair_order=order, version=version)
        return _("Ready for delivery: the customer has been told.")


class DeliverView(_PanelAction):
    permission = "workorders.deliver_repairorder"
    action = "deliver"

    def act(self, request, order, version):
        delivery_record(
            actor=request.user,
            repair_order=order,
            version=version,
            checks=_ticked(request.POST, delivery_checks_for(order)),
            remarks=request.POST.get("remarks", ""),
        )
        return _("Delivered. The follow-up call is scheduled.")


class CloseView(_PanelAction):
    permission = "workorders.close_repairorder"
    action = "close"

    def act(self, request, order, version):
        repair_order_close(actor=request.user, repair_order=order, version=version)
        return _("Closed: settled at the cashier.")


# ---------------------------------------------------------------- queues


class QcQueueView(PermissionPage, View):
    """Orders self-checked and waiting for an inspector at the user's dealers, oldest
    first."""

    permission = "workorders.inspect_repairorder"

    def get(self, request):
        rows = (
            RepairOrder.objects.restrict(request.user, "inspect")
            .filter(status=S.SELF_CHECKED)
            .select_related("vehicle", "service_advisor", "dealer")
            .order_by("work_done_at", "id")
        )
        page = Paginator(rows, QC_QUEUE_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "workorders/quality_qc_queue.html",
            {
                "page_obj": page,
                "paginator": page.paginator,
                "is_paginated": page.has_other_pages(),
                "object_list": page.object_list,
                "now": timezone.now(),
            },
        )


class FollowUpListView(PermissionPage, View):
    """The DCRC queue: due now, overdue, upcoming, done."""

    permission = "workorders.view_followup"

    def get(self, request):
        tab = request.GET.get("tab") or DUE_NOW
        if tab not in DUE_CHOICES:
            tab = DUE_NOW
        rows = follow_ups(request.user, due=tab)
        page = Paginator(rows, FOLLOW_UP_PAGE).get_page(request.GET.get("page"))
        for fu in page.object_list:
            customer = fu.repair_order.customer
            fu.customer_name = customer.name if customer else fu.repair_order.contact_name
            mobile = fu.repair_order.contact_mobile or (customer.mobile if customer else "")
            fu.shown_mobile = shown_mobile(request.user, mobile) if mobile else ""
        return render(
            request,
            "workorders/followup_list.html",
            {
                "tab": tab,
                "tabs": list(DUE_CHOICES.items()),
                "page_obj": page,
                "paginator": page.paginator,
                "is_paginated": page.has_other_pages(),
                "object_list": page.object_list,
                "now": timezone.now(),
                "done_tab": DONE,
            },
        )


def _follow_up_or_404(user, pk, action="view"):
    return get_object_or_404(
        FollowUp.objects.restrict(user, action).select_related(
            "repair_order",
            "repair_order__vehicle",
            "repair_order__customer",
            "repair_order__service_advisor",
        ),
        pk=pk,
    )


def _detail_context(request, fu, *, error="", fields=None, posted=None):
    order = fu.repair_order
    customer = order.customer
    mobile = order.contact_mobile or (customer.mobile if customer else "")
    posted = posted or {}
    fields = fields or {}
    questions = [
        (
            key,
            label,
            [(n, str(n) == str(posted.get(key, fu.scores.get(key, "")))) for n in SCORE_RANGE],
            fields.get(key, []),
        )
        for key, label in QUESTIONS.items()
    ]
    nps_value = str(posted.get(NPS, fu.scores.get(NPS, "")))
    return {
        "fu": fu,
        "order": order,
        "customer_name": customer.name if customer else order.contact_name,
        "mobile": shown_mobile(request.user, mobile) if mobile else "",
        "calls": fu.calls.select_related("called_by"),
        "questions": questions,
        "nps": [(n, str(n) == nps_value) for n in NPS_RANGE],
        "nps_label": NPS_LABEL,
        "outcomes": CallOutcome.choices,
        "outcome": posted.get("outcome", ""),
        "remarks": posted.get("remarks", ""),
        "open": fu.status == FollowUpStatus.OPEN,
        "can_call": fu.status == FollowUpStatus.OPEN
        and allowed_at(request.user, "workorders.change_followup", dealer=_dealer_of(fu)),
        "answers": _answers(fu),
        "error": error,
        "fields": fields,
    }


class FollowUpDetailView(PermissionPage, View):
    permission = "workorders.view_followup"

    def get(self, request, pk):
        fu = _follow_up_or_404(request.user, pk)
        return render(request, "workorders/followup_detail.html", _detail_context(request, fu))


class FollowUpCallView(PermissionPage, View):
    """POST one call's outcome, scores and remarks."""

    permission = "workorders.change_followup"

    def post(self, request, pk):
        fu = _follow_up_or_404(request.user, pk, "change")
        scores = {key: request.POST.get(key, "") for key in (*QUESTIONS, NPS)}
        try:
            fu = follow_up_record_call(
                actor=request.user,
                follow_up=fu,
                version=request.POST.get("version") or fu.version,
                outcome=request.POST.get("outcome", ""),
                scores=scores,
                remarks=request.POST.get("remarks", ""),
            )
        except ServiceError as failure:
            fu.refresh_from_db()
            ctx = _detail_context(
                request,
                fu,
                error=str(failure.message),
                fields=failure.fields,
                posted=request.POST,
            )
            return render(request, "workorders/followup_detail.html", ctx, status=failure.status)
        messages.success(
            request, _("Call recorded: %(status)s.") % {"status": fu.get_status_display()}
        )
        return redirect("follow-up-detail", pk=fu.pk)
