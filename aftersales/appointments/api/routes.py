"""appointments API routes on the shared router: /api/appointments/..."""

from aftersales.appointments.api import bookings, plan, setup, stats


def register(router):
    # the fixed paths first ("appointments/slots/" must not be read as a booking id)
    for area in (stats, setup, plan, bookings):
        area.register(router)
