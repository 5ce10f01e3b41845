"""Appointment pages: setup (filled by its owner)."""

urlpatterns = []
