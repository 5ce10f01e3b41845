"""Service-visit pages; each area keeps its own URL module."""

from aftersales.workorders import (
    urls_catalogue,
    urls_estimate,
    urls_orders,
    urls_printing,
    urls_quality,
    urls_reception,
    urls_workshop,
)

urlpatterns = (
    urls_orders.urlpatterns
    + urls_catalogue.urlpatterns
    + urls_reception.urlpatterns
    + urls_estimate.urlpatterns
    + urls_workshop.urlpatterns
    + urls_quality.urlpatterns
    + urls_printing.urlpatterns
)
