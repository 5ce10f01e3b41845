"""``manage.py parts_check [--dealer CODE]``: prove that every stock balance equals the sum
of its ledger and of its bins. Exits 1 and lists the items when any does not."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from aftersales.org.models import Dealer
from aftersales.parts.models import StockItem
from aftersales.parts.stock import ledger_mismatches, show


class Command(BaseCommand):
    help = (
        "Check that on-hand stock equals the sum of the stock ledger and of the bins "
        "(for one dealer or all). Exits with status 1 when anything does not add up."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dealer", metavar="CODE", help="Check one dealer only.")

    def handle(self, *args, **options):
        dealer = None
        if options.get("dealer"):
            dealer = Dealer.objects.filter(code=options["dealer"].strip().upper()).first()
            if dealer is None:
                raise CommandError(_("No dealer with code %(code)s.") % {"code": options["dealer"]})
        items = StockItem.objects.all()
        if dealer is not None:
            items = items.filter(dealer=dealer)
        checked = items.count()
        wrong = ledger_mismatches(dealer=dealer)
        names = {
            row["pk"]: row
            for row in StockItem.objects.filter(pk__in=[w["item"] for w in wrong]).values(
                "pk", "dealer__code", "warehouse__code", "part__number"
            )
        }
        for w in wrong:
            where = names.get(w["item"], {})
            self.stdout.write(
                _(
                    "MISMATCH %(dealer)s/%(warehouse)s %(part)s (stock item %(item)s): "
                    "on hand %(on_hand)s, ledger %(ledger)s, bins %(bins)s, reserved %(reserved)s"
                )
                % {
                    "dealer": where.get("dealer__code", "?"),
                    "warehouse": where.get("warehouse__code", "?"),
                    "part": where.get("part__number", "?"),
                    "item": w["item"],
                    "on_hand": show(w["on_hand"]),
                    "ledger": show(w["ledger"]),
                    "bins": show(w["bins"]),
                    "reserved": show(w["reserved"]),
                }
            )
        scope = dealer.code if dealer is not None else _("all dealers")
        if wrong:
            raise CommandError(
                _("%(scope)s: %(wrong)s of %(checked)s stock items do not add up.")
                % {"scope": scope, "wrong": len(wrong), "checked": checked},
                returncode=1,
            )
        self.stdout.write(
            _("%(scope)s: all %(checked)s stock items add up to their ledger and bins.")
            % {"scope": scope, "checked": checked}
        )
