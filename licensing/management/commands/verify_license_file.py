"""Support: check that a license file is ours and unchanged, as an offline system would."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from licensing import signing


class Command(BaseCommand):
    help = (
        "Verify a signed license file with the published public key (or this server's own); "
        "exit 0 and summarize it when it holds, else exit 1 saying why."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the license file (.json) to check")
        parser.add_argument(
            "--public-key",
            help="a PEM public key file (e.g. saved from /licensing/public-key.pem); "
            "default: the public key of this server's LICENSE_SIGNING_KEY",
        )

    def handle(self, *args, **options) -> None:
        """Print what the file licenses, or fail with the reason it does not verify."""
        try:
            content = Path(options["file"]).read_bytes()
            public_key = None
            if options["public_key"]:
                public_key = signing.load_public_key(Path(options["public_key"]).read_bytes())
            payload = signing.verify(content, public_key)
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}.") from None
        except signing.LicenseFileInvalid as error:
            raise CommandError(f"License file does not verify: {error}") from None
        counts = ", ".join(
            f"{line['count']} {line['kind']}" for line in payload.get("licenses", [])
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"License file verified: system {payload.get('system_id')} of "
                f"{payload.get('organization', {}).get('name')}, product {payload.get('product')}, "
                f"{counts}; valid until {payload.get('valid_until')}."
            )
        )
