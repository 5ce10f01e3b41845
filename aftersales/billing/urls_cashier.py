"""Settlement pages: cashier."""

from django.urls import path

from aftersales.billing import views_cashier as views

urlpatterns = [
    path("cashier/", views.CashierHomeView.as_view(), name="billing-cashier"),
    path(
        "cashier/orders/<int:pk>/", views.CashierOrderView.as_view(), name="billing-cashier-order"
    ),
    path(
        "cashier/orders/<int:pk>/deposit/",
        views.CashierDepositView.as_view(),
        name="billing-cashier-deposit",
    ),
    path(
        "cashier/invoices/<int:pk>/pay/", views.CashierPayView.as_view(), name="billing-cashier-pay"
    ),
    path(
        "cashier/payments/<int:pk>/refund/",
        views.CashierRefundView.as_view(),
        name="billing-cashier-refund",
    ),
    path("cashier/payments/<int:pk>/receipt/", views.ReceiptView.as_view(), name="billing-receipt"),
    path(
        "cashier/deposits/<int:pk>/refund/",
        views.CashierDepositRefundView.as_view(),
        name="billing-cashier-deposit-refund",
    ),
    path("cashier/closing/", views.ClosingView.as_view(), name="billing-closing"),
    path("cashier/reports/", views.ReportsView.as_view(), name="billing-reports"),
    path(
        "cashier/reports/export/", views.ReportExportView.as_view(), name="billing-reports-export"
    ),
]
