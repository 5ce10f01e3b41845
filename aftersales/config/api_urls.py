from rest_framework.routers import DefaultRouter

from aftersales.core.api_views import AuditLogViewSet, OutboxMessageViewSet
from aftersales.org.api.views import DealerViewSet, RegionViewSet, StaffViewSet

router = DefaultRouter()
router.register("org/regions", RegionViewSet, basename="region")
router.register("org/dealers", DealerViewSet, basename="dealer")
router.register("org/staff", StaffViewSet, basename="staff")
router.register("audit", AuditLogViewSet, basename="auditlog")
router.register("outbox", OutboxMessageViewSet, basename="outboxmessage")

urlpatterns = router.urls
