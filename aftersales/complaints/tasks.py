"""Complaint jobs: thin wrappers that call services."""

from celery import shared_task


@shared_task(name="aftersales.complaints.tasks.deadline_sweep")
def deadline_sweep():
    """Warnings before and at each deadline, automatic escalations (``sweep``)."""
    from aftersales.complaints.sweep import complaints_clock

    return complaints_clock()
