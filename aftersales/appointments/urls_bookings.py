"""Appointment pages: bookings (filled by its owner)."""

urlpatterns = []
