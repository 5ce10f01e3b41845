"""Settlement pages; each area keeps its own URL module."""

from aftersales.billing import urls_cashier, urls_invoices

urlpatterns = urls_invoices.urlpatterns + urls_cashier.urlpatterns
