"""Appointment pages: plan (filled by its owner)."""

urlpatterns = []
