"""The access test matrix (ARCHITECTURE rule 4), by declaration.

Each app lists its API endpoints and pages in ``<app>/matrix.py`` with ``declare(...)``.
One generic test (aftersales/testing/tests/test_access_matrix.py) then calls every declared
endpoint as: anonymous, a user without the permission, a user with it at the record's
dealer, and a user with it at another dealer; and a second test fails when a URL exists
that is neither declared nor listed in ``PUBLIC``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Endpoint:
    """One URL to check. ``make(dealer)`` builds a record belonging to ``dealer`` and
    returns it; detail URLs are reversed with ``url_kwargs(record)``; list URLs must show
    the record to the right user and hide it from the other dealer's user."""

    name: str
    kind: str  # "api" or "page"
    permission: str | None
    make: Callable | None = None
    detail: bool = False
    url_kwargs: Callable = field(default=lambda record: {"pk": record.pk})
    method: str = "get"
    data: Callable | None = None  # request body for writes: data(record) -> dict
    ok_status: int = 200
    scoped: bool = True  # False for OEM-level records that every holder of the permission sees

    @property
    def id(self):
        return f"{self.kind}:{self.method}:{self.name}"


REGISTRY: dict[str, Endpoint] = {}

# URLs open to everyone or handled by another mechanism (Django admin: staff only).
PUBLIC = {
    "login",
    "logout",
    "healthz",
    "favicon",
    "set_language",
    "api-schema",
    "api-docs",
    "api-redoc",
    "api-token",
    "api:api-root",
    "password_change",
    "password_change_done",
    "home",
    # Owner registration: any signed-in login (owners hold no role), so the matrix's "user
    # without the permission gets 403" cannot apply. Anonymous 401 and the rest are tested
    # in aftersales/crm/tests/test_registration.py.
    "api:owner-registration-start",
    "api:owner-registration-confirm",
    # The owner's booking page from a signed link (no login; the token is the access):
    # tested in aftersales/appointments/tests/test_booking_pages.py.
    "booking-link",
    # The owner's complaints: any signed-in login linked to a customer (owners hold no
    # role); tested in aftersales/complaints/tests/test_api.py.
    "api:owner-complaint-list",
    "api:owner-complaint-detail",
    # WeChat's push endpoint (server check, delivery reports): no login, the signature is
    # the access; tested in aftersales/core/tests/test_wechat.py.
    "wechat-push",
}
PUBLIC_PREFIXES = ("admin:",)


def declare(*endpoints: Endpoint):
    for endpoint in endpoints:
        REGISTRY[endpoint.id] = endpoint


def all_endpoints() -> list[Endpoint]:
    autodiscover_modules("matrix")
    return list(REGISTRY.values())
