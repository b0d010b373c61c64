"""Check the audit hash chains; exit non-zero naming the first broken event (PRODUCT.md §9)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from common.text import printable
from organizations import audit, selectors
from organizations.models import Organization


class Command(BaseCommand):
    help = "Verify the audit log hash chain of one organization, or of all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "organization_id", nargs="?", help="Only this organization (default: all)."
        )

    def handle(self, *args, **options) -> None:
        """Walk each chain in sequence order; report every organization, fail on any break."""
        if options["organization_id"]:
            try:
                organizations = [selectors.organization_for_support(options["organization_id"])]
            except DomainError as error:
                raise CommandError(str(error.message)) from None
        else:
            organizations = Organization.objects.order_by("created_at", "pk").iterator()
        broken = []
        checked = 0
        for organization in organizations:
            checked += 1
            found = audit.verify_chain(organization)
            if found is None:
                self.stdout.write(
                    f"ok      {organization.pk}  {printable(organization.name)} "
                    f"({organization.audit_head_sequence} events)"
                )
                continue
            event = f"event #{found.sequence}"
            if found.event is not None:
                event += f" (id {found.event.pk}, {found.event.action})"
            name = printable(organization.name)
            line = printable(f"BROKEN  {organization.pk}  {name}: {event}: {found.reason}")
            self.stdout.write(line)
            broken.append(line)
        if broken:
            raise CommandError(
                f"{len(broken)} of {checked} audit chains are broken. First: {broken[0][8:]}"
            )
        self.stdout.write(self.style.SUCCESS(f"All {checked} audit chains are intact."))
