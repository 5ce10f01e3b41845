"""Pages of the printing area: the PDFs linked from the repair-order header."""

from django.urls import path

from aftersales.workorders import views_printing

urlpatterns = [
    path(
        "repair-orders/<int:pk>/print/repair-order.pdf",
        views_printing.RepairOrderPrintView.as_view(),
        name="ro-print",
    ),
    path(
        "repair-orders/<int:pk>/print/delivery-sheet.pdf",
        views_printing.DeliverySheetPrintView.as_view(),
        name="ro-delivery-sheet",
    ),
]
