"""Access-matrix declarations of the CRM and catalogue staff pages (see
aftersales/testing/matrix.py)."""

from aftersales.testing.matrix import Endpoint, declare


def _customer(dealer):
    from aftersales.crm.testing import make_customer, valid_id_number

    return make_customer(dealer=dealer, id_number=valid_id_number())


def _vehicle(dealer):
    from aftersales.crm.testing import make_customer, make_vehicle

    return make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)


def _merge_pair(dealer):
    """Two customers of ``dealer``: the first is the record, the second rides along."""
    from aftersales.crm.testing import make_customer

    first = make_customer(dealer=dealer, name="王芳")
    first.other = make_customer(dealer=dealer, name="王芳")
    return first


def _duplicate_pair(dealer):
    """Two customers of ``dealer`` sharing a phone: the first one's mobile is the second
    one's other phone. The duplicates page lists a pair under its lower id (the first)."""
    from aftersales.crm.testing import make_customer

    first = make_customer(dealer=dealer, name="陈静")
    make_customer(dealer=dealer, name="陈静", phone2=first.mobile)
    return first


def _vehicle_model(dealer):
    from aftersales.catalogue.models import Brand, VehicleModel

    brand, _ = Brand.objects.get_or_create(code="MX", defaults={"name": "矩阵"})
    return VehicleModel.objects.create(brand=brand, code=f"MX{dealer.pk}", name="矩阵 M1")


def _nothing(record):
    return {}


def _merge_kwargs(record):
    return {"pk": record.pk, "other": record.other.pk}


declare(
    # customers
    Endpoint("customer-list", "page", "crm.view_customer", make=_customer),
    Endpoint(
        "customer-create",
        "page",
        "crm.add_customer",
        make=_customer,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    Endpoint("customer-detail", "page", "crm.view_customer", make=_customer, detail=True),
    Endpoint("customer-edit", "page", "crm.change_customer", make=_customer, detail=True),
    Endpoint(
        "customer-reveal-id",
        "page",
        "crm.reveal_customer",
        make=_customer,
        detail=True,
        method="post",
    ),
    Endpoint(
        "customer-merge",
        "page",
        "crm.merge_customer",
        make=_merge_pair,
        detail=True,
        url_kwargs=_merge_kwargs,
    ),
    Endpoint(
        "customer-merge",
        "page",
        "crm.merge_customer",
        make=_merge_pair,
        detail=True,
        url_kwargs=_merge_kwargs,
        method="post",
        ok_status=302,
    ),
    Endpoint("duplicate-list", "page", "crm.merge_customer", make=_duplicate_pair),
    # vehicles
    Endpoint("vehicle-list", "page", "crm.view_vehicle", make=_vehicle),
    Endpoint(
        "vehicle-create",
        "page",
        "crm.add_vehicle",
        make=_vehicle,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    Endpoint("vehicle-detail", "page", "crm.view_vehicle", make=_vehicle, detail=True),
    Endpoint("vehicle-edit", "page", "crm.change_vehicle", make=_vehicle, detail=True),
    Endpoint(
        "vehicle-odometer",
        "page",
        "crm.change_vehicle",
        make=_vehicle,
        detail=True,
        method="post",
    ),
    Endpoint(
        "vehicle-transfer",
        "page",
        "crm.change_vehicle",
        make=_vehicle,
        detail=True,
        method="post",
    ),
    # reception: any dealer finds any vehicle by exact VIN/plate, so not scoped
    Endpoint(
        "reception",
        "page",
        "crm.view_vehicle",
        make=_vehicle,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    # segmentation: one OEM-level rule
    Endpoint(
        "segment-rule",
        "page",
        "crm.view_segmentrule",
        make=_customer,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    Endpoint(
        "segment-rule-edit",
        "page",
        "crm.change_segmentrule",
        make=_customer,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    # the vehicle catalogue (OEM level)
    Endpoint(
        "vehicle-model-list",
        "page",
        "catalogue.view_vehiclemodel",
        make=_vehicle_model,
        scoped=False,
    ),
    Endpoint(
        "vehicle-model-detail",
        "page",
        "catalogue.view_vehiclemodel",
        make=_vehicle_model,
        detail=True,
        scoped=False,
    ),
)
