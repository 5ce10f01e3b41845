"""Appointment pages; each area keeps its own URL module."""

from aftersales.appointments import urls_bookings, urls_plan, urls_setup, urls_stats

urlpatterns = (
    urls_bookings.urlpatterns
    + urls_plan.urlpatterns
    + urls_setup.urlpatterns
    + urls_stats.urlpatterns
)
