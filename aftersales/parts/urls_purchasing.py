"""Parts pages: purchasing (purchase orders, receiving, suggestions, reorder levels)."""

from django.urls import path, re_path

from aftersales.parts import views_purchasing as views

urlpatterns = [
    path(
        "parts/purchase-orders/", views.PurchaseOrderListView.as_view(), name="purchase-order-list"
    ),
    path(
        "parts/purchase-orders/new/",
        views.PurchaseOrderCreateView.as_view(),
        name="purchase-order-create",
    ),
    path(
        "parts/purchase-orders/<int:pk>/",
        views.PurchaseOrderDetailView.as_view(),
        name="purchase-order-detail",
    ),
    path(
        "parts/purchase-orders/<int:pk>/scan/",
        views.PurchaseOrderScanView.as_view(),
        name="purchase-order-scan",
    ),
    path(
        "parts/purchase-orders/<int:pk>/lines/<int:line>/",
        views.PurchaseOrderLineView.as_view(),
        name="purchase-order-line",
    ),
    path(
        "parts/purchase-orders/<int:pk>/receive/",
        views.PurchaseOrderReceiveView.as_view(),
        name="purchase-order-receive",
    ),
    re_path(
        r"^parts/purchase-orders/(?P<pk>\d+)/(?P<action>submit|cancel|close-short)/$",
        views.PurchaseOrderActionView.as_view(),
        name="purchase-order-action",
    ),
    path(
        "parts/suggestions/", views.PurchaseSuggestionsView.as_view(), name="purchase-suggestions"
    ),
    path(
        "parts/suggestions/order/",
        views.PurchaseSuggestionsOrderView.as_view(),
        name="purchase-suggestions-order",
    ),
    path("parts/low-stock/", views.LowStockListView.as_view(), name="low-stock-list"),
    path("parts/levels/<int:pk>/", views.StockLevelsView.as_view(), name="stock-levels-edit"),
]
