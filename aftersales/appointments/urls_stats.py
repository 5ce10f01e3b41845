"""Booking statistics."""

from django.urls import path

from aftersales.appointments import views_stats as views

urlpatterns = [path("appointments/stats/", views.appointment_stats, name="appointment-stats")]
