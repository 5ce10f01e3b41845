"""The repair-order page: a header (who, what, where it stands, the order-wide steps) and
one tab per area, each an htmx panel its area renders (reception, estimate, work,
quality) and reloads when any panel announces ``ro-changed``."""

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.workorders import selectors
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.orders import repair_order_cancel
from aftersales.workorders.transitions import GUARDS, may, refusals, repair_order_transition

S = ROStatus
# steps with no form of their own: the header offers them directly
GENERIC_STEPS = (S.DIAGNOSING, S.ESTIMATED)
TABS = (
    ("reception", "ro-reception-panel"),
    ("estimate", "ro-estimate-panel"),
    ("work", "ro-work-panel"),
    ("quality", "ro-quality-panel"),
    ("timeline", "ro-timeline-panel"),
)


def _steps(order, user):
    """The generic steps the user may take now, each with why it is not possible yet."""
    steps = []
    for target in GENERIC_STEPS:
        guard = GUARDS.get((order.status, target))
        if guard is None or not any(may(user, p, order) for p in guard.permissions):
            continue
        steps.append(
            {
                "to": target,
                "label": S(target).label,
                "refusals": [r.message for r in refusals(order, target, user)],
            }
        )
    return steps


def _settlement_links(order, user) -> dict:
    """Where the order goes next for money: its invoices, the cashier and the OEM claim."""
    from aftersales.billing.invoices import BILLABLE
    from aftersales.claims.services import CLAIMABLE_RO, open_claim_of
    from aftersales.workorders.choices import PayType

    links = {
        "may_invoice": order.status in BILLABLE and may(user, "billing.add_invoice", order),
        "may_see_invoices": may(user, "billing.view_invoice", order),
        "may_settle": may(user, "billing.view_payment", order),
        "claim": None,
        "may_claim": False,
        "claim_key": uuid.uuid4().hex,  # one per rendered button: a double click acts once
    }
    if may(user, "claims.view_warrantyclaim", order):
        links["claim"] = open_claim_of(order)
    if (
        links["claim"] is None
        and order.status in CLAIMABLE_RO
        and may(user, "claims.add_warrantyclaim", order)
    ):
        links["may_claim"] = order.lines.filter(pay_type=PayType.WARRANTY).exists()
    return links


def _header_context(order, user):
    cancel = GUARDS.get((order.status, S.CANCELLED))
    return {
        "order": order,
        "late": selectors.is_late(order),
        "steps": _steps(order, user),
        "can_cancel": cancel is not None and may(user, "workorders.cancel_repairorder", order),
        "printable": True,
        **_settlement_links(order, user),
    }


class RepairOrderDetailView(PermissionPage, View):
    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        context = _header_context(order, request.user)
        context["tabs"] = [(name, reverse(url, args=[order.pk])) for name, url in TABS]
        context["active_tab"] = request.GET.get("tab") or _default_tab(order)
        return render(request, "workorders/order_detail.html", context)


def _default_tab(order):
    if order.status in (S.DRAFT, S.CHECKED_IN, S.DIAGNOSING):
        return "reception"
    if order.status in (S.ESTIMATED, S.AWAITING_APPROVAL):
        return "estimate"
    if order.status in (S.APPROVED, S.IN_PROGRESS, S.WAITING_PARTS, S.PAUSED, S.REWORK):
        return "work"
    return "quality"


class RepairOrderHeaderView(PermissionPage, View):
    """The header alone, re-read when a panel announces a change."""

    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        return render(request, "workorders/order_header.html", _header_context(order, request.user))


class RepairOrderTransitionView(PermissionPage, View):
    """POST a generic step (``to``) or a cancellation (``reason``) with the version seen."""

    permission = "workorders.view_repairorder"

    def post(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        to = request.POST.get("to", "")
        version = request.POST.get("version") or None
        try:
            if to == S.CANCELLED:
                repair_order_cancel(
                    actor=request.user,
                    repair_order=order,
                    version=version,
                    reason=request.POST.get("reason", ""),
                )
            else:
                repair_order_transition(
                    repair_order=order,
                    to=to,
                    actor=request.user,
                    version=version,
                    note=request.POST.get("note", ""),
                )
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, S(to).label)
        return redirect("repair-order-detail", pk=order.pk)


class RepairOrderTimelineView(PermissionPage, View):
    """Every step of the order, oldest first, with who and when."""

    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        events = order.events.select_related("actor").order_by("at", "id")
        return render(request, "workorders/order_timeline.html", {"order": order, "events": events})
