"""Parts pages; each area keeps its own URL module."""

from aftersales.parts import urls_catalogue, urls_counting, urls_purchasing, urls_stock

urlpatterns = (
    urls_catalogue.urlpatterns
    + urls_stock.urlpatterns
    + urls_purchasing.urlpatterns
    + urls_counting.urlpatterns
)
