"""Settings of ``bench/ro_stack.py``'s server: the application's, with its URL patterns
plus the bench's one route (``ro_stack_urls``)."""

from aftersales.config.settings import *  # noqa: F403

ROOT_URLCONF = "ro_stack_urls"
