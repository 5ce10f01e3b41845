"""Compute a month's service reminders now (the scheduled job does it on the last day of
each month for the next month): for every dealer or one, idempotent."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from aftersales.reminders.monthly import KINDS, reminders_for_month
from aftersales.reminders.schedule import next_month, parse_month


class Command(BaseCommand):
    help = "Write the service reminders due in a month (default: next month); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: next month)")
        parser.add_argument("--dealer", help="dealer code (default: every dealer)")

    def handle(self, *args, month=None, dealer=None, **options):
        from aftersales.org.models import Dealer

        try:
            target = parse_month(month) if month else next_month(timezone.localdate())
        except ValueError:
            raise CommandError(f"--month {month!r}: write the month as YYYY-MM") from None
        chosen = None
        if dealer:
            chosen = Dealer.objects.filter(code=dealer.upper()).first()
            if chosen is None:
                raise CommandError(f"no dealer with the code {dealer!r}")
        steps = ["facts", *KINDS]
        started = time.perf_counter()

        def progress(kind, added):
            done = steps.index(kind) + 1
            bar = "#" * (2 * done) + "." * (2 * (len(steps) - done))
            self.stderr.write(
                f"\r[{bar}] {done}/{len(steps)} {kind:<14} {added:>9,} added "
                f"{time.perf_counter() - started:6.1f} s",
                ending="",
            )

        added = reminders_for_month(target, chosen, progress=progress)
        self.stderr.write("")
        total = sum(added.values())
        detail = ", ".join(f"{kind} {n:,}" for kind, n in added.items())
        where = chosen.code if chosen else "every dealer"
        self.stdout.write(
            f"{target:%Y-%m} ({where}): {total:,} reminders added ({detail}) "
            f"in {time.perf_counter() - started:.1f} s"
        )
