"""Access-matrix declarations of the parts catalogue endpoints and pages. The catalogue is
OEM-level: every holder of ``parts.view_part`` reads all of it, so nothing is scoped."""

from aftersales.testing.matrix import Endpoint, declare


def _part(dealer):
    """A part (sorting first by number) that fits the first demo variant's model."""
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.parts.models import Fitment
    from aftersales.parts.testing import make_part

    load_catalogue_demo()
    variant = Variant.objects.select_related("vehicle_model").order_by("id").first()
    part = make_part(number="0000MATRIX")
    Fitment.objects.create(part=part, vehicle_model=variant.vehicle_model)
    part.matrix_variant = variant
    return part


def _vin(part):
    from aftersales.crm.validators import compose_vin

    variant = part.matrix_variant
    return compose_vin(variant.vin_prefix, variant.model_year, "A", 1)


def _category(dealer):
    return _part(dealer).category


def _no_kwargs(record):
    return {}


declare(
    Endpoint("api:part-list", "api", "parts.view_part", make=_part, scoped=False),
    Endpoint("api:part-detail", "api", "parts.view_part", make=_part, detail=True, scoped=False),
    Endpoint("api:partcategory-list", "api", "parts.view_part", make=_category, scoped=False),
    Endpoint(
        "api:partcategory-detail",
        "api",
        "parts.view_part",
        make=_category,
        detail=True,
        scoped=False,
    ),
    # fitment by VIN: a list answer for the VIN given as the query string
    Endpoint(
        "api:part-fitment-list",
        "api",
        "parts.view_part",
        make=_part,
        data=lambda part: {"vin": _vin(part)},
        scoped=False,
    ),
    Endpoint("part-lookup", "page", "parts.view_part", make=_part, scoped=False),
    Endpoint("part-detail", "page", "parts.view_part", make=_part, detail=True, scoped=False),
)
