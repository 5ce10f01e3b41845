"""Settlement pages: invoices, credit notes and the billing settings."""

from django.urls import path

from aftersales.billing import views_invoices as views

urlpatterns = [
    path("billing/invoices/", views.InvoiceListView.as_view(), name="invoice-list"),
    path("billing/invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("billing/invoices/<int:pk>/edit", views.InvoiceEditView.as_view(), name="invoice-edit"),
    path("billing/invoices/<int:pk>/issue", views.InvoiceIssueView.as_view(), name="invoice-issue"),
    path(
        "billing/invoices/<int:pk>/invoice.pdf", views.InvoicePdfView.as_view(), name="invoice-pdf"
    ),
    path(
        "billing/invoices/<int:pk>/credit-notes/new",
        views.CreditNoteCreateView.as_view(),
        name="credit-note-create",
    ),
    path(
        "billing/credit-notes/<int:pk>/",
        views.CreditNoteDetailView.as_view(),
        name="credit-note-detail",
    ),
    path(
        "billing/credit-notes/<int:pk>/credit-note.pdf",
        views.CreditNotePdfView.as_view(),
        name="credit-note-pdf",
    ),
    path(
        "repair-orders/<int:pk>/invoices/prepare",
        views.InvoicePrepareView.as_view(),
        name="invoice-prepare",
    ),
    path("billing/settings/", views.BillingSettingsHomeView.as_view(), name="billing-settings"),
    path(
        "billing/settings/<int:dealer>/",
        views.BillingSettingsView.as_view(),
        name="billing-settings-dealer",
    ),
]
