"""The estimate panel of the repair-order page (htmx fragment, no base.html): lines by
kind with pay type, warranty, stock and the customer's decision; the add forms (labour
search, part number / barcode scanner input, sublet, fee, maintenance package); totals by
pay type; the terms; "send for approval"; the signature pad or "signed on paper"; the
decision buttons of additional lines.

Every action posts to ``ro-estimate-action`` with the order's ``version`` and answers with
the re-rendered panel and ``HX-Trigger: ro-changed``; a refused action shows its message
in the panel (status 200) and changes nothing."""

import base64
import binascii

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.access import user_has_perm
from aftersales.core.errors import ServiceError, ValidationFailed
from aftersales.workorders import authorization, estimate, labour
from aftersales.workorders.api.estimate import add_line
from aftersales.workorders.choices import (
    Approval,
    ApprovalChannel,
    LineKind,
    OldPartsDisposition,
    PaymentMethod,
    PayType,
    ROStatus,
)
from aftersales.workorders.models import LabourOperation, MaintenancePackage, RepairOrder
from aftersales.workorders.transitions import may, refusals

S = ROStatus
VIEW = "workorders.view_repairorder"
CHANGE = "workorders.change_repairorder"
AUTHORIZE = "workorders.authorize_repairorder"


def _order(user, pk, action="view"):
    return get_object_or_404(
        RepairOrder.objects.restrict(user, action).select_related(
            "vehicle__variant__vehicle_model", "dealer", "warehouse"
        ),
        pk=pk,
    )


def panel_context(request, order, *, error=None, fields=None):
    user = request.user
    lines = list(
        order.lines.select_related(
            "part", "operation", "reservation", "approval_recorded_by"
        ).order_by("position", "id")
    )
    for line in lines:
        line.stock = estimate.line_stock(line) if line.kind == LineKind.PART else None
    groups = [
        (kind, label, [line for line in lines if line.kind == kind])
        for kind, label in LineKind.choices
    ]
    can_change = may(user, CHANGE, order) and order.status not in (S.CLOSED, S.CANCELLED)
    can_authorize = may(user, AUTHORIZE, order) and order.status not in (S.CLOSED, S.CANCELLED)
    packages = []
    if can_change and order.vehicle.variant_id:
        packages = labour.packages_for(order.vehicle, order.odometer_km)[:8]
    try:
        suggestion = estimate.promised_time(order)
    except Exception:  # noqa: BLE001 - a suggestion must never break the panel
        suggestion = None
    send_refusals = (
        refusals(order, S.AWAITING_APPROVAL, user) if order.status == S.ESTIMATED else None
    )
    return {
        "order": order,
        "groups": groups,
        "lines": lines,
        "totals": estimate.estimate_totals(order),
        "pay_types": PayType.choices,
        "payment_methods": PaymentMethod.choices,
        "old_parts_choices": OldPartsDisposition.choices,
        "packages": packages,
        "suggestion": suggestion,
        "can_change": can_change,
        "can_authorize": can_authorize,
        "signable": order.status in authorization.SIGNABLE,
        "send_refusals": send_refusals,
        "pending_additional": [
            line for line in lines if line.additional and line.approval == Approval.PROPOSED
        ],
        "channels": [
            (c, label) for c, label in ApprovalChannel.choices if c != ApprovalChannel.SIGNATURE
        ],
        "error": error,
        "fields": fields or {},
    }


def render_panel(request, order, *, error=None, fields=None, changed=False):
    order.refresh_from_db()
    response = render(
        request,
        "workorders/estimate_panel.html",
        panel_context(request, order, error=error, fields=fields),
    )
    if changed:
        response["HX-Trigger"] = "ro-changed"
    return response


class PanelView(LoginRequiredMixin, View):
    raise_exception = False

    def get(self, request, pk):
        if not user_has_perm(request.user, VIEW):
            raise PermissionDenied
        order = _order(request.user, pk)
        return render(request, "workorders/estimate_panel.html", panel_context(request, order))


def _png_from_data_url(value):
    raw = str(value or "")
    if not raw:
        return None
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        message = _("The signature is not a readable PNG image.")
        raise ValidationFailed(message, code="invalid_signature") from None


class ActionView(LoginRequiredMixin, View):
    """One endpoint for the panel's forms: ``action`` names what to do."""

    raise_exception = False

    def post(self, request, pk):
        user = request.user
        if not (user_has_perm(user, CHANGE) or user_has_perm(user, AUTHORIZE)):
            raise PermissionDenied
        order = _order(user, pk)
        data = request.POST
        try:
            self.act(request, order, data.get("action"), data)
        except ServiceError as exc:
            return render_panel(request, order, error=str(exc.message), fields=exc.fields)
        return render_panel(request, order, changed=True)

    def act(self, request, order, name, data):
        user = request.user
        version = data.get("version")
        if name in ("labour", "part", "sublet", "fee"):
            add_line(user, order, {**data.dict(), "kind": name})
        elif name == "package":
            estimate.package_apply(
                actor=user,
                repair_order=order,
                version=version,
                package=get_object_or_404(MaintenancePackage, pk=data.get("package") or 0),
            )
        elif name in ("update", "remove", "decide"):
            line = get_object_or_404(order.lines, pk=data.get("line") or 0)
            if name == "remove":
                estimate.line_remove(actor=user, line=line, version=version)
            elif name == "update":
                estimate.line_update(
                    actor=user,
                    line=line,
                    version=version,
                    quantity=data.get("quantity") or None,
                    pay_type=data.get("pay_type") or None,
                    unit_price=data.get("unit_price") or None,
                    description=data.get("description") or None,
                )
            else:
                authorization.line_decide(
                    actor=user,
                    line=line,
                    version=version,
                    decision=data.get("decision"),
                    channel=data.get("channel"),
                    customer_name=data.get("customer_name"),
                    remarks=data.get("remarks") or "",
                )
        elif name == "terms":
            estimate.estimate_set_terms(
                actor=user,
                repair_order=order,
                version=version,
                payment_method=data.get("payment_method"),
                old_parts=data.get("old_parts"),
                free_wash=bool(data.get("free_wash")),
                promised_at=data.get("promised_at") or None,
            )
        elif name == "send":
            authorization.repair_order_send_for_approval(
                actor=user, repair_order=order, version=version
            )
        elif name == "sign":
            authorization.repair_order_sign(
                actor=user,
                repair_order=order,
                version=version,
                kind=data.get("kind"),
                signed_by_name=data.get("signed_by_name"),
                signature_png=_png_from_data_url(data.get("signature_png")),
            )
        else:
            raise ValidationFailed(_("Unknown action."))


class SearchView(LoginRequiredMixin, View):
    """Labour operations (code or name, with standard hours and a price preview) or parts
    (number, barcode or name) for the add forms."""

    raise_exception = False

    def get(self, request, pk):
        if not user_has_perm(request.user, CHANGE):
            raise PermissionDenied
        order = _order(request.user, pk)
        q = (request.GET.get("q") or request.GET.get("part") or "").strip()
        kind = request.GET.get("kind", "labour")
        rows = []
        if q and kind == "labour":
            ops = LabourOperation.objects.filter(active=True).filter(
                Q(code__icontains=q) | Q(name__icontains=q) | Q(name_en__icontains=q)
            )[:10]
            try:
                rate = labour.labour_rate(order.dealer, PayType.CUSTOMER)
            except ServiceError:
                rate = None
            for op in ops:
                hours = labour.standard_hours(op, order.vehicle.variant)
                price = estimate.money(hours * rate) if rate is not None else None
                rows.append(
                    {"id": op.pk, "code": op.code, "name": op.name, "hours": hours, "price": price}
                )
        elif q and kind == "part" and user_has_perm(request.user, "parts.view_part"):
            from aftersales.parts.lookup import search_parts

            for hit in search_parts(request.user, q, limit=10):
                part = hit.part
                rows.append(
                    {
                        "id": part.pk,
                        "code": part.number,
                        "name": part.name,
                        "price": part.list_price,
                        "replacement": getattr(part, "replacement", None),
                    }
                )
        return render(
            request,
            "workorders/estimate_search.html",
            {"order": order, "rows": rows, "kind": kind, "q": q},
        )
