"""care API routes on the shared router: /api/care/coupons/, /api/care/holidays/ and
/api/care/greeting-settings/."""


def register(router):
    from aftersales.care.api import coupons, greetings

    coupons.register(router)
    greetings.register(router)
