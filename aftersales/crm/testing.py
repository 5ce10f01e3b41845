"""Builders of valid identifiers and records, shared by tests, the demo data and the
benchmarks (not test-only: the demo generator uses them too)."""

import datetime
import itertools

from stdnum.cn import ric

from aftersales.crm.validators import compose_vin

_counter = itertools.count(1)


def valid_id_number(
    birth: datetime.date = datetime.date(1985, 6, 15), seq: int = 123, region: str = "110105"
) -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_vin(prefix8: str = "LXCX3A15", model_year: int = 2024, serial: int | None = None) -> str:
    return compose_vin(prefix8, model_year, "B", next(_counter) if serial is None else serial)


def unique_mobile() -> str:
    return f"139{next(_counter) % 100_000_000:08d}"


def unique_plate(province: str = "京", letter: str = "A") -> str:
    n = next(_counter) % 100_000
    return f"{province}{letter}{n:05d}"


def make_customer(*, dealer=None, actor=None, **data):
    from aftersales.crm.services import customer_create

    data.setdefault("name", "张伟")
    data.setdefault("mobile", unique_mobile())
    return customer_create(actor=actor, dealer=dealer, **data)


def make_vehicle(*, owner, dealer=None, actor=None, variant=None, **data):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.crm.services import vehicle_create

    if variant is None:
        variant = Variant.objects.filter(code="X3-15T-2024").first()
        if variant is None:
            load_catalogue_demo()
            variant = Variant.objects.get(code="X3-15T-2024")
    data.setdefault("vin", valid_vin(variant.vin_prefix, variant.model_year))
    data.setdefault("plate", unique_plate())
    data.setdefault("sale_date", datetime.date(2024, 3, 1))
    data.setdefault("invoice_date", datetime.date(2024, 3, 1))
    return vehicle_create(actor=actor, owner=owner, dealer=dealer, variant=variant, **data)
