"""Purchasing pages: purchase orders (list, create, detail with scanner line entry,
receiving), purchase suggestions, the low-stock list and reorder levels.

Every page checks its permission and scopes rows with ``restrict`` (another dealer's id
answers 404); every write calls a service, whose errors are shown to the user. The
receiving form and the order form carry a hidden idempotency key, so a double submit
books once."""

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import clean_key, once
from aftersales.core.pages import PermissionPage
from aftersales.org.models import Dealer
from aftersales.parts import purchasing, reorder
from aftersales.parts.choices import PurchaseOrderStatus
from aftersales.parts.forms_purchasing import (
    LineQuantityForm,
    OrderFilterForm,
    PurchaseOrderForm,
    ScanForm,
    StockLevelsForm,
    new_key,
)
from aftersales.parts.models import (
    Bin,
    GoodsReceiptLine,
    Part,
    PurchaseOrder,
    PurchaseOrderLine,
    StockItem,
    Warehouse,
)
from aftersales.parts.stock import qty, show


def warehouses_for(user, permission: str):
    """Active warehouses at the dealers where the user holds ``permission``."""
    scope = user_scope(user, permission)
    queryset = Warehouse.objects.restrict(user, "view").filter(active=True)
    if not scope.everything:
        queryset = queryset.filter(
            Q(dealer_id__in=scope.dealer_ids) | Q(dealer__region_id__in=scope.region_ids)
        )
    return queryset.select_related("dealer").order_by("dealer__code", "code")


def find_part(code: str):
    """A part by number (any case) or barcode, as typed or scanned."""
    code = (code or "").strip()
    if not code:
        return None
    return Part.objects.filter(Q(number__iexact=code) | Q(barcode=code)).first()


def _order_or_404(user, pk, action="view"):
    return get_object_or_404(
        PurchaseOrder.objects.restrict(user, action).select_related("warehouse", "dealer"), pk=pk
    )


def _detail(order):
    return redirect("purchase-order-detail", pk=order.pk)


# ---------------------------------------------------------------- orders


class PurchaseOrderListView(PermissionPage, ListView):
    permission = "parts.view_purchaseorder"
    template_name = "parts/purchasing_order_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        self.warehouses = Warehouse.objects.restrict(user, "view").select_related("dealer")
        self.filters = OrderFilterForm(self.request.GET, warehouses=self.warehouses)
        self.filters.is_valid()
        data = getattr(self.filters, "cleaned_data", {})
        queryset = (
            PurchaseOrder.objects.restrict(user, "view")
            .select_related("warehouse", "dealer")
            .annotate(
                line_count=Count("lines"),
                ordered=Sum("lines__quantity"),
                received_qty=Sum("lines__received"),
            )
            .order_by("-created_at", "-id")
        )
        if data.get("q"):
            queryset = queryset.filter(number__icontains=data["q"].strip())
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("warehouse"):
            queryset = queryset.filter(warehouse=data["warehouse"])
        return queryset

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx.update(
            filters=self.filters,
            filtered=any(self.request.GET.get(k) for k in ("q", "status", "warehouse")),
            can_add=user_has_perm(user, "parts.add_purchaseorder"),
        )
        return ctx


class PurchaseOrderCreateView(PermissionPage, View):
    permission = "parts.add_purchaseorder"
    template = "parts/purchasing_order_form.html"

    def _form(self, request, data=None):
        warehouses = warehouses_for(request.user, self.permission)
        initial = {}
        if request.GET.get("warehouse"):
            initial["warehouse"] = request.GET["warehouse"]
        return PurchaseOrderForm(data, warehouses=warehouses, initial=initial)

    def get(self, request):
        return render(request, self.template, {"form": self._form(request)})

    def post(self, request):
        form = self._form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order, acted = once(
                    user=request.user,
                    scope="parts.purchase_order_create",
                    key=clean_key(data.get("idempotency_key")),
                    action=lambda: purchasing.purchase_order_create(
                        actor=request.user,
                        warehouse=data["warehouse"],
                        urgent=data["urgent"],
                        expected_on=data["expected_on"],
                        note=data["note"],
                        allow_over_receipt=data["allow_over_receipt"],
                    ),
                    model=PurchaseOrder,
                )
            except ServiceError as exc:
                form.add_service_errors(exc)
            else:
                if not acted:  # a double submit: show what the first one made
                    return _detail(order)
                messages.success(
                    request,
                    _("Purchase order %(number)s created: scan or type the parts to order.")
                    % {"number": order.number},
                )
                return _detail(order)
        return render(request, self.template, {"form": form}, status=400)


class PurchaseOrderDetailView(PermissionPage, View):
    permission = "parts.view_purchaseorder"

    def get(self, request, pk):
        user = request.user
        order = _order_or_404(user, pk)
        lines = list(order.lines.select_related("part", "part__superseded_by"))
        receipts = order.receipts.select_related("received_by").prefetch_related(
            Prefetch(
                "lines",
                queryset=GoodsReceiptLine.objects.select_related("order_line__part", "bin"),
            )
        )
        dealer = Dealer(pk=order.dealer_id)
        can_change = allowed_at(user, "parts.change_purchaseorder", dealer=dealer)
        can_receive = allowed_at(user, "parts.receive_purchaseorder", dealer=dealer)
        status = order.status
        draft = status == PurchaseOrderStatus.DRAFT
        replace = None
        if draft and request.GET.get("replace"):
            old = Part.objects.filter(pk=request.GET.get("replace")).first()
            if old is not None and old.superseded_by_id:
                replace = {
                    "old": old,
                    "new": purchasing.current_part(old),
                    "quantity": request.GET.get("qty") or "1",
                }
        totals = {
            "ordered": sum((ln.quantity for ln in lines), Decimal("0")),
            "received": sum((ln.received for ln in lines), Decimal("0")),
            "value": sum((ln.quantity * ln.unit_cost for ln in lines), Decimal("0")),
        }
        return render(
            request,
            "parts/purchasing_order_detail.html",
            {
                "order": order,
                "lines": lines,
                "receipts": receipts,
                "totals": totals,
                "draft": draft,
                "can_edit_lines": draft and can_change,
                "can_submit": draft and can_change and bool(lines),
                "can_cancel": can_change
                and status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SUBMITTED)
                and not any(ln.received for ln in lines),
                "can_close_short": can_change and status == PurchaseOrderStatus.PARTLY_RECEIVED,
                "can_receive": can_receive and status in purchasing.OPEN_STATUSES,
                "scan_form": ScanForm(initial={"quantity": 1}),
                "replace": replace,
            },
        )


class PurchaseOrderScanView(PermissionPage, View):
    """A scanned or typed part number adds a line to the draft or increments it."""

    permission = "parts.change_purchaseorder"

    def post(self, request, pk):
        order = _order_or_404(request.user, pk, "change")
        form = ScanForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Scan or type a part number and a quantity above zero."))
            return _detail(order)
        code = form.cleaned_data["code"]
        part = find_part(code)
        if part is None:
            messages.error(request, _("No part with number or barcode %(code)s.") % {"code": code})
            return _detail(order)
        try:
            line = purchasing.purchase_order_line_set(
                actor=request.user,
                order=order,
                part=part,
                quantity=form.cleaned_data["quantity"],
                increment=True,
                substitute=bool(request.POST.get("substitute")),
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            if exc.code == "superseded":
                query = urlencode({"replace": part.pk, "qty": form.cleaned_data["quantity"]})
                return redirect(f"{reverse('purchase-order-detail', args=[order.pk])}?{query}")
            return _detail(order)
        messages.success(
            request,
            _("%(part)s: %(quantity)s on the order.")
            % {"part": line.part.number, "quantity": show(line.quantity)},
        )
        return _detail(order)


class PurchaseOrderLineView(PermissionPage, View):
    """Change a draft line's quantity, or remove it (``remove`` in the form)."""

    permission = "parts.change_purchaseorder"

    def post(self, request, pk, line):
        order = _order_or_404(request.user, pk, "change")
        line = get_object_or_404(
            PurchaseOrderLine.objects.select_related("part"), order=order, pk=line
        )
        try:
            if request.POST.get("remove"):
                purchasing.purchase_order_line_remove(actor=request.user, order=order, line=line)
                messages.success(request, _("%(part)s removed.") % {"part": line.part.number})
            else:
                form = LineQuantityForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Enter a quantity above zero."))
                    return _detail(order)
                purchasing.purchase_order_line_set(
                    actor=request.user,
                    order=order,
                    part=line.part,
                    quantity=form.cleaned_data["quantity"],
                )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        return _detail(order)


ACTIONS = {
    "submit": purchasing.purchase_order_submit,
    "cancel": purchasing.purchase_order_cancel,
    "close-short": purchasing.purchase_order_close_short,
}


class PurchaseOrderActionView(PermissionPage, View):
    """Submit, cancel or close short (the buttons the detail page shows by status)."""

    permission = "parts.change_purchaseorder"

    def post(self, request, pk, action):
        order = _order_or_404(request.user, pk, "change")
        service = ACTIONS.get(action)
        if service is None:
            raise Http404
        try:
            order = service(actor=request.user, order=order)
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("Purchase order %(number)s is now %(status)s.")
                % {"number": order.number, "status": order.get_status_display()},
            )
        return _detail(order)


class PurchaseOrderReceiveView(PermissionPage, View):
    """Book a delivery: a quantity and a bin per line; scanning a part barcode adds one
    to its line, scanning a bin label sets the bin of the line scanned last."""

    permission = "parts.receive_purchaseorder"
    template = "parts/purchasing_receive.html"

    def _context(self, order, key, values=None):
        lines = list(order.lines.select_related("part"))
        bins = list(
            Bin.objects.filter(warehouse_id=order.warehouse_id, active=True).order_by("code")
        )
        defaults = dict(
            StockItem.objects.filter(
                warehouse_id=order.warehouse_id, part_id__in=[ln.part_id for ln in lines]
            ).values_list("part_id", "default_bin_id")
        )
        values = values or {}
        for line in lines:
            line.entered = values.get(f"qty_{line.pk}", "")
            chosen = values.get(f"bin_{line.pk}")
            line.chosen_bin = (
                int(chosen) if chosen and str(chosen).isdigit() else defaults.get(line.part_id)
            )
        return {"order": order, "lines": lines, "bins": bins, "idempotency_key": key}

    def get(self, request, pk):
        order = _order_or_404(request.user, pk, "receive")
        if order.status not in purchasing.OPEN_STATUSES:
            messages.error(
                request,
                _("Purchase order %(number)s is %(status)s: nothing can be received.")
                % {"number": order.number, "status": order.get_status_display()},
            )
            return _detail(order)
        return render(request, self.template, self._context(order, new_key()))

    def post(self, request, pk):
        order = _order_or_404(request.user, pk, "receive")
        key = (request.POST.get("idempotency_key") or "").strip()[:100] or new_key()
        lines = {ln.pk: ln for ln in order.lines.all()}
        bins = {b.pk: b for b in Bin.objects.filter(warehouse_id=order.warehouse_id)}
        entries, error = [], None
        for line_id in lines:
            raw = (request.POST.get(f"qty_{line_id}") or "").strip()
            if not raw:
                continue
            try:
                amount = qty(raw)
            except ServiceError as exc:
                error = exc.message
                break
            if amount == 0:
                continue
            bin_raw = request.POST.get(f"bin_{line_id}") or ""
            bin_ = bins.get(int(bin_raw)) if bin_raw.isdigit() else None
            entries.append((lines[line_id], amount, bin_))
        if error is None:
            try:
                receipt = purchasing.purchase_order_receive(
                    actor=request.user,
                    order=order,
                    lines=entries,
                    idempotency_key=key,
                    note=(request.POST.get("note") or "")[:200],
                )
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(
                    request, _("Goods receipt %(number)s booked.") % {"number": receipt.number}
                )
                return _detail(order)
        messages.error(request, str(error))
        order.refresh_from_db()
        context = self._context(order, key, request.POST)
        context["error"] = error
        return render(request, self.template, context, status=400)


# ---------------------------------------------------------------- suggestions, low stock


class PurchaseSuggestionsView(PermissionPage, View):
    permission = "parts.view_purchaseorder"

    def get(self, request):
        user = request.user
        warehouses = list(
            Warehouse.objects.restrict(user, "view").filter(active=True).select_related("dealer")
        )
        chosen = None
        wanted = request.GET.get("warehouse")
        for warehouse in warehouses:
            if wanted and str(warehouse.pk) == wanted:
                chosen = warehouse
        if chosen is None and warehouses:
            chosen = warehouses[0]
        rows = reorder.purchase_suggestions(user, chosen) if chosen else []
        return render(
            request,
            "parts/purchasing_suggestions.html",
            {
                "warehouses": warehouses,
                "warehouse": chosen,
                "rows": rows,
                "object_list": [row.item for row in rows],
                "can_order": chosen is not None
                and allowed_at(user, "parts.add_purchaseorder", dealer=Dealer(pk=chosen.dealer_id)),
                "shortage_days": reorder.SHORTAGE_DAYS,
            },
        )


class PurchaseSuggestionsOrderView(PermissionPage, View):
    """Create a draft purchase order from the suggestions ticked on the page."""

    permission = "parts.add_purchaseorder"

    def post(self, request):
        user = request.user
        warehouse = (
            warehouses_for(user, self.permission)
            .filter(pk=request.POST.get("warehouse") or 0)
            .first()
            if str(request.POST.get("warehouse") or "").isdigit()
            else None
        )
        if warehouse is None:
            messages.error(request, _("Choose a warehouse."))
            return redirect("purchase-suggestions")
        back = f"{reverse('purchase-suggestions')}?{urlencode({'warehouse': warehouse.pk})}"
        picked = [p for p in request.POST.getlist("pick") if p.isdigit()]
        parts = {p.pk: p for p in Part.objects.filter(pk__in=[int(p) for p in picked])}
        lines = []
        try:
            for part_id in picked:
                part = parts.get(int(part_id))
                if part is None:
                    continue
                amount = qty(request.POST.get(f"qty_{part_id}") or "0")
                if amount > 0:
                    lines.append((part, amount))
            order = reorder.purchase_order_from_suggestions(
                actor=user, warehouse=warehouse, lines=lines
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(back)
        messages.success(
            request,
            _("Draft purchase order %(number)s created with %(n)d lines: check it and submit it.")
            % {"number": order.number, "n": len(lines)},
        )
        return _detail(order)


class LowStockListView(PermissionPage, ListView):
    permission = "parts.view_stockitem"
    template_name = "parts/purchasing_low_stock.html"
    paginate_by = 100

    def get_queryset(self):
        user = self.request.user
        self.warehouses = list(Warehouse.objects.restrict(user, "view").select_related("dealer"))
        self.warehouse = None
        wanted = self.request.GET.get("warehouse")
        for warehouse in self.warehouses:
            if wanted and str(warehouse.pk) == wanted:
                self.warehouse = warehouse
        return reorder.low_stock_items(user, self.warehouse)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            warehouses=self.warehouses,
            warehouse=self.warehouse,
            can_set_levels=user_has_perm(self.request.user, "parts.change_stockitem"),
        )
        return ctx


class StockLevelsView(PermissionPage, View):
    """Set a stock item's minimum, maximum and default bin."""

    permission = "parts.change_stockitem"
    template = "parts/purchasing_levels_form.html"

    def _item(self, request, pk):
        return get_object_or_404(
            StockItem.objects.restrict(request.user, "change").select_related("part", "warehouse"),
            pk=pk,
        )

    def get(self, request, pk):
        item = self._item(request, pk)
        form = StockLevelsForm(
            item=item,
            initial={
                "min_qty": item.min_qty,
                "max_qty": item.max_qty,
                "default_bin": item.default_bin_id,
            },
        )
        return render(request, self.template, {"item": item, "form": form})

    def post(self, request, pk):
        item = self._item(request, pk)
        form = StockLevelsForm(request.POST, item=item)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reorder.stock_item_set_levels(
                    actor=request.user,
                    item=item,
                    min_qty=data["min_qty"],
                    max_qty=data["max_qty"],
                    default_bin=data["default_bin"],
                )
            except ServiceError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("Reorder levels of %(part)s saved.") % {"part": item.part.number},
                )
                return redirect(f"{reverse('low-stock-list')}?warehouse={item.warehouse_id}")
        return render(request, self.template, {"item": item, "form": form}, status=400)
