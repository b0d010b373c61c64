"""Import AXIS OS releases from a manifest: `python manage.py import_firmware manifest.json`.

The manifest (JSON) lists releases and their image files, which lie next to it::

    {"releases": [{"version": "12.11.86", "track": "12.11", "products": ["P3265-V"],
                   "release_date": "2026-06-01", "recommended": true,
                   "image": "P3265-V_12_11_86.bin", "sha256": "<64 hex digits>",
                   "notes": "…", "security_fixes": [{"cve": "CVE-2025-0324",
                   "severity": "critical", "summary": "…"}]}]}

"track" may be left out (it follows from the version). A bad manifest is refused whole with
the reason and nothing is imported; importing the same manifest again changes nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from upgrades.services import ManifestError, import_manifest


class Command(BaseCommand):
    help = "Import AXIS OS releases and their images from a manifest (all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("manifest", type=Path, help="the manifest.json; images lie next to it")

    def handle(self, *args, manifest: Path, **options) -> None:
        try:
            results = import_manifest(manifest)
        except ManifestError as error:
            raise CommandError(f"Manifest refused, nothing imported: {error}") from None
        for result in results:
            self.stdout.write(f"{result.outcome:9} {result.release}")
        outcomes = ("added", "updated", "unchanged")
        counts = {o: sum(r.outcome == o for r in results) for o in outcomes}
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['added']} added, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged."
            )
        )
