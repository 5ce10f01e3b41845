"""aftersales: after-sales service management for car makers and their dealers."""

from .config.celery import app as celery_app

__all__ = ["celery_app"]
