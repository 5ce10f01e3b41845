"""Debian's Chromium driven by Playwright, for the browser tests.

``chromium_context(**options)`` opens a browser context (``options`` go to Playwright's
``new_context``: viewport, locale, has_touch …) with a 10 s default timeout and closes it
afterwards. Without Chromium installed the test is skipped, except under CI, where it
fails: CI installs Chromium, so a missing one is a broken set-up, not a reason to skip."""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_context(**options):
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = f"Debian's Chromium is not installed at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()
            # queries the test made while Playwright ran used a connection of their own
            # (Django's connections are per context, and Playwright's greenlets have their
            # own): close it, or it outlives the test and blocks dropping the database
            from django.db import connections

            connections.close_all()
