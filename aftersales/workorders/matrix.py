"""Service-visit endpoints for the access test matrix: each area declares its own."""

from aftersales.workorders import (  # noqa: F401
    matrix_catalogue,
    matrix_estimate,
    matrix_orders,
    matrix_printing,
    matrix_quality,
    matrix_reception,
    matrix_workshop,
)
