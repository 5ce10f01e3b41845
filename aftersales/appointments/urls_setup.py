"""The workshop capacity set-up page."""

from django.urls import path

from aftersales.appointments import views_setup as views

urlpatterns = [path("appointments/capacity/", views.schedule_setup, name="schedule-setup")]
