"""Pages of stocktakes (list, start, count sheet, review) and transfers (list with
incoming/outgoing tabs, request form, detail with the actions of the user's side).

The count sheet and the transfer form take scanner input: a scanner types a code and
Enter. On the count sheet a bin label (``BIN:<id>``) selects the bin; a part number or
barcode then adds 1 to that part's count in the bin, or sets it when a quantity is typed.
"""

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError, ValidationFailed
from aftersales.core.idempotency import clean_key, once
from aftersales.core.pages import PermissionPage, flash_error
from aftersales.parts import stocktake as stocktakes
from aftersales.parts import transfers
from aftersales.parts.api.counting import find_part
from aftersales.parts.choices import StocktakeStatus, TransferStatus
from aftersales.parts.forms_counting import StocktakeStartForm, TransferRequestForm
from aftersales.parts.models import Bin, Stocktake, StocktakeLine, Transfer, Warehouse

# ---------------------------------------------------------------- stocktakes


class StocktakeListView(PermissionPage, ListView):
    permission = "parts.view_stocktake"
    template_name = "parts/counting_stocktake_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = (
            Stocktake.objects.restrict(self.request.user, "view")
            .select_related("warehouse", "created_by")
            .annotate(
                lines_total=Count("lines"),
                lines_counted=Count("lines", filter=Q(lines__counted__isnull=False)),
            )
            .order_by("-created_at", "-id")
        )
        status = self.request.GET.get("status")
        if status in StocktakeStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs,
            statuses=StocktakeStatus.choices,
            status=self.request.GET.get("status", ""),
            can_add=user_has_perm(self.request.user, "parts.add_stocktake"),
        )


class StocktakeStartView(PermissionPage, View):
    permission = "parts.add_stocktake"
    template = "parts/counting_stocktake_form.html"

    def _form(self, request, data=None):
        warehouses = Warehouse.objects.filter(
            active=True, dealer_id__in=_dealers(request.user, "parts.add_stocktake")
        )
        return StocktakeStartForm(data, warehouses=warehouses)

    def get(self, request):
        return render(request, self.template, {"form": self._form(request)})

    def post(self, request):
        form = self._form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                stocktake = stocktakes.stocktake_start(
                    actor=request.user,
                    warehouse=data["warehouse"],
                    bins=list(data["bins"]),
                    blind=data["blind"],
                    note=data["note"],
                )
            except ServiceError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("Stocktake %(number)s started: %(n)s lines on the sheet.")
                    % {"number": stocktake.number, "n": stocktake.lines.count()},
                )
                return redirect("stocktake-count", pk=stocktake.pk)
        return render(request, self.template, {"form": form})


def _dealers(user, permission):
    """The dealer ids where the user holds ``permission`` (None: everywhere)."""
    scope = user_scope(user, permission)
    if scope.everything:
        return list(Warehouse.objects.values_list("dealer_id", flat=True).distinct())
    return list(scope.dealer_ids)


def _stocktake(request, pk, action="view") -> Stocktake:
    return get_object_or_404(
        Stocktake.objects.restrict(request.user, action).select_related("warehouse"), pk=pk
    )


def _sheet(stocktake):
    return list(
        StocktakeLine.objects.filter(stocktake=stocktake)
        .select_related("bin", "item__part", "counted_by")
        .order_by("bin__code", "item__part__number")
    )


class StocktakeCountView(PermissionPage, View):
    """The count sheet: scan a bin label, then parts."""

    permission = "parts.view_stocktake"
    template = "parts/counting_stocktake_count.html"

    def get(self, request, pk):
        stocktake = _stocktake(request, pk)
        bin_id = request.GET.get("bin")
        current = (
            Bin.objects.filter(warehouse=stocktake.warehouse, pk=bin_id).first()
            if bin_id and bin_id.isdigit()
            else None
        )
        lines = _sheet(stocktake)
        counted = sum(1 for line in lines if line.counted is not None)
        return render(
            request,
            self.template,
            {
                "stocktake": stocktake,
                "lines": [ln for ln in lines if current is None or ln.bin_id == current.pk],
                "current_bin": current,
                "counted": counted,
                "total": len(lines),
                "show_expected": not stocktake.blind,
                "can_count": stocktake.status == StocktakeStatus.COUNTING
                and allowed_at(request.user, "parts.count_stocktake", dealer=stocktake.dealer),
                "can_submit": stocktake.status == StocktakeStatus.COUNTING
                and allowed_at(request.user, "parts.count_stocktake", dealer=stocktake.dealer),
            },
        )

    def post(self, request, pk):
        stocktake = _stocktake(request, pk, "count")
        url = reverse("stocktake-count", kwargs={"pk": stocktake.pk})
        code = (request.POST.get("code") or "").strip()
        bin_code = (request.POST.get("bin") or "").strip()
        quantity = (request.POST.get("quantity") or "").strip()
        if code.upper().startswith("BIN:"):
            # a bin label scanned into the code box selects the bin
            found = stocktakes.bin_for_code(stocktake.warehouse, code)
            if found is None:
                messages.error(request, _("No bin %(code)s in this warehouse.") % {"code": code})
                return redirect(url)
            return redirect(f"{url}?bin={found.pk}")
        current = stocktakes.bin_for_code(stocktake.warehouse, bin_code) if bin_code else None
        back = f"{url}?bin={current.pk}" if current else url
        if current is None:
            messages.error(request, _("Scan a bin label first."))
            return redirect(back)
        part = find_part(code)
        if part is None:
            messages.error(
                request, _("No part with number or barcode %(code)s.") % {"code": code or "—"}
            )
            return redirect(back)
        try:
            if quantity:
                line = stocktakes.stocktake_count(
                    actor=request.user,
                    stocktake=stocktake,
                    bin=current,
                    part=part,
                    counted=quantity,
                )
            else:
                line = stocktakes.stocktake_count(
                    actor=request.user, stocktake=stocktake, bin=current, part=part, add=1
                )
        except ServiceError as exc:
            flash_error(request, exc)
        else:
            messages.success(
                request,
                _("%(part)s in %(bin)s: %(n)s counted.")
                % {
                    "part": part.number,
                    "bin": current.code,
                    "n": stocktakes.stock.show(line.counted),
                },
            )
        return redirect(back)


STOCKTAKE_STEPS = {
    "submit": ("parts.count_stocktake", "count", stocktakes.stocktake_submit),
    "reopen": ("parts.count_stocktake", "count", stocktakes.stocktake_reopen),
    "approve": ("parts.approve_stocktake", "approve", stocktakes.stocktake_approve),
    "cancel": ("parts.add_stocktake", "add", stocktakes.stocktake_cancel),
}


class StocktakeActionView(PermissionPage, View):
    def get_permission(self):
        step = STOCKTAKE_STEPS.get(self.kwargs.get("step"))
        if step is None:
            raise Http404
        return step[0]

    def post(self, request, pk, step):
        _permission, verb, service = STOCKTAKE_STEPS[step]
        stocktake = _stocktake(request, pk, verb)
        kwargs = {}
        if step == "submit" and request.POST.get("uncounted_as_zero"):
            kwargs["uncounted_as_zero"] = True
        try:
            stocktake = service(actor=request.user, stocktake=stocktake, **kwargs)
        except ServiceError as exc:
            flash_error(request, exc)
            if step == "submit":
                return redirect("stocktake-count", pk=pk)
        else:
            messages.success(
                request,
                _("Stocktake %(number)s: %(status)s.")
                % {"number": stocktake.number, "status": stocktake.get_status_display()},
            )
        return redirect("stocktake-detail", pk=pk)


class StocktakeDetailView(PermissionPage, View):
    """The review: expected, moved since the snapshot, counted, variance and its value."""

    permission = "parts.view_stocktake"

    def get(self, request, pk):
        stocktake = _stocktake(request, pk)
        lines = _sheet(stocktake)
        if stocktake.status != StocktakeStatus.APPROVED:
            stocktakes.reconcile(lines)
        hidden = stocktake.blind and stocktake.status == StocktakeStatus.COUNTING
        total_value = Decimal("0")
        for line in lines:
            line.value = (
                (line.variance * line.item.avg_cost).quantize(Decimal("0.01"))
                if line.variance is not None
                else None
            )
            total_value += line.value or 0
        dealer = stocktake.dealer
        user = request.user
        status = stocktake.status
        return render(
            request,
            "parts/counting_stocktake_detail.html",
            {
                "stocktake": stocktake,
                "lines": lines,
                "hidden": hidden,
                "total_value": total_value,
                "counted": sum(1 for ln in lines if ln.counted is not None),
                "with_variance": sum(1 for ln in lines if ln.variance),
                "can_count": status == StocktakeStatus.COUNTING
                and allowed_at(user, "parts.count_stocktake", dealer=dealer),
                "can_reopen": status == StocktakeStatus.REVIEW
                and allowed_at(user, "parts.count_stocktake", dealer=dealer),
                "can_approve": status == StocktakeStatus.REVIEW
                and allowed_at(user, "parts.approve_stocktake", dealer=dealer),
                "can_cancel": status in stocktakes.OPEN
                and allowed_at(user, "parts.add_stocktake", dealer=dealer),
            },
        )


# ---------------------------------------------------------------- transfers


class TransferListView(PermissionPage, ListView):
    permission = "parts.view_transfer"
    template_name = "parts/counting_transfer_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = (
            Transfer.objects.restrict(self.request.user, "view")
            .select_related("from_warehouse", "to_warehouse", "from_dealer", "to_dealer")
            .annotate(line_count=Count("lines"))
            .order_by("-requested_at", "-id")
        )
        tab = self.request.GET.get("tab")
        scope = user_scope(self.request.user, "parts.view_transfer")
        if tab in ("incoming", "outgoing") and not scope.everything:
            field = "to_dealer_id__in" if tab == "incoming" else "from_dealer_id__in"
            queryset = queryset.filter(**{field: scope.dealer_ids})
        status = self.request.GET.get("status")
        if status in TransferStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs,
            tab=self.request.GET.get("tab", ""),
            can_add=user_has_perm(self.request.user, "parts.add_transfer"),
        )


class TransferRequestView(PermissionPage, View):
    permission = "parts.add_transfer"
    template = "parts/counting_transfer_form.html"

    def _form(self, request, data=None):
        targets = Warehouse.objects.filter(
            active=True, dealer_id__in=_dealers(request.user, "parts.add_transfer")
        ).select_related("dealer")
        # parts may be asked of any warehouse of a dealer in the same region (the sender
        # approves); other regions' warehouses are not listed
        sources = (
            Warehouse.objects.filter(
                active=True,
                dealer__region__dealers__in=_dealers(request.user, "parts.add_transfer"),
            )
            .select_related("dealer")
            .distinct()
        )
        return TransferRequestForm(data, sources=sources, targets=targets)

    def _render(self, request, form, rows):
        return render(request, self.template, {"form": form, "rows": rows})

    def get(self, request):
        return self._render(request, self._form(request), [])

    def post(self, request):
        form = self._form(request, request.POST)
        codes = request.POST.getlist("part")
        amounts = request.POST.getlist("quantity")
        rows = [
            {"part": c.strip(), "quantity": q.strip()}
            for c, q in zip(codes, amounts, strict=False)
            if c.strip()
        ]
        if not form.is_valid():
            return self._render(request, form, rows)
        key = clean_key(form.cleaned_data.get("idempotency_key"))
        lines = []
        for row in rows:
            part = find_part(row["part"])
            if part is None:
                form.add_error(
                    None, _("No part with number or barcode %(code)s.") % {"code": row["part"]}
                )
                return self._render(request, form, rows)
            lines.append((part, row["quantity"] or "0"))
        data = form.cleaned_data
        try:
            transfer, acted = once(
                user=request.user,
                scope="parts.transfer_request",
                key=key,
                action=lambda: transfers.transfer_request(
                    actor=request.user,
                    from_warehouse=data["from_warehouse"],
                    to_warehouse=data["to_warehouse"],
                    lines=lines,
                    note=data["note"],
                ),
                model=Transfer,
            )
        except ServiceError as exc:
            form.add_error(None, str(exc.message))
            return self._render(request, form, rows)
        if not acted:  # a double submit: show what the first one made
            return redirect("transfer-detail", pk=transfer.pk)
        messages.success(request, _("Transfer %(number)s requested.") % {"number": transfer.number})
        return redirect("transfer-detail", pk=transfer.pk)


def _transfer(request, pk, action="view") -> Transfer:
    return get_object_or_404(
        Transfer.objects.restrict(request.user, action).select_related(
            "from_warehouse", "to_warehouse", "from_dealer", "to_dealer", "requested_by"
        ),
        pk=pk,
    )


class TransferDetailView(PermissionPage, View):
    permission = "parts.view_transfer"

    def get(self, request, pk):
        transfer = _transfer(request, pk)
        user, status = request.user, transfer.status
        sender, receiver = transfer.from_dealer, transfer.to_dealer
        lines = list(transfer.lines.select_related("part"))
        return render(
            request,
            "parts/counting_transfer_detail.html",
            {
                "transfer": transfer,
                "lines": lines,
                "bins": Bin.objects.filter(warehouse=transfer.to_warehouse, active=True),
                "can_approve": status == TransferStatus.REQUESTED
                and allowed_at(user, "parts.approve_transfer", dealer=sender),
                "can_ship": status == TransferStatus.APPROVED
                and allowed_at(user, "parts.change_transfer", dealer=sender),
                "can_receive": status == TransferStatus.IN_TRANSIT
                and allowed_at(user, "parts.change_transfer", dealer=receiver),
                "can_cancel": status in (TransferStatus.REQUESTED, TransferStatus.APPROVED)
                and (
                    allowed_at(user, "parts.add_transfer", dealer=receiver)
                    or allowed_at(user, "parts.change_transfer", dealer=sender)
                ),
                "side": _("sending")
                if allowed_at(user, "parts.view_transfer", dealer=sender)
                else _("receiving"),
            },
        )


TRANSFER_STEPS = {
    "approve": ("parts.approve_transfer", "approve"),
    "reject": ("parts.approve_transfer", "approve"),
    "ship": ("parts.change_transfer", "change"),
    "receive": ("parts.change_transfer", "change"),
    "cancel": ("parts.change_transfer", "change"),
}


class TransferActionView(PermissionPage, View):
    def get_permission(self):
        step = TRANSFER_STEPS.get(self.kwargs.get("step"))
        if step is None:
            raise Http404
        return step[0]

    def post(self, request, pk, step):
        transfer = _transfer(request, pk, TRANSFER_STEPS[step][1])
        try:
            if step == "approve":
                transfer = transfers.transfer_approve(actor=request.user, transfer=transfer)
            elif step == "reject":
                transfer = transfers.transfer_reject(
                    actor=request.user,
                    transfer=transfer,
                    reason=(request.POST.get("reason") or "").strip()[:100],
                )
            elif step == "ship":
                transfer = transfers.transfer_ship(actor=request.user, transfer=transfer)
            elif step == "receive":
                transfer = transfers.transfer_receive(
                    actor=request.user, transfer=transfer, bins=self._bins(request, transfer)
                )
            else:
                transfer = transfers.transfer_cancel(actor=request.user, transfer=transfer)
        except ServiceError as exc:
            flash_error(request, exc)
        else:
            messages.success(
                request,
                _("Transfer %(number)s: %(status)s.")
                % {"number": transfer.number, "status": transfer.get_status_display()},
            )
        return redirect("transfer-detail", pk=pk)

    @staticmethod
    def _bins(request, transfer):
        chosen = {}
        for line in transfer.lines.all():
            code = (request.POST.get(f"bin_{line.pk}") or "").strip()
            if not code:
                continue
            found = stocktakes.bin_for_code(transfer.to_warehouse, code)
            if found is None:
                raise ValidationFailed(
                    _("No bin %(code)s in this warehouse.") % {"code": code},
                    fields={"bin": [_("Unknown bin.")]},
                )
            chosen[line.pk] = found
        return chosen
