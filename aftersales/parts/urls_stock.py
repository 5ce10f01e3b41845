"""Parts pages: stock (list, card, manual movements), warehouses and bins, labels, reports."""

from django.urls import path

from aftersales.parts import views_stock as views

urlpatterns = [
    path("parts/stock/", views.StockListView.as_view(), name="stock-list"),
    path("parts/stock/<int:pk>/", views.StockCardView.as_view(), name="stock-card"),
    path("parts/stock/scan/", views.ScanView.as_view(), name="stock-scan"),
    path("parts/stock/issue/", views.IssueView.as_view(), name="stock-issue"),
    path("parts/stock/return/", views.ReturnView.as_view(), name="stock-return"),
    path("parts/stock/adjust/", views.AdjustView.as_view(), name="stock-adjust"),
    path("parts/stock/move/", views.RelocateView.as_view(), name="stock-relocate"),
    path("parts/warehouses/", views.WarehouseListView.as_view(), name="warehouse-list"),
    path("parts/warehouses/new/", views.WarehouseCreateView.as_view(), name="warehouse-create"),
    path(
        "parts/warehouses/<int:pk>/", views.WarehouseDetailView.as_view(), name="warehouse-detail"
    ),
    path("parts/warehouses/<int:pk>/bins/", views.BinAddView.as_view(), name="warehouse-bins-add"),
    path(
        "parts/bins/<int:pk>/deactivate/",
        views.BinDeactivateView.as_view(),
        name="bin-deactivate",
    ),
    path(
        "parts/warehouses/<int:pk>/part-labels/",
        views.PartLabelsView.as_view(),
        name="part-labels",
    ),
    path("parts/warehouses/<int:pk>/bin-labels/", views.BinLabelsView.as_view(), name="bin-labels"),
    path("parts/reports/", views.ReportsView.as_view(), name="parts-reports"),
    path(
        "parts/reports/<slug:name>/export/",
        views.ReportExportView.as_view(),
        name="parts-report-export",
    ),
]
