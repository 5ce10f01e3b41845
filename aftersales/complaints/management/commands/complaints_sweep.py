"""Run the complaint deadline sweep now (the scheduled job does it every 10 minutes):
warnings before and at each deadline and the automatic escalations."""

from django.core.management.base import BaseCommand

from aftersales.complaints.sweep import complaints_clock


class Command(BaseCommand):
    help = "Warn about complaint deadlines and escalate automatically (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=5000, help="complaints per transaction")

    def handle(self, *args, batch, **options):
        def progress(counts):
            self.stderr.write(f"\r{counts['checked']:,} complaints checked", ending="")

        counts = complaints_clock(batch=batch, progress=progress)
        self.stderr.write("")
        self.stdout.write(
            "{checked} checked, {alerts} warnings, {escalations} escalations, "
            "{messages} messages, {recomputed} deadlines recomputed".format(**counts)
        )
