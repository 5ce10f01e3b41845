"""Booking pages."""

from django.urls import path

from aftersales.appointments import views_bookings as views

urlpatterns = [
    path("appointments/", views.calendar, name="appointment-calendar"),
    path("appointments/new/", views.booking_new, name="booking-new"),
    path("appointments/slots/", views.booking_slots, name="booking-slots"),
    path("appointments/<int:pk>/", views.booking_detail, name="booking-detail"),
    path("appointments/<int:pk>/confirm/", views.booking_confirm, name="booking-confirm"),
    path("appointments/<int:pk>/reschedule/", views.booking_reschedule, name="booking-reschedule"),
    path("appointments/<int:pk>/cancel/", views.booking_cancel, name="booking-cancel"),
    path("appointments/<int:pk>/check-in/", views.booking_check_in, name="booking-check-in"),
    # the owner's page from a signed link (no login); the name is links.URL_NAME
    path("appointments/book/<str:token>/", views.booking_public, name="booking-link"),
]
