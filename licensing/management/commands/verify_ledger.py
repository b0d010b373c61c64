"""Support: recompute every ledger balance from its entries and check that licenses are kept."""

from django.core.management.base import BaseCommand, CommandError

from licensing import ledger


class Command(BaseCommand):
    help = (
        "Recompute every ledger account's balance from its entries and check conservation; "
        "exit non-zero naming the first difference."
    )

    def handle(self, *args, **options) -> None:
        """Report the first difference as an error, or say the ledger holds."""
        difference = ledger.verify()
        if difference is not None:
            raise CommandError(f"Ledger check failed: {difference}")
        self.stdout.write(self.style.SUCCESS("Ledger verified: every balance matches its entries."))
