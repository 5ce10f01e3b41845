"""The catalogue's API endpoints in the access test matrix. The catalogue is OEM-level:
every holder of the view permission reads all of it, so nothing is dealer-scoped."""

from aftersales.testing.matrix import Endpoint, declare


def _variant(dealer):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant

    load_catalogue_demo()
    return Variant.objects.select_related("vehicle_model__brand").order_by("id").first()


def _model(dealer):
    return _variant(dealer).vehicle_model


def _brand(dealer):
    return _variant(dealer).vehicle_model.brand


declare(
    Endpoint("api:brand-list", "api", "catalogue.view_brand", make=_brand, scoped=False),
    Endpoint(
        "api:brand-detail", "api", "catalogue.view_brand", make=_brand, detail=True, scoped=False
    ),
    Endpoint(
        "api:vehiclemodel-list", "api", "catalogue.view_vehiclemodel", make=_model, scoped=False
    ),
    Endpoint(
        "api:vehiclemodel-detail",
        "api",
        "catalogue.view_vehiclemodel",
        make=_model,
        detail=True,
        scoped=False,
    ),
    Endpoint("api:variant-list", "api", "catalogue.view_variant", make=_variant, scoped=False),
    Endpoint(
        "api:variant-detail",
        "api",
        "catalogue.view_variant",
        make=_variant,
        detail=True,
        scoped=False,
    ),
)
