from importlib import import_module

from django.urls import include, path, re_path
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


def by_prefix(router):
    """``router.urls`` with each viewset's routes under an include of its prefix: a
    request is compared with the prefixes (plain string comparisons) and then with the
    few routes of one viewset, not with each of the API's 500 route patterns in turn (that
    scan was 6 % of an API request's time). The URLs, names and order stay the same."""
    prefixes = sorted((prefix for prefix, _v, _b in router.registry), key=len, reverse=True)
    patterns, current, group = [], None, []

    def close():
        if group:
            patterns.append(path(current, include(group)))

    for pattern in router.urls:
        regex = pattern.pattern.regex.pattern
        prefix = next(
            (p for p in prefixes if regex.startswith(f"^{p}") and regex[len(p) + 1] in "/\\$"),
            None,
        )
        if prefix is None:  # the API root
            close()
            current, group = None, []
            patterns.append(pattern)
            continue
        if prefix != current:
            close()
            current, group = prefix, []
        rest = "^" + regex[len(prefix) + 1 :]
        group.append(re_path(rest, pattern.callback, pattern.default_args, pattern.name))
    close()
    return patterns


urlpatterns = by_prefix(router) + registration_urls
