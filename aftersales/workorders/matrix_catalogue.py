"""Access-matrix declarations of the catalogue area (see aftersales/testing/matrix.py).

Labour operations, their standard times and the maintenance packages are OEM-level (every
holder of the view permission reads all of them: ``scoped=False``); labour rates, bays and
service settings belong to a dealer. POSTs on a list URL are declared ``detail=True`` with
no URL arguments: they answer one record, not a list; those naming a dealer in their body
answer 404 to another dealer's user."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments
_seq = itertools.count(1)


def _operation(dealer):
    from aftersales.workorders.testing import make_operation

    return make_operation(code="AA-MATRIX", name="矩阵工时")


def _time(dealer):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import VehicleModel
    from aftersales.workorders.models import LabourTime

    load_catalogue_demo()
    model = VehicleModel.objects.order_by("code").first()
    time, _created = LabourTime.objects.get_or_create(
        operation=_operation(dealer), vehicle_model=model, variant=None, defaults={"hours": 1}
    )
    return time


def _package(dealer):
    from aftersales.workorders.models import MaintenancePackage, PackageOperation

    package, _created = MaintenancePackage.objects.get_or_create(
        code="AA-MATRIX", defaults={"name": "矩阵保养", "interval_km": 10_000}
    )
    PackageOperation.objects.get_or_create(package=package, operation=_operation(dealer))
    return package


def _rate(dealer):
    from aftersales.workorders.models import LabourRate
    from aftersales.workorders.testing import make_rates

    make_rates(dealer)
    return LabourRate.objects.get(dealer=dealer, pay_type="customer")


def _bay(dealer):
    from aftersales.workorders.testing import make_bay

    return make_bay(dealer, code="M01", name="矩阵工位")


def _settings(dealer):
    from aftersales.workorders.models import ServiceSettings

    settings, _created = ServiceSettings.objects.get_or_create(dealer=dealer)
    return settings


def _new_operation(record):
    return {
        "code": f"MX-{next(_seq)}",
        "name": "新工时",
        "category": "other",
        "default_hours": "1.0",
    }


def _new_time(record):
    return {
        "operation": record.operation_id,
        "vehicle_model": record.vehicle_model_id,
        "hours": "2",
    }


def _new_package(record):
    return {
        "code": f"MXP-{next(_seq)}",
        "name": "新套餐",
        "operations": [record.operations.first().operation.code],
    }


def _new_bay(record):
    return {"dealer": record.dealer_id, "code": f"N{next(_seq):02d}", "name": "新工位"}


def _by_dealer(record):
    return {"dealer": record.dealer_id}


VIEW_OP = "workorders.view_labouroperation"
CHANGE_OP = "workorders.change_labouroperation"
VIEW_PKG = "workorders.view_maintenancepackage"

declare(
    # pages
    Endpoint("labour-operation-list", "page", VIEW_OP, make=_operation, scoped=False),
    Endpoint(
        "labour-operation-detail", "page", VIEW_OP, make=_operation, detail=True, scoped=False
    ),
    Endpoint("package-list", "page", VIEW_PKG, make=_package, scoped=False),
    Endpoint("package-detail", "page", VIEW_PKG, make=_package, detail=True, scoped=False),
    Endpoint("workshop-setup", "page", "workorders.view_labourrate", make=_bay),
    # operations
    Endpoint("api:labour-operation-list", "api", VIEW_OP, make=_operation, scoped=False),
    Endpoint(
        "api:labour-operation-detail", "api", VIEW_OP, make=_operation, detail=True, scoped=False
    ),
    Endpoint(
        "api:labour-operation-list",
        "api",
        "workorders.add_labouroperation",
        make=_operation,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_operation,
        ok_status=201,
        scoped=False,
    ),
    Endpoint(
        "api:labour-operation-detail",
        "api",
        CHANGE_OP,
        make=_operation,
        detail=True,
        method="patch",
        data=lambda record: {"default_hours": "1.5"},
        scoped=False,
    ),
    # standard times
    Endpoint("api:labour-time-list", "api", VIEW_OP, make=_time, scoped=False),
    Endpoint("api:labour-time-detail", "api", VIEW_OP, make=_time, detail=True, scoped=False),
    Endpoint(
        "api:labour-time-list",
        "api",
        CHANGE_OP,
        make=_time,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_time,
        ok_status=201,
        scoped=False,
    ),
    Endpoint(
        "api:labour-time-detail",
        "api",
        CHANGE_OP,
        make=_time,
        detail=True,
        method="delete",
        ok_status=204,
        scoped=False,
    ),
    # packages
    Endpoint("api:maintenance-package-list", "api", VIEW_PKG, make=_package, scoped=False),
    Endpoint(
        "api:maintenance-package-detail", "api", VIEW_PKG, make=_package, detail=True, scoped=False
    ),
    Endpoint(
        "api:maintenance-package-list",
        "api",
        "workorders.add_maintenancepackage",
        make=_package,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_package,
        ok_status=201,
        scoped=False,
    ),
    Endpoint(
        "api:maintenance-package-detail",
        "api",
        "workorders.change_maintenancepackage",
        make=_package,
        detail=True,
        method="patch",
        data=lambda record: {"interval_months": 12},
        scoped=False,
    ),
    # labour rates
    Endpoint("api:labour-rate-list", "api", "workorders.view_labourrate", make=_rate),
    Endpoint(
        "api:labour-rate-detail", "api", "workorders.view_labourrate", make=_rate, detail=True
    ),
    Endpoint(
        "api:labour-rate-list",
        "api",
        "workorders.change_labourrate",
        make=_rate,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda record: {"dealer": record.dealer_id, "pay_type": "insurance", "rate": "140"},
        ok_status=201,
    ),
    Endpoint(
        "api:labour-rate-detail",
        "api",
        "workorders.change_labourrate",
        make=_rate,
        detail=True,
        method="patch",
        data=lambda record: {"rate": "155"},
    ),
    # bays
    Endpoint("api:workshop-bay-list", "api", "workorders.view_workshopbay", make=_bay),
    Endpoint(
        "api:workshop-bay-detail", "api", "workorders.view_workshopbay", make=_bay, detail=True
    ),
    Endpoint(
        "api:workshop-bay-list",
        "api",
        "workorders.add_workshopbay",
        make=_bay,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_bay,
        ok_status=201,
    ),
    Endpoint(
        "api:workshop-bay-detail",
        "api",
        "workorders.change_workshopbay",
        make=_bay,
        detail=True,
        method="patch",
        data=lambda record: {"name": "改名"},
    ),
    # service settings
    Endpoint("api:service-settings-list", "api", "workorders.view_servicesettings", make=_settings),
    Endpoint(
        "api:service-settings-detail",
        "api",
        "workorders.view_servicesettings",
        make=_settings,
        detail=True,
        url_kwargs=_by_dealer,
    ),
    Endpoint(
        "api:service-settings-detail",
        "api",
        "workorders.change_servicesettings",
        make=_settings,
        detail=True,
        url_kwargs=_by_dealer,
        method="patch",
        data=lambda record: {"comeback_days": 20},
    ),
)
