"""Settlement endpoints for the access test matrix: each area declares its own."""

from aftersales.billing import matrix_cashier, matrix_invoices  # noqa: F401
