"""Access-matrix declarations of customer care (see aftersales/testing/matrix.py): the
coupon API and pages, the cashier's redemption, the holiday greetings and the greeting
settings.

``make(dealer)`` writes a coupon of ``dealer`` for one of its customers (with an issued
customer invoice at the dealer for the redemption endpoints), or a holiday greeting for
the dealer's customers. The settings belong to whoever holds the permission (the page
shows the user's own dealer or the OEM), so they are ``scoped=False``; so are the blank
forms. Page forms are sent as JSON, so they see no fields: they answer with the page and
the form's errors (200), or a redirect with the refusal shown (302)."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "care.view_coupon"
REDEEM = "care.redeem_coupon"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _in_days(days):
    import datetime

    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


def _coupon(dealer):
    from aftersales.care.testing import make_coupon
    from aftersales.crm.testing import make_customer

    return make_coupon(customer=make_customer(dealer=dealer), dealer=dealer)


def _coupon_with_invoice(dealer):
    """A coupon of the dealer's customer and that customer's issued invoice there."""
    from aftersales.care.testing import invoice_for

    coupon = _coupon(dealer)
    coupon.invoice_to_use = invoice_for(coupon.customer, dealer=dealer).pk
    return coupon


def _redeemed(dealer):
    from aftersales.care.redeem import coupon_redeem
    from aftersales.care.testing import invoice_for
    from aftersales.workorders.testing import staff_of

    coupon = _coupon(dealer)
    invoice = invoice_for(coupon.customer, dealer=dealer, status="draft")
    coupon_redeem(actor=staff_of(dealer, "cashier"), code=coupon.code, invoice=invoice)
    return coupon


def _holiday(dealer):
    import datetime

    from aftersales.care.models import HolidayGreeting
    from aftersales.workorders.testing import staff_of

    return HolidayGreeting.objects.create(
        name="春节",
        date=datetime.date.today() + datetime.timedelta(days=30),
        text="新春快乐，万事如意！",
        dealer=dealer,
        created_by=staff_of(dealer, "dealer_admin"),
    )


def _settings(dealer):
    from aftersales.care.models import GreetingSettings

    return GreetingSettings.objects.get_or_create(dealer=dealer)[0]


def _blank_form(name, permission, *, make, post_permission=None):
    """A page whose form shows nothing of a dealer's until it is posted: shown, and
    posted empty (answered with the form's errors)."""
    common = {"make": make, "detail": True, "url_kwargs": _NO_KWARGS, "scoped": False}
    return (
        Endpoint(name, "page", permission, **common),
        Endpoint(
            name, "page", post_permission or permission, method="post", data=lambda r: {}, **common
        ),
    )


declare(
    # ---- API
    Endpoint("api:care-coupon-list", "api", VIEW, make=_coupon),
    Endpoint("api:care-coupon-detail", "api", VIEW, make=_coupon, detail=True),
    Endpoint(
        "api:care-coupon-list",
        "api",
        "care.add_coupon",
        make=_coupon,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda c: {
            "customer": c.customer_id,
            "dealer": c.dealer_id,
            "amount": "88",
            "valid_until": _in_days(60),
        },
        ok_status=201,
    ),
    Endpoint(
        "api:care-coupon-void",
        "api",
        "care.void_coupon",
        make=_coupon,
        detail=True,
        method="post",
        data=lambda c: {"reason": "发错了"},
    ),
    Endpoint(
        "api:care-coupon-check",
        "api",
        REDEEM,
        make=_coupon_with_invoice,
        detail=True,
        url_kwargs=_NO_KWARGS,
        data=lambda c: {"code": c.code, "invoice": c.invoice_to_use},
    ),
    Endpoint(
        "api:care-coupon-redeem",
        "api",
        REDEEM,
        make=_coupon_with_invoice,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda c: {"code": c.code, "invoice": c.invoice_to_use},
    ),
    Endpoint(
        "api:care-coupon-release",
        "api",
        REDEEM,
        make=_redeemed,
        detail=True,
        method="post",
        data=lambda c: {},
    ),
    Endpoint("api:care-holiday-list", "api", "care.view_holidaygreeting", make=_holiday),
    Endpoint(
        "api:care-holiday-detail", "api", "care.view_holidaygreeting", make=_holiday, detail=True
    ),
    Endpoint(
        "api:care-holiday-list",
        "api",
        "care.add_holidaygreeting",
        make=_holiday,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda h: {
            "name": "中秋节",
            "date": "2099-09-15",
            "text": "中秋快乐",
            "dealer": h.dealer_id,
        },
        ok_status=201,
    ),
    Endpoint(
        "api:care-holiday-cancel",
        "api",
        "care.change_holidaygreeting",
        make=_holiday,
        detail=True,
        method="post",
        data=lambda h: {},
    ),
    Endpoint(
        "api:care-greeting-settings-list", "api", "care.view_greetingsettings", make=_settings
    ),
    Endpoint(
        "api:care-greeting-settings-detail",
        "api",
        "care.view_greetingsettings",
        make=_settings,
        detail=True,
    ),
    # ---- pages
    Endpoint("care-coupon-list", "page", VIEW, make=_coupon),
    # blank forms: the dealers offered are the user's own, orders are looked up in the
    # user's scope
    *_blank_form("care-coupon-new", "care.add_coupon", make=_coupon),
    Endpoint(
        "care-coupon-void",
        "page",
        "care.void_coupon",
        make=_coupon,
        detail=True,
        method="post",
        data=lambda c: {},
        ok_status=302,  # back to the list, the refusal (no reason given) shown
    ),
    *_blank_form("care-redeem", REDEEM, make=_coupon),
    Endpoint("care-holiday-list", "page", "care.view_holidaygreeting", make=_holiday),
    *_blank_form("care-holiday-new", "care.add_holidaygreeting", make=_holiday),
    *_blank_form(
        "care-settings",
        "care.view_greetingsettings",
        make=_settings,
        post_permission="care.change_greetingsettings",
    ),
)
