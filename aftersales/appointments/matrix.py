"""Appointment endpoints for the access test matrix: each area declares its own."""

from aftersales.appointments import (  # noqa: F401
    matrix_bookings,
    matrix_plan,
    matrix_setup,
    matrix_stats,
)
