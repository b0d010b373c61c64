"""Re-encrypt every device password with the newest DEVICE_CREDENTIAL_KEYS key."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices import services


class Command(BaseCommand):
    help = (
        "Re-encrypt every device password with the newest key of DEVICE_CREDENTIAL_KEYS "
        "(put the new key first, run this, then remove the old key). Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="devices per transaction (default 500)"
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        """Rotate in batches and print how many passwords moved to the newest key."""
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = services.rotate_device_credentials(batch_size=batch_size)
        self.stdout.write(
            f"Re-encrypted {result.rotated} device password(s) with the newest key; "
            f"{result.current} already used it."
        )
        if result.unreadable:
            for device_id in result.unreadable:
                self.stderr.write(f"Cannot decrypt the password of device {device_id}.")
            raise CommandError(
                f"{len(result.unreadable)} device password(s) could not be decrypted with any "
                "key of DEVICE_CREDENTIAL_KEYS: put back the key they were encrypted with and "
                "run this again (or enter those devices' credentials again). Do not remove any "
                "old key until this command reports none."
            )
