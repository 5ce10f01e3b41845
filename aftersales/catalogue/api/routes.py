from aftersales.catalogue.api.views import BrandViewSet, VariantViewSet, VehicleModelViewSet


def register(router):
    router.register("catalogue/brands", BrandViewSet, basename="brand")
    router.register("catalogue/models", VehicleModelViewSet, basename="vehiclemodel")
    router.register("catalogue/variants", VariantViewSet, basename="variant")
