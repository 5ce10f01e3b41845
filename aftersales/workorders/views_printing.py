"""The printed repair order (任务委托书) and delivery sheet (交车单): PDFs opened inline
in the browser's viewer, from the repair-order header."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from aftersales.core.errors import Conflict
from aftersales.core.pages import PermissionPage
from aftersales.workorders import printing, selectors


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class RepairOrderPrintView(PermissionPage, View):
    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        content = printing.repair_order_pdf(order, user=request.user)
        return pdf_response(content, printing.pdf_filename(order, "repair-order"))


class DeliverySheetPrintView(PermissionPage, View):
    permission = "workorders.view_repairorder"

    def get(self, request, pk):
        order = selectors.order_or_404(request.user, pk)
        try:
            content = printing.delivery_sheet_pdf(order, user=request.user)
        except Conflict as error:
            return render(
                request,
                "workorders/print_refused.html",
                {"order": order, "message": error.message},
                status=409,
            )
        return pdf_response(content, printing.pdf_filename(order, "delivery-sheet"))
