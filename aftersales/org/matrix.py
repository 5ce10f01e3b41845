from aftersales.org.models import RoleAssignment, User
from aftersales.testing.matrix import Endpoint, declare


def _staff_at(dealer):
    user = User.objects.create(
        username=f"matrix-{dealer.code}-{User.objects.count()}", dealer=dealer
    )
    RoleAssignment.objects.create(user=user, role="technician", dealer=dealer)
    return user


declare(
    Endpoint("api:dealer-list", "api", "org.view_dealer", make=lambda d: d),
    Endpoint("api:dealer-detail", "api", "org.view_dealer", make=lambda d: d, detail=True),
    Endpoint(
        "api:dealer-detail",
        "api",
        "org.change_dealer",
        make=lambda d: d,
        detail=True,
        method="patch",
        data=lambda d: {"phone": "010-12345678"},
    ),
    Endpoint("api:region-list", "api", "org.view_region", make=lambda d: d.region),
    Endpoint("api:region-detail", "api", "org.view_region", make=lambda d: d.region, detail=True),
    Endpoint("api:staff-list", "api", "org.view_user", make=_staff_at),
    Endpoint("api:staff-detail", "api", "org.view_user", make=_staff_at, detail=True),
    Endpoint("dealer-list", "page", "org.view_dealer", make=lambda d: d),
    Endpoint("dealer-detail", "page", "org.view_dealer", make=lambda d: d, detail=True),
    Endpoint("dealer-edit", "page", "org.change_dealer", make=lambda d: d, detail=True),
    Endpoint("staff-list", "page", "org.view_user", make=_staff_at),
    Endpoint("staff-detail", "page", "org.view_user", make=_staff_at, detail=True),
)
