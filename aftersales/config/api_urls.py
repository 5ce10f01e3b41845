from importlib import import_module

from rest_framework.routers import DefaultRouter

from aftersales.core.api_views import AuditLogViewSet, OutboxMessageViewSet
from aftersales.crm.api.registration_routes import urlpatterns as registration_urls
from aftersales.org.api.views import DealerViewSet, RegionViewSet, StaffViewSet

router = DefaultRouter()
router.register("org/regions", RegionViewSet, basename="region")
router.register("org/dealers", DealerViewSet, basename="dealer")
router.register("org/staff", StaffViewSet, basename="staff")
router.register("audit", AuditLogViewSet, basename="auditlog")
router.register("outbox", OutboxMessageViewSet, basename="outboxmessage")

# Each app registers its routes on the shared router (one API root lists them all).
for module in (
    "aftersales.catalogue.api.routes",
    "aftersales.crm.api.routes",
    "aftersales.crm.api.import_routes",
    "aftersales.crm.api.registration_routes",
    "aftersales.parts.api.catalogue",
    "aftersales.parts.api.stock",
    "aftersales.parts.api.purchasing",
    "aftersales.parts.api.counting",
    "aftersales.workorders.api.orders",
    "aftersales.workorders.api.catalogue",
    "aftersales.workorders.api.reception",
    "aftersales.workorders.api.estimate",
    "aftersales.workorders.api.workshop",
    "aftersales.workorders.api.quality",
    "aftersales.workorders.api.printing",
    "aftersales.billing.api.routes",
    "aftersales.claims.api.routes",
    "aftersales.appointments.api.routes",
    "aftersales.complaints.api.routes",
    "aftersales.reminders.api.routes",
    "aftersales.care.api.routes",
):
    import_module(module).register(router)

urlpatterns = router.urls + registration_urls
