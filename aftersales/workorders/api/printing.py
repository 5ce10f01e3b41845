"""API of the printing area: the repair order (任务委托书) and the delivery sheet (交车单)
as PDFs, ``GET /api/workorders/print/<id>/repair-order.pdf/`` and
``.../delivery-sheet.pdf/``. Scoped with ``restrict`` (another dealer's id answers 404);
the delivery sheet answers 409 ``not_qc_passed`` before the work has passed QC."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action

from aftersales.core.drf import ScopedByActionMixin
from aftersales.workorders import printing
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.views_printing import pdf_response

PDF = OpenApiResponse(OpenApiTypes.BINARY, description="application/pdf")


class RepairOrderPrintViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    queryset = RepairOrder.objects.select_related(
        "dealer", "vehicle__variant__vehicle_model", "customer", "service_advisor"
    )
    action_verbs = {"repair_order": "view", "delivery_sheet": "view"}

    @extend_schema(
        summary="The repair order (任务委托书) as a Chinese A4 PDF", responses={200: PDF}
    )
    @action(detail=True, methods=["get"], url_path="repair-order.pdf", url_name="repair-order")
    def repair_order(self, request, pk=None):
        order = self.get_object()
        content = printing.repair_order_pdf(order, user=request.user)
        return pdf_response(content, printing.pdf_filename(order, "repair-order"))

    @extend_schema(
        summary="The delivery sheet (交车单) as a Chinese A4 PDF (QC passed or later)",
        responses={200: PDF, 409: OpenApiResponse(description="not_qc_passed")},
    )
    @action(detail=True, methods=["get"], url_path="delivery-sheet.pdf", url_name="delivery-sheet")
    def delivery_sheet(self, request, pk=None):
        order = self.get_object()
        content = printing.delivery_sheet_pdf(order, user=request.user)
        return pdf_response(content, printing.pdf_filename(order, "delivery-sheet"))


def register(router):
    router.register("workorders/print", RepairOrderPrintViewSet, basename="ro-print")
