"""Staff: issue license keys and print them once (only their hashes are stored)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from licensing import selectors, services
from licensing.models import LicenseKind


class Command(BaseCommand):
    help = (
        "Issue license keys of one product and kind, each with a quantity of licenses. The keys "
        "are printed once, one a line; only their hashes are stored, so keep the output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--product", required=True, help="The product code.")
        parser.add_argument("--kind", required=True, choices=LicenseKind.values)
        parser.add_argument("--quantity", required=True, type=int, help="Licenses per key.")
        parser.add_argument("--count", type=int, default=1, help="How many keys (default 1).")
        parser.add_argument(
            "--term", type=int, default=1, help="Subscription keys: years per license (1-5)."
        )
        parser.add_argument("--issued-by", default="support", help="Who issues, for the record.")

    def handle(self, *args, **options) -> None:
        """Issue the keys in one transaction and print them; any refusal changes nothing."""
        try:
            product = selectors.get_product(options["product"])
            texts = services.issue_license_keys(
                issued_by=options["issued_by"],
                product=product,
                kind=options["kind"],
                quantity=options["quantity"],
                count=options["count"],
                term_years=options["term"],
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        for text in texts:
            self.stdout.write(text)
        self.stderr.write(
            f"Issued {len(texts)} key(s) of {product.code} ({options['kind']}, "
            f"{options['quantity']} each). They are not stored: keep this output."
        )
