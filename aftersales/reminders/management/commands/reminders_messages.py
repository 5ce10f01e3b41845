"""Queue the WeChat/SMS messages of a month's reminders to registered owners now (the
monthly run does it after computing the reminders; the schedule catches up daily), then
copy the outbox's outcomes onto them. Idempotent."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from aftersales.reminders.messages import reminder_messages_queue, reminder_messages_sync
from aftersales.reminders.schedule import parse_month


class Command(BaseCommand):
    help = "Queue the owners' messages of a month's reminders (default: this month); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: this month)")
        parser.add_argument("--dealer", help="dealer code (default: every dealer)")
        parser.add_argument(
            "--sync-only", action="store_true", help="only copy the outbox's outcomes"
        )

    def handle(self, *args, month=None, dealer=None, sync_only=False, **options):
        from aftersales.org.models import Dealer

        try:
            target = parse_month(month) if month else timezone.localdate().replace(day=1)
        except ValueError:
            raise CommandError(f"--month {month!r}: write the month as YYYY-MM") from None
        chosen = None
        if dealer:
            chosen = Dealer.objects.filter(code=dealer.upper()).first()
            if chosen is None:
                raise CommandError(f"no dealer with the code {dealer!r}")
        if not sync_only:
            counts = reminder_messages_queue(target, chosen)
            self.stdout.write(
                f"{target:%Y-%m} ({chosen.code if chosen else 'every dealer'}): "
                f"{counts['queued']} messages queued, {counts['skipped']} owners skipped"
            )
        synced = reminder_messages_sync()
        self.stdout.write(f"outcomes: {synced['sent']} sent, {synced['failed']} failed")
