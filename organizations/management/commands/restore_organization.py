"""Support: bring back an archived organization by its ID (PRODUCT.md §2)."""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from common.text import printable
from organizations import services


class Command(BaseCommand):
    help = (
        "Restore an archived organization: show what comes back, ask for confirmation "
        "(or --yes), restore, and audit the reason as actor “support”."
    )
    # Tests pass `stdin=` to answer the questions, as with createsuperuser.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization_id", help="The organization ID (a UUID).")
        parser.add_argument("--reason", default="", help="Why; written to the audit log.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only show what would come back."
        )

    def handle(self, *args, **options) -> None:
        """Preview, confirm, restore; any refusal is a CommandError and changes nothing."""
        organization_id = options["organization_id"]
        try:
            summary = services.preview_restore(organization_id=organization_id)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        for line in summary.lines():
            self.stdout.write(printable(line))
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing changed.")
            return
        stdin = options.get("stdin") or sys.stdin
        reason = (options["reason"] or "").strip()
        if not reason:
            reason = self._ask(stdin, "Reason for the restore (goes in the audit log): ")
            if not reason:
                raise CommandError('A reason is required (--reason "…"); nothing changed.')
        if not options["yes"]:
            answer = self._ask(stdin, f"Restore “{printable(summary.organization.name)}”? [y/N] ")
            if answer.lower() not in ("y", "yes"):
                raise CommandError(
                    "Not confirmed; nothing changed. Use --yes to skip the question."
                )
        try:
            restored = services.restore_organization(organization_id=organization_id, reason=reason)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {printable(restored.organization.name)} ({restored.organization.pk}); "
                f"{restored.member_count} members can use it again."
            )
        )

    def _ask(self, stdin, prompt: str) -> str:
        """Ask one question; an empty or closed stdin counts as no answer."""
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        try:
            line = stdin.readline() if stdin is not None else ""
        except (OSError, ValueError):
            line = ""
        if not line.endswith("\n"):
            self.stdout.write("")  # end the prompt's line when stdin gave nothing
        return line.strip()
