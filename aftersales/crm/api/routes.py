from aftersales.crm.api.views import (
    CustomerTagViewSet,
    CustomerViewSet,
    SearchViewSet,
    ServiceVisitViewSet,
    VehicleLookupViewSet,
    VehicleViewSet,
)


def register(router):
    router.register("crm/customers", CustomerViewSet, basename="customer")
    router.register("crm/vehicles", VehicleViewSet, basename="vehicle")
    router.register("crm/vehicle-lookup", VehicleLookupViewSet, basename="vehicle-lookup")
    router.register("crm/search", SearchViewSet, basename="crm-search")
    router.register("crm/tags", CustomerTagViewSet, basename="customertag")
    router.register("crm/visits", ServiceVisitViewSet, basename="servicevisit")
