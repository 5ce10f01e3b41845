"""Appointment jobs: thin wrappers that call services."""

from celery import shared_task


@shared_task(name="aftersales.appointments.tasks.mark_no_shows")
def mark_no_shows():
    from aftersales.appointments.bookings import mark_no_shows as mark

    return mark()


@shared_task(name="aftersales.appointments.tasks.send_reminders")
def send_reminders():
    from aftersales.appointments.bookings import send_reminders as send

    return send()


@shared_task(name="aftersales.appointments.tasks.replan_on_delays")
def replan_on_delays():
    from aftersales.appointments.dayplan import replan_on_delays as replan

    return replan()
