"""Access-matrix declarations of the reception area (see aftersales/testing/matrix.py).

Photo uploads and removals are gated by ``view_repairorder`` at the URL and by one of the
photo permissions (add/change/work/deliver) at the order's dealer in the service; the
service's own refusal is tested in tests/test_reception_api.py."""

import base64
import io

from aftersales.testing.matrix import Endpoint, declare

ADD = "workorders.add_repairorder"
VIEW = "workorders.view_repairorder"


def _advisor(dealer):
    from aftersales.org.models import RoleAssignment, User
    from aftersales.org.roles import Role

    user, created = User.objects.get_or_create(
        username=f"{dealer.code.lower()}-sa", defaults={"dealer": dealer}
    )
    if created:
        RoleAssignment.objects.create(user=user, role=Role.SERVICE_ADVISOR, dealer=dealer)
    return user


def _vehicle(dealer):
    from aftersales.crm.testing import make_customer, make_vehicle

    return make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)


def _draft(dealer):
    from aftersales.workorders.testing import make_repair_order

    return make_repair_order(dealer=dealer, advisor=_advisor(dealer))


def _ready(dealer):
    """A draft with the reception data filled in: it may be checked in."""
    from aftersales.workorders.testing import make_repair_order

    return make_repair_order(
        dealer=dealer,
        advisor=_advisor(dealer),
        odometer_km=20_000,
        fuel_level="50",
        concern="刹车异响",
        covers_installed=True,
    )


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def _with_photo(dealer):
    from django.core.files.base import ContentFile

    from aftersales.workorders import reception

    order = _draft(dealer)
    order.photo = reception.photo_add(
        actor=order.service_advisor,
        repair_order=order,
        upload=ContentFile(_png(), name="p.png"),
        kind="damage",
    )
    return order


def _photo_kwargs(order):
    return {"pk": order.pk, "photo_id": order.photo.pk}


def _nothing(record):
    return {}


def _version(order):
    return {"version": order.version}


declare(
    # API
    Endpoint(
        "api:ro-reception-list",
        "api",
        ADD,
        make=_vehicle,
        detail=True,
        url_kwargs=_nothing,
        method="post",
        data=lambda vehicle: {"vin": vehicle.vin, "concern": "刹车异响"},
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:ro-reception-detail", "api", VIEW, make=_draft, detail=True),
    Endpoint(
        "api:ro-reception-detail",
        "api",
        ADD,
        make=_draft,
        detail=True,
        method="patch",
        data=lambda order: {"version": order.version, "fuel_level": "50"},
    ),
    Endpoint(
        "api:ro-reception-check-in",
        "api",
        ADD,
        make=_ready,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-reception-comeback",
        "api",
        ADD,
        make=_draft,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint("api:ro-reception-photos", "api", VIEW, make=_with_photo, detail=True),
    Endpoint(
        "api:ro-reception-photos",
        "api",
        VIEW,
        make=_draft,
        detail=True,
        method="post",
        data=lambda order: {
            "image_base64": base64.b64encode(_png()).decode(),
            "kind": "damage",
        },
        ok_status=201,
    ),
    Endpoint(
        "api:ro-reception-photo-file",
        "api",
        VIEW,
        make=_with_photo,
        detail=True,
        url_kwargs=_photo_kwargs,
    ),
    Endpoint(
        "api:ro-reception-photo-file",
        "api",
        VIEW,
        make=_with_photo,
        detail=True,
        url_kwargs=_photo_kwargs,
        method="delete",
        ok_status=204,
    ),
    # pages
    Endpoint(
        "repair-order-new",
        "page",
        ADD,
        make=_vehicle,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    Endpoint("ro-reception-panel", "page", VIEW, make=_draft, detail=True),
    Endpoint("ro-reception-save", "page", VIEW, make=_draft, detail=True, method="post"),
    Endpoint("ro-reception-photo-add", "page", VIEW, make=_draft, detail=True, method="post"),
    Endpoint(
        "ro-reception-photo-remove",
        "page",
        VIEW,
        make=_with_photo,
        detail=True,
        url_kwargs=_photo_kwargs,
        method="post",
    ),
    Endpoint("ro-reception-check-in", "page", ADD, make=_draft, detail=True, method="post"),
    Endpoint("ro-reception-comeback", "page", ADD, make=_draft, detail=True, method="post"),
    Endpoint("ro-photo", "page", VIEW, make=_with_photo, detail=True, url_kwargs=_photo_kwargs),
)
