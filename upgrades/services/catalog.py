"""The firmware catalog's writes: add releases with verified images, import a manifest.

Staff maintain the catalog (admin, `manage.py import_firmware`); it belongs to no organization,
so these services take no membership and write no organization audit event (the admin keeps its
own history; the command prints what it did). Images are hashed and stored before the database
transaction opens (a storage backend may be remote), and rows are written in one transaction:
a bad input anywhere refuses everything, with the reason.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from common.errors import Conflict, Invalid
from upgrades import storage
from upgrades.models import Advisory, FirmwareRelease, ReleaseProduct
from upgrades.versions import ACTIVE, LTS_LINES, is_version, release_track, version_key

PRODUCT_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{1,30}")
SHA256 = re.compile(r"[0-9a-f]{64}")
CVE = re.compile(r"CVE-\d{4}-\d{4,7}")
# "<ProdNbr>_<maj>_<min>_<patch>[_<build>].bin" (VAPIX.md §11.4).
OFFICIAL_FILE_NAME = re.compile(r"(?P<product>[A-Z0-9-]+)_(?P<version>\d+(?:_\d+){2,3})\.bin")
MAX_RELEASES_PER_MANIFEST = 2000


@dataclass(frozen=True)
class SecurityNote:
    """A CVE a release fixes, with its severity (one of Advisory.Severity)."""

    cve_id: str
    severity: str
    summary: str = ""


@dataclass(frozen=True)
class ReleaseSpec:
    """Everything a release is, before it is in the catalog. `track` "" means "from the version"."""

    version: str
    product_numbers: tuple[str, ...]
    release_date: date
    file_name: str
    sha256: str
    track: str = ""
    recommended: bool = True
    notes: str = ""
    security_notes: tuple[SecurityNote, ...] = field(default_factory=tuple)


def _add(problems: dict[str, list[str]], name: str, message: str) -> None:
    problems.setdefault(name, []).append(message)


def normalize_spec(spec: ReleaseSpec) -> ReleaseSpec:
    """Return the spec with normalized spelling (upper-case products and CVEs, lower-case hash)."""
    return ReleaseSpec(
        version=spec.version.strip(),
        product_numbers=tuple(sorted({p.strip().upper() for p in spec.product_numbers})),
        release_date=spec.release_date,
        file_name=Path(spec.file_name.strip()).name,
        sha256=spec.sha256.strip().lower(),
        track=spec.track.strip().lower() or release_track(spec.version.strip()),
        recommended=spec.recommended,
        notes=spec.notes.strip(),
        security_notes=tuple(
            SecurityNote(n.cve_id.strip().upper(), n.severity.strip().lower(), n.summary.strip())
            for n in spec.security_notes
        ),
    )


def spec_problems(spec: ReleaseSpec) -> dict[str, list[str]]:
    """Return what is wrong with a (normalized) spec, by field; empty when it is fine."""
    problems: dict[str, list[str]] = {}
    if spec.track not in (ACTIVE, *LTS_LINES):
        _add(
            problems,
            "track",
            _("Unknown track %(track)s: use “active” or an LTS line (%(lines)s).")
            % {"track": spec.track, "lines": ", ".join(LTS_LINES)},
        )
    if not is_version(spec.version):
        _add(problems, "version", _("Write the version as AXIS OS does, e.g. 12.11.77."))
    elif "track" not in problems and spec.track != release_track(spec.version):
        expected = release_track(spec.version)
        _add(
            problems,
            "track",
            _("Version %(version)s is on the %(expected)s track, not on %(track)s.")
            % {"version": spec.version, "expected": expected, "track": spec.track},
        )
    if not spec.product_numbers:
        _add(problems, "product_numbers", _("Name at least one compatible product number."))
    for product in spec.product_numbers:
        if not PRODUCT_NUMBER.fullmatch(product):
            _add(
                problems,
                "product_numbers",
                _("“%(product)s” is not a product number such as P3265-V.") % {"product": product},
            )
    if not SHA256.fullmatch(spec.sha256):
        _add(problems, "sha256", _("The SHA-256 is 64 hexadecimal digits."))
    if not spec.file_name.lower().endswith(".bin"):
        _add(problems, "image", _("AXIS OS images are .bin files."))
    elif match := OFFICIAL_FILE_NAME.fullmatch(spec.file_name):
        # An official name says what the image is for: it must agree with the release.
        named_version = match["version"].replace("_", ".")
        if is_version(spec.version) and version_key(named_version) != version_key(spec.version):
            _add(
                problems,
                "image",
                _("The file name says version %(named)s, the release says %(version)s.")
                % {"named": named_version, "version": spec.version},
            )
        if spec.product_numbers and match["product"] not in spec.product_numbers:
            _add(
                problems,
                "image",
                _("The file is for %(product)s, which is not among the compatible products.")
                % {"product": match["product"]},
            )
    seen: dict[str, str] = {}
    for note in spec.security_notes:
        if not CVE.fullmatch(note.cve_id):
            _add(
                problems,
                "security_notes",
                _("“%(cve)s” is not a CVE ID such as CVE-2025-0324.") % {"cve": note.cve_id},
            )
        if note.severity not in Advisory.Severity.values:
            _add(
                problems,
                "security_notes",
                _("Severity of %(cve)s must be one of %(severities)s.")
                % {"cve": note.cve_id, "severities": ", ".join(Advisory.Severity.values)},
            )
        if seen.setdefault(note.cve_id, note.severity) != note.severity:
            _add(
                problems,
                "security_notes",
                _("%(cve)s is listed twice with different severities.") % {"cve": note.cve_id},
            )
    if len(spec.notes) > 5000:
        _add(problems, "notes", _("Release notes are at most 5000 characters."))
    return problems


def _check_digest(spec: ReleaseSpec, image: IO[bytes]) -> storage.Digest:
    """Hash the image; raise Invalid when it is too large or not the one the spec names."""
    digest = storage.digest_of(image, max_bytes=settings.FIRMWARE_MAX_BYTES)
    if digest is None:
        message = _("The image is larger than %(limit)s bytes.") % {
            "limit": settings.FIRMWARE_MAX_BYTES
        }
        raise Invalid("image_too_large", message, {"image": [message]})
    if digest.size == 0:
        message = _("The image is empty.")
        raise Invalid("image_empty", message, {"image": [message]})
    if digest.sha256 != spec.sha256:
        message = _(
            "The image's SHA-256 is %(actual)s, not %(expected)s: the file is damaged or not "
            "the one named. Nothing was added."
        ) % {"actual": digest.sha256, "expected": spec.sha256}
        raise Invalid("image_checksum_mismatch", message, {"sha256": [message]})
    return digest


def _catalog_conflict(spec: ReleaseSpec) -> str | None:
    """Return why the catalog cannot take this release as new, or None.

    An image already in the catalog as the same release is not a conflict (re-import).
    """
    existing = FirmwareRelease.objects.filter(image_sha256=spec.sha256).first()
    if existing is not None:
        if version_key(existing.version) != version_key(spec.version) or set(
            existing.product_numbers
        ) != set(spec.product_numbers):
            return _("This image is already in the catalog as %(release)s.") % {"release": existing}
        return None
    taken = sorted(
        ReleaseProduct.objects.filter(
            version_key=version_key(spec.version), product_number__in=spec.product_numbers
        ).values_list("product_number", flat=True)
    )
    if taken:
        return _("The catalog already has a different %(version)s image for %(products)s.") % {
            "version": spec.version,
            "products": ", ".join(taken),
        }
    return None


def _advisories(notes: Iterable[SecurityNote]) -> list[Advisory]:
    """Create or update the advisories the notes name; call inside the transaction."""
    advisories = []
    for note in notes:
        advisory, created = Advisory.objects.get_or_create(
            cve_id=note.cve_id, defaults={"severity": note.severity, "summary": note.summary}
        )
        summary_changed = bool(note.summary) and advisory.summary != note.summary
        if not created and (advisory.severity != note.severity or summary_changed):
            advisory.severity = note.severity
            advisory.summary = note.summary or advisory.summary
            advisory.save(update_fields=["severity", "summary"])
        advisories.append(advisory)
    return advisories


@dataclass
class StoredRelease:
    """A release and whether this call added it, changed it, or found it as it was."""

    release: FirmwareRelease
    outcome: str  # "added", "updated" or "unchanged"


def _write_release(spec: ReleaseSpec, image_name: str, size: int) -> StoredRelease:
    """Create the release rows (or bring a re-imported one up to date); inside a transaction."""
    advisories = _advisories(spec.security_notes)
    release = FirmwareRelease.objects.select_for_update().filter(image_sha256=spec.sha256).first()
    if release is None:
        release = FirmwareRelease.objects.create(
            version=spec.version,
            version_key=version_key(spec.version),
            track=spec.track,
            release_date=spec.release_date,
            recommended=spec.recommended,
            image_name=image_name,
            image_sha256=spec.sha256,
            image_size=size,
            notes=spec.notes,
        )
        ReleaseProduct.objects.bulk_create(
            ReleaseProduct(release=release, product_number=p, version_key=release.version_key)
            for p in spec.product_numbers
        )
        release.fixes.set(advisories)
        _plan_upgrades_after_commit()
        return StoredRelease(release, "added")
    changed = False
    for name in ("release_date", "recommended", "notes"):
        if getattr(release, name) != getattr(spec, name):
            setattr(release, name, getattr(spec, name))
            changed = True
    if changed:
        release.save(update_fields=["release_date", "recommended", "notes"])
        if release.recommended:
            _plan_upgrades_after_commit()
    if {a.pk for a in advisories} != set(release.fixes.values_list("pk", flat=True)):
        release.fixes.set(advisories)
        changed = True
    return StoredRelease(release, "updated" if changed else "unchanged")


def _plan_upgrades_after_commit() -> None:
    """Once the catalog has a new (or newly recommended) release, devices whose schedule says
    "as soon as available" or "maintenance window" get their tasks (upgrades.engine)."""
    from upgrades import tasks  # the tasks import the engine, which imports these services

    transaction.on_commit(tasks.schedule_sweep.delay, robust=True)


def _store(spec: ReleaseSpec, image: IO[bytes]) -> tuple[str, int]:
    """Verify and store one image (outside any transaction); return its name and size."""
    digest = _check_digest(spec, image)
    return storage.save_image(image, sha256=digest.sha256, file_name=spec.file_name), digest.size


def _raise_problems(problems: dict[str, list[str]], prefix: str = "") -> None:
    if problems:
        first = next(iter(problems.values()))[0]
        raise Invalid("invalid_release", f"{prefix}{first}", problems)


def add_release(*, spec: ReleaseSpec, image: IO[bytes]) -> StoredRelease:
    """Add one release with its image: checked, hashed against `spec.sha256`, stored, written.

    Refuses (Invalid/Conflict, nothing changed) a bad spec, an image whose SHA-256 differs, or
    a version a product already has a different image of. Adding the same image again with the
    same version and products updates the release's date, flag, notes and security notes.
    """
    spec = normalize_spec(spec)
    _raise_problems(spec_problems(spec))
    if conflict := _catalog_conflict(spec):
        raise Conflict("release_conflict", conflict, {"image": [conflict]})
    image_name, size = _store(spec, image)
    try:
        with transaction.atomic(durable=True):
            return _write_release(spec, image_name, size)
    except IntegrityError:
        # Someone added the same version for the same product meanwhile.
        message = _("The catalog changed meanwhile; this release conflicts with it.")
        raise Conflict("release_conflict", message) from None


# --- Manifests ----------------------------------------------------------------------------


class ManifestError(Exception):
    """A manifest refused whole; the message says where and why."""


def _entry_spec(entry: Any, where: str) -> ReleaseSpec:
    if not isinstance(entry, dict):
        raise ManifestError(_("%(where)s: each release is an object.") % {"where": where})
    known = {
        "version",
        "track",
        "products",
        "release_date",
        "recommended",
        "image",
        "sha256",
        "notes",
        "security_fixes",
    }
    if unknown := sorted(set(entry) - known):
        raise ManifestError(
            _("%(where)s: unknown keys %(keys)s.") % {"where": where, "keys": ", ".join(unknown)}
        )
    for key in ("version", "products", "release_date", "image", "sha256"):
        if key not in entry:
            raise ManifestError(_("%(where)s: %(key)s is missing.") % {"where": where, "key": key})
    try:
        products = entry["products"]
        fixes = entry.get("security_fixes", [])
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            raise TypeError("products")
        if not isinstance(fixes, list) or not all(isinstance(f, dict) for f in fixes):
            raise TypeError("security_fixes")
        if not isinstance(entry.get("recommended", True), bool):
            raise TypeError("recommended")
        for key in ("version", "image", "sha256", "track", "notes"):
            if not isinstance(entry.get(key, ""), str):
                raise TypeError(key)
        return ReleaseSpec(
            version=entry["version"],
            product_numbers=tuple(products),
            release_date=date.fromisoformat(str(entry["release_date"])),
            file_name=entry["image"],
            sha256=entry["sha256"],
            track=entry.get("track", ""),
            recommended=entry.get("recommended", True),
            notes=entry.get("notes", ""),
            security_notes=tuple(
                SecurityNote(str(f["cve"]), str(f["severity"]), str(f.get("summary", "")))
                for f in fixes
            ),
        )
    except KeyError as error:
        raise ManifestError(
            _("%(where)s: a security fix lacks %(key)s.") % {"where": where, "key": error.args[0]}
        ) from None
    except TypeError as error:
        raise ManifestError(
            _("%(where)s: %(key)s has the wrong type.") % {"where": where, "key": error.args[0]}
        ) from None
    except ValueError:
        raise ManifestError(
            _("%(where)s: release_date is a date such as 2026-06-01.") % {"where": where}
        ) from None


@dataclass(frozen=True)
class ManifestRelease:
    """One checked entry of a manifest: the spec and the image file next to the manifest."""

    spec: ReleaseSpec
    image_path: Path
    where: str


def read_manifest(path: Path) -> list[ManifestRelease]:
    """Read and check a whole manifest (files, checksums, catalog); raise ManifestError if bad.

    Nothing is stored here; `import_manifest` stores only after every entry passed.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(_("Cannot read the manifest: %(error)s") % {"error": error}) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ManifestError(_("The manifest is not JSON: %(error)s") % {"error": error}) from None
    if not isinstance(document, dict) or not isinstance(document.get("releases"), list):
        raise ManifestError(_("The manifest is an object with a list of “releases”."))
    entries = document["releases"]
    if not entries:
        raise ManifestError(_("The manifest lists no releases."))
    if len(entries) > MAX_RELEASES_PER_MANIFEST:
        raise ManifestError(
            _("A manifest lists at most %(count)s releases.") % {"count": MAX_RELEASES_PER_MANIFEST}
        )
    checked: list[ManifestRelease] = []
    claimed: dict[tuple[str, str], str] = {}
    hashes: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"releases[{index}]"
        spec = normalize_spec(_entry_spec(entry, where))
        where = f"{where} ({spec.version})"
        if problems := spec_problems(spec):
            raise ManifestError(f"{where}: {next(iter(problems.values()))[0]}")
        image_path = (path.parent / entry["image"]).resolve()
        if not image_path.is_relative_to(path.parent.resolve()):
            raise ManifestError(
                _("%(where)s: images must be in the manifest's folder.") % {"where": where}
            )
        if not image_path.is_file():
            raise ManifestError(
                _("%(where)s: image %(image)s not found.") % {"where": where, "image": image_path}
            )
        for product in spec.product_numbers:
            other = claimed.setdefault((product, version_key(spec.version)), where)
            if other != where:
                raise ManifestError(
                    _("%(where)s: %(other)s already has %(product)s %(version)s.")
                    % {"where": where, "other": other, "product": product, "version": spec.version}
                )
        if hashes.setdefault(spec.sha256, where) != where:
            raise ManifestError(_("%(where)s: the same image is listed twice.") % {"where": where})
        if conflict := _catalog_conflict(spec):
            raise ManifestError(f"{where}: {conflict}")
        with image_path.open("rb") as image:
            try:
                _check_digest(spec, image)
            except Invalid as error:
                raise ManifestError(f"{where}: {error.message}") from None
        checked.append(ManifestRelease(spec, image_path, where))
    return checked


def import_manifest(path: Path) -> list[StoredRelease]:
    """Import every release of a manifest, or none: raise ManifestError with the reason.

    Re-importing the same manifest changes nothing ("unchanged"); a changed flag, date, notes
    or security note is brought up to date ("updated").
    """
    checked = read_manifest(path)
    stored: list[tuple[ManifestRelease, str, int]] = []
    for item in checked:
        with item.image_path.open("rb") as image:
            name, size = _store(item.spec, image)
        stored.append((item, name, size))
    try:
        with transaction.atomic(durable=True):
            return [_write_release(item.spec, name, size) for item, name, size in stored]
    except IntegrityError:
        raise ManifestError(
            _("The catalog changed while importing; nothing was imported. Try again.")
        ) from None
