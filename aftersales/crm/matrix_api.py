"""Access-matrix declarations (see aftersales/testing/matrix.py) of the CRM API.

Creates (POST on a list URL) are declared with ``detail=True`` and empty URL kwargs: the
matrix then checks 401/403/201 without looking for a list in the answer; they are not
dealer-scoped (a user creates at their own dealer). The reception lookup is the documented
exception to dealer scoping: any dealer's staff find any vehicle by exact VIN or plate, so
it is declared ``scoped=False`` (crm/tests/test_api.py checks partial input finds nothing).
"""

import datetime

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _customer(dealer):
    from aftersales.crm.testing import make_customer, valid_id_number

    return make_customer(dealer=dealer, id_number=valid_id_number())


def _vehicle(dealer):
    from aftersales.crm.testing import make_vehicle

    return make_vehicle(owner=_customer(dealer), dealer=dealer)


def _visit(dealer):
    from aftersales.crm.choices import VisitKind
    from aftersales.crm.models import ServiceVisit

    vehicle = _vehicle(dealer)
    return ServiceVisit.objects.create(
        customer=vehicle.owner,
        vehicle=vehicle,
        dealer=dealer,
        visited_on=datetime.date(2025, 5, 1),
        kind=VisitKind.MAINTENANCE,
        amount="680.00",
    )


def _tag(dealer):
    from aftersales.crm.models import CustomerTag

    return CustomerTag.objects.get_or_create(name="VIP")[0]


def _new_customer_data(record):
    from aftersales.crm.testing import unique_mobile

    return {"name": "王芳", "mobile": unique_mobile(), "city": "北京"}


def _new_vehicle_data(owner):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.crm.testing import unique_plate, valid_vin

    load_catalogue_demo()
    variant = Variant.objects.get(code="X3-15T-2024")
    return {
        "owner": owner.pk,
        "vin": valid_vin(variant.vin_prefix, variant.model_year),
        "plate": unique_plate(),
        "variant": variant.pk,
        "sale_date": "2025-01-10",
    }


def _other_customer_of(record):
    from aftersales.crm.testing import make_customer

    customer = getattr(record, "owner", None) or record
    return make_customer(dealer=customer.origin_dealer)


declare(
    # customers
    Endpoint("api:customer-list", "api", "crm.view_customer", make=_customer),
    Endpoint(
        "api:customer-list",
        "api",
        "crm.add_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_customer_data,
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:customer-detail", "api", "crm.view_customer", make=_customer, detail=True),
    Endpoint(
        "api:customer-detail",
        "api",
        "crm.change_customer",
        make=_customer,
        detail=True,
        method="patch",
        data=lambda customer: {"version": customer.version, "city": "天津"},
    ),
    Endpoint("api:customer-360", "api", "crm.view_customer", make=_customer, detail=True),
    Endpoint(
        "api:customer-reveal-id",
        "api",
        "crm.reveal_customer",
        make=_customer,
        detail=True,
        method="post",
    ),
    Endpoint("api:customer-duplicates", "api", "crm.merge_customer", make=_customer, detail=True),
    Endpoint(
        "api:customer-merge",
        "api",
        "crm.merge_customer",
        make=_customer,
        detail=True,
        method="post",
        data=lambda customer: {"duplicate": _other_customer_of(customer).pk},
    ),
    # vehicles
    Endpoint("api:vehicle-list", "api", "crm.view_vehicle", make=_vehicle),
    Endpoint(
        "api:vehicle-list",
        "api",
        "crm.add_vehicle",
        make=_customer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_vehicle_data,
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:vehicle-detail", "api", "crm.view_vehicle", make=_vehicle, detail=True),
    Endpoint(
        "api:vehicle-detail",
        "api",
        "crm.change_vehicle",
        make=_vehicle,
        detail=True,
        method="patch",
        data=lambda vehicle: {"version": vehicle.version, "colour": "星空灰"},
    ),
    Endpoint("api:vehicle-odometer", "api", "crm.view_vehicle", make=_vehicle, detail=True),
    Endpoint(
        "api:vehicle-odometer",
        "api",
        "crm.change_vehicle",
        make=_vehicle,
        detail=True,
        method="post",
        data=lambda vehicle: {"km": 12_000, "read_on": "2025-01-15"},
        ok_status=201,
    ),
    Endpoint(
        "api:vehicle-transfer",
        "api",
        "crm.change_vehicle",
        make=_vehicle,
        detail=True,
        method="post",
        data=lambda vehicle: {
            "new_owner": _other_customer_of(vehicle).pk,
            "version": vehicle.version,
        },
    ),
    Endpoint("api:vehicle-ownerships", "api", "crm.view_vehicle", make=_vehicle, detail=True),
    # reception lookup: any dealer, exact VIN or plate only (GET data is the query string)
    Endpoint(
        "api:vehicle-lookup-list",
        "api",
        "crm.view_vehicle",
        make=_vehicle,
        detail=True,
        url_kwargs=_NO_KWARGS,
        data=lambda vehicle: {"q": vehicle.vin},
        scoped=False,
    ),
    # search: the hits are the list; another dealer's user finds nothing
    Endpoint(
        "api:crm-search-list",
        "api",
        "crm.view_customer",
        make=_customer,
        data=lambda customer: {"q": customer.mobile},
    ),
    Endpoint("api:customertag-list", "api", "crm.view_customertag", make=_tag, scoped=False),
    Endpoint("api:servicevisit-list", "api", "crm.view_servicevisit", make=_visit),
)
