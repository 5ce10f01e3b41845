"""Settlement API routes on the shared router, one module per area."""

from aftersales.billing.api import cashier, invoices


def register(router):
    invoices.register(router)
    cashier.register(router)
