from aftersales.crm.import_urls import urlpatterns as import_urlpatterns
from aftersales.crm.page_urls import urlpatterns as page_urlpatterns

urlpatterns = page_urlpatterns + import_urlpatterns
