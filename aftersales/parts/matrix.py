"""Parts endpoints for the access test matrix: each area declares its own."""

from aftersales.parts import (  # noqa: F401
    matrix_catalogue,
    matrix_counting,
    matrix_purchasing,
    matrix_stock,
)
