"""Run the day's customer-care job now (the schedule runs it every morning at 09:30):
expire old coupons, send the birthday greetings and the holiday greetings due that day.
Idempotent: running it again sends nothing twice and issues no second coupon."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from aftersales.care.greetings import daily_greetings


class Command(BaseCommand):
    help = "Send the day's birthday and holiday greetings and expire old coupons."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to run for (YYYY-MM-DD); default today")

    def handle(self, *args, date=None, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError(f"not a date: {date}") from None
        counts = daily_greetings(today=today)
        birthdays, holidays = counts["birthdays"], counts["holidays"]
        self.stdout.write(
            f"{counts['expired']} coupons expired; birthdays: {birthdays['greeted']} greeted, "
            f"{birthdays['coupons']} coupons, {birthdays['skipped']} skipped; holidays: "
            f"{holidays['holidays']} sent, {holidays['greeted']} greeted, "
            f"{holidays['coupons']} coupons"
        )
