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
    """``router.urls`` with each viewset's routes under includes of its prefix (one for
    ``<prefix>/…``, one for the format suffix ``<prefix>.json``): a request is compared with
    the prefixes (plain string comparisons) and then with the few routes of one viewset,
    not with each of the API's 500 route patterns in turn (that scan was 6 % of an API
    request's time). The URLs, names and order of viewsets stay the same."""
    prefixes = sorted((prefix for prefix, _v, _b in router.registry), key=len, reverse=True)
    patterns, groups = [], {}  # groups: prefix -> {"/": [...], ".": [...]}

    for pattern in router.urls:
        regex = pattern.pattern.regex.pattern
        prefix = next(
            (p for p in prefixes if regex.startswith(f"^{p}") and regex[len(p) + 1] in "/\\"),
            None,
        )
        if prefix is None:  # the API root
            patterns.append(pattern)
            continue
        if prefix not in groups:
            groups[prefix] = {"/": [], ".": []}
            patterns.append(prefix)  # its place; the includes are put there below
        rest = regex[len(prefix) + 1 :]
        slash = rest.startswith("/")
        route = re_path(
            "^" + (rest[1:] if slash else rest),
            pattern.callback,
            pattern.default_args,
            pattern.name,
        )
        groups[prefix]["/" if slash else "."].append(route)

    result = []
    for item in patterns:
        if not isinstance(item, str):
            result.append(item)
            continue
        if groups[item]["/"]:
            result.append(path(f"{item}/", include(groups[item]["/"])))
        if groups[item]["."]:
            result.append(path(item, include(groups[item]["."])))
    return result


urlpatterns = by_prefix(router) + registration_urls
