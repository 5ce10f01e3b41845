"""Stock pages: the stock list, the stock card, manual movements with scanner input,
warehouses and bins, labels (PDF) and the reports."""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.parts import labels, reports, selectors, warehouses
from aftersales.parts.forms_stock import (
    BinAddForm,
    MovementForm,
    ReportFilterForm,
    StockFilterForm,
    WarehouseForm,
    new_key,
)
from aftersales.parts.models import Bin, BinStock, Part, StockItem, Warehouse
from aftersales.parts.stock import show

LEDGER_PAGE = 50

# where a ledger line's document lives: doc_type -> URL name taking the document's pk
DOC_URLS = {
    "purchase_order": "purchase-order-detail",
    "stocktake": "stocktake-detail",
    "transfer": "transfer-detail",
    "repair_order": "repair-order-detail",
}


def _doc_url(move):
    name = DOC_URLS.get(move.doc_type)
    if not name or not move.doc_id:
        return None
    try:
        return reverse(name, kwargs={"pk": move.doc_id})
    except NoReverseMatch:
        return None


def _dealers(user, permission):
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    dealers = Dealer.objects.order_by("code")
    return dealers if scope.everything else dealers.filter(pk__in=scope.dealer_ids)


# ---------------------------------------------------------------- stock list and card


class StockListView(PermissionPage, ListView):
    permission = "parts.view_stockitem"
    template_name = "parts/stock_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        self.warehouses = selectors.warehouses(user).filter(active=True)
        self.filters = StockFilterForm(self.request.GET or None, warehouses=self.warehouses)
        data = self.filters.cleaned_data if self.filters.is_valid() else {}
        return selectors.stock_items(
            user,
            warehouse=data.get("warehouse"),
            q=data.get("q"),
            category=data.get("category"),
            low=bool(data.get("low")),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx.update(
            filters=self.filters,
            filtered=any(self.request.GET.get(k) for k in ("q", "warehouse", "category", "low")),
            can_issue=user_has_perm(user, "parts.issue_stockitem"),
            can_adjust=user_has_perm(user, "parts.adjust_stockitem"),
            can_move=user_has_perm(user, "parts.change_stockitem"),
        )
        return ctx


class StockCardView(PermissionPage, View):
    permission = "parts.view_stockitem"

    def get(self, request, pk):
        item = get_object_or_404(selectors.stock_items(request.user), pk=pk)
        card = selectors.stock_card(request.user, item)
        page = None
        if user_has_perm(request.user, "parts.view_stockmove"):
            page = Paginator(card.moves, LEDGER_PAGE).get_page(request.GET.get("page"))
            for move in page.object_list:
                move.doc_url = _doc_url(move)
        return render(
            request,
            "parts/stock_card.html",
            {
                "item": item,
                "card": card,
                "page_obj": page,
                "is_paginated": page is not None and page.paginator.num_pages > 1,
                "paginator": page.paginator if page is not None else None,
                "can_issue": user_has_perm(request.user, "parts.issue_stockitem"),
                "can_adjust": user_has_perm(request.user, "parts.adjust_stockitem"),
                "can_move": user_has_perm(request.user, "parts.change_stockitem"),
            },
        )


# ---------------------------------------------------------------- scanner lookup


class ScanView(PermissionPage, View):
    """What a scanned code names, for the scanner input of the movement screens (JSON)."""

    permission = "parts.view_stockitem"

    def get(self, request):
        warehouse = None
        if request.GET.get("warehouse", "").isdigit():
            warehouse = (
                selectors.warehouses(request.user).filter(pk=int(request.GET["warehouse"])).first()
            )
        found = selectors.resolve_scan(request.user, request.GET.get("code", ""), warehouse)
        if found["kind"] == "part":
            part = found["part"]
            body = {"kind": "part", "id": part.pk, "code": part.number, "label": str(part)}
            if warehouse is not None:
                item = StockItem.objects.filter(warehouse=warehouse, part=part).first()
                body["available"] = show(item.available) if item else "0"
            return JsonResponse(body)
        if found["kind"] == "bin":
            bin_ = found["bin"]
            return JsonResponse(
                {"kind": "bin", "id": bin_.pk, "code": bin_.barcode, "label": bin_.code}
            )
        return JsonResponse(
            {
                "kind": None,
                "message": _("Nothing found for %(code)s.") % {"code": request.GET.get("code", "")},
            },
            status=404,
        )


# ---------------------------------------------------------------- manual movements


MOVEMENTS = {
    "issue": ("parts.issue_stockitem", gettext_lazy("Counter issue")),
    "return": ("parts.issue_stockitem", gettext_lazy("Return to stock")),
    "adjust": ("parts.adjust_stockitem", gettext_lazy("Stock adjustment")),
    "relocate": ("parts.change_stockitem", gettext_lazy("Bin move")),
}


def _find_part(code):
    code = (code or "").strip()
    return (
        Part.objects.filter(number=code.upper()).first()
        or Part.objects.filter(barcode=code).first()
    )


def _find_bin(warehouse, code):
    code = (code or "").strip().upper()
    if not code:
        return None
    bins = Bin.objects.filter(warehouse=warehouse)
    if code.startswith("BIN:") and code[4:].isdigit():
        return bins.filter(pk=int(code[4:])).first()
    return bins.filter(code=code).first()


class MovementView(PermissionPage, View):
    kind = "issue"

    @property
    def permission(self):
        return MOVEMENTS[self.kind][0]

    def _form(self, request, data=None):
        user = request.user
        allowed = _dealers(user, self.permission)
        choices = selectors.warehouses(user).filter(active=True, dealer__in=allowed)
        initial = {"idempotency_key": new_key()}
        if request.GET.get("warehouse"):
            initial["warehouse"] = request.GET["warehouse"]
        if request.GET.get("part"):
            initial["part"] = request.GET["part"]
        return MovementForm(data, warehouses=choices, kind=self.kind, initial=initial)

    def _render(self, request, form, status=200):
        return render(
            request,
            "parts/stock_movement.html",
            {
                "form": form,
                "kind": self.kind,
                "title": MOVEMENTS[self.kind][1],
                "movements": MOVEMENTS,
            },
            status=status,
        )

    def get(self, request):
        return self._render(request, self._form(request))

    def post(self, request):
        form = self._form(request, request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        warehouse = data["warehouse"]
        part = _find_part(data["part"])
        if part is None:
            form.add_error(
                "part", _("No part with number or barcode %(code)s.") % {"code": data["part"]}
            )
            return self._render(request, form, status=400)
        bin_ = _find_bin(warehouse, data.get("bin"))
        if data.get("bin") and bin_ is None:
            form.add_error("bin", _("No bin %(code)s in this warehouse.") % {"code": data["bin"]})
            return self._render(request, form, status=400)
        try:
            moves = self.book(request.user, form, warehouse, part, bin_)
        except ServiceError as exc:
            form.add_service_errors(exc)
            return self._render(request, form, status=400)
        item = moves[0].item_id if moves else None
        messages.success(
            request,
            _("%(kind)s booked: %(part)s × %(qty)s.")
            % {
                "kind": MOVEMENTS[self.kind][1],
                "part": part.number,
                "qty": show(abs(data["quantity"])),
            },
        )
        url = reverse(f"stock-{self.kind}") + f"?warehouse={warehouse.pk}"
        if item and request.POST.get("next") == "card":
            url = reverse("stock-card", kwargs={"pk": item})
        return redirect(url)

    def book(self, user, form, warehouse, part, bin_):
        data = form.cleaned_data
        common = {
            "actor": user,
            "warehouse": warehouse,
            "part": part,
            "bin": bin_,
            "quantity": data["quantity"],
            "reason": data.get("reason", ""),
            "idempotency_key": data["idempotency_key"],
        }
        if self.kind == "issue":
            return warehouses.stock_issue(**common)
        if self.kind == "return":
            return warehouses.stock_return(**common)
        return warehouses.stock_adjust(**common)


class IssueView(MovementView):
    kind = "issue"


class ReturnView(MovementView):
    kind = "return"


class AdjustView(MovementView):
    kind = "adjust"


class RelocateView(MovementView):
    kind = "relocate"

    def book(self, user, form, warehouse, part, bin_):
        data = form.cleaned_data
        to_bin = _find_bin(warehouse, data.get("to_bin"))
        if to_bin is None:
            from aftersales.core.errors import ValidationFailed

            raise ValidationFailed(
                _("No bin %(code)s in this warehouse.") % {"code": data.get("to_bin")},
                fields={"to_bin": [_("Unknown bin.")]},
            )
        item = StockItem.objects.filter(warehouse=warehouse, part=part).first()
        if item is None:
            from aftersales.core.errors import ValidationFailed

            raise ValidationFailed(
                _("%(part)s has no stock in this warehouse.") % {"part": part.number},
                fields={"part": [_("No stock here.")]},
            )
        return warehouses.stock_relocate(
            actor=user,
            item=item,
            from_bin=bin_,
            to_bin=to_bin,
            quantity=data["quantity"],
            idempotency_key=data["idempotency_key"],
        )


# ---------------------------------------------------------------- warehouses and bins


class WarehouseListView(PermissionPage, ListView):
    permission = "parts.view_warehouse"
    template_name = "parts/stock_warehouse_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.warehouses(self.request.user).annotate(
            bin_count=Count("bins", filter=Q(bins__active=True), distinct=True),
            item_count=Count("items", filter=Q(items__on_hand__gt=0), distinct=True),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_change"] = user_has_perm(self.request.user, "parts.change_warehouse")
        return ctx


def _warehouse_page(request, warehouse, bin_form=None, status=200):
    bins = list(Bin.objects.filter(warehouse=warehouse).order_by("-active", "code"))
    held = dict(
        BinStock.objects.filter(bin__warehouse=warehouse, on_hand__gt=0)
        .values("bin")
        .annotate(n=Count("id"))
        .values_list("bin", "n")
    )
    for bin_ in bins:
        bin_.parts = held.get(bin_.pk, 0)
    return render(
        request,
        "parts/stock_warehouse_detail.html",
        {
            "warehouse": warehouse,
            "bins": bins,
            "bin_form": bin_form or BinAddForm(),
            "can_change": user_has_perm(request.user, "parts.change_warehouse")
            and allowed_at(request.user, "parts.change_warehouse", dealer=warehouse.dealer),
        },
        status=status,
    )


class WarehouseDetailView(PermissionPage, View):
    permission = "parts.view_warehouse"

    def get(self, request, pk):
        warehouse = get_object_or_404(selectors.warehouses(request.user), pk=pk)
        return _warehouse_page(request, warehouse)


class WarehouseCreateView(PermissionPage, View):
    permission = "parts.change_warehouse"

    def _form(self, request, data=None):
        return WarehouseForm(data, dealers=_dealers(request.user, self.permission))

    def _render(self, request, form, status=200):
        return render(request, "parts/stock_warehouse_form.html", {"form": form}, status=status)

    def get(self, request):
        return self._render(request, self._form(request))

    def post(self, request):
        form = self._form(request, request.POST)
        if form.is_valid():
            try:
                warehouse = warehouses.warehouse_create(actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request, _("Warehouse %(code)s created.") % {"code": warehouse.code}
                )
                return redirect("warehouse-detail", pk=warehouse.pk)
        return self._render(request, form, status=400)


class BinAddView(PermissionPage, View):
    permission = "parts.change_warehouse"

    def post(self, request, pk):
        warehouse = get_object_or_404(
            Warehouse.objects.restrict(request.user, "change").select_related("dealer"), pk=pk
        )
        form = BinAddForm(request.POST)
        if form.is_valid():
            try:
                created = warehouses.bin_create(
                    actor=request.user, warehouse=warehouse, code=form.cleaned_data["codes"]
                )
            except ServiceError as exc:
                form.add_error("codes", str(exc.message))
            else:
                messages.success(request, _("%(n)s bins added.") % {"n": len(created)})
                return redirect("warehouse-detail", pk=warehouse.pk)
        return _warehouse_page(request, warehouse, bin_form=form, status=200)


class BinDeactivateView(PermissionPage, View):
    permission = "parts.change_warehouse"

    def post(self, request, pk):
        bin_ = get_object_or_404(
            selectors.bins(request.user).select_related("warehouse__dealer"), pk=pk
        )
        if not allowed_at(request.user, "parts.change_warehouse", dealer=bin_.warehouse.dealer):
            raise Http404
        try:
            warehouses.bin_deactivate(actor=request.user, bin=bin_)
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Bin %(code)s taken out of use.") % {"code": bin_.code})
        return redirect("warehouse-detail", pk=bin_.warehouse_id)


# ---------------------------------------------------------------- labels


def _copies(request) -> int:
    try:
        return max(1, min(int(request.GET.get("copies", 1)), 24))
    except ValueError:
        return 1


def _pdf_or_html(request, sheet, filename):
    html = labels.sheet_html(sheet, title=filename)
    if request.GET.get("format") == "html":
        return HttpResponse(html)
    response = HttpResponse(labels.render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


class PartLabelsView(PermissionPage, View):
    """Labels of a warehouse's parts: the items named by ?item=, else those in stock."""

    permission = "parts.view_stockitem"

    def get(self, request, pk):
        warehouse = get_object_or_404(selectors.warehouses(request.user), pk=pk)
        items = (
            StockItem.objects.filter(warehouse=warehouse)
            .select_related("part", "default_bin")
            .order_by("part__number")
        )
        ids = [int(v) for v in request.GET.getlist("item") if v.isdigit()]
        items = items.filter(pk__in=ids) if ids else items.filter(on_hand__gt=0)
        copies = _copies(request)
        sheet = []
        for item in items[: labels.MAX_LABELS]:
            bin_code = item.default_bin.code if item.default_bin else ""
            sheet.extend([labels.part_label(item.part, bin_code)] * copies)
        return _pdf_or_html(request, sheet[: labels.MAX_LABELS], f"parts-{warehouse.code}")


class BinLabelsView(PermissionPage, View):
    permission = "parts.view_warehouse"

    def get(self, request, pk):
        warehouse = get_object_or_404(selectors.warehouses(request.user), pk=pk)
        bins = Bin.objects.filter(warehouse=warehouse, active=True).select_related("warehouse")
        ids = [int(v) for v in request.GET.getlist("bin") if v.isdigit()]
        if ids:
            bins = bins.filter(pk__in=ids)
        sheet = [labels.bin_label(b) for b in bins.order_by("code")[: labels.MAX_LABELS]]
        return _pdf_or_html(request, sheet, f"bins-{warehouse.code}")


# ---------------------------------------------------------------- reports


def _report_args(request):
    user = request.user
    dealers = _dealers(user, "parts.view_stockmove")
    choices = selectors.warehouses(user)
    form = ReportFilterForm(request.GET or None, dealers=dealers, warehouses=choices)
    data = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()

    def moment(day, default):
        if not day:
            return default
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    until = moment(data.get("until"), now)
    since = moment(data.get("since"), until - datetime.timedelta(days=90))
    return form, {
        "dealer": data.get("dealer"),
        "warehouse": data.get("warehouse"),
        "since": since,
        "until": until,
        "days": data.get("days") or reports.DEAD_DAYS,
    }


class ReportsView(PermissionPage, View):
    permission = "parts.view_stockmove"

    def get(self, request):
        form, args = _report_args(request)
        results = [reports.run(name, request.user, **args) for name in reports.REPORTS]
        for report in results:
            keys = [key for key, _label in report.columns]
            report.cells = [[row.get(key) for key in keys] for row in report.rows]
            report.total_cells = [report.totals.get(key) for key in keys]
        scope = user_scope(request.user, "parts.view_stockmove")
        query = request.GET.urlencode()
        return render(
            request,
            "parts/reports_index.html",
            {
                "form": form,
                "results": results,
                "since": args["since"],
                "until": args["until"],
                "query": query,
                "can_export": user_has_perm(request.user, "parts.export_stockmove"),
                "show_dealer": scope.everything or len(scope.dealer_ids) > 1,
            },
        )


class ReportExportView(PermissionPage, View):
    permission = "parts.export_stockmove"

    def get(self, request, name):
        if name not in reports.REPORTS:
            raise Http404
        _form, args = _report_args(request)
        report = reports.run(name, request.user, **args)
        from aftersales.parts.api.stock import excel_response

        return excel_response(report)
