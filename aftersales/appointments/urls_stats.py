"""Appointment pages: stats (filled by its owner)."""

urlpatterns = []
