"""Every write of the upgrades app: the firmware catalog (staff) and upgrade schedules (admins)."""

from upgrades.services.catalog import (
    ManifestError,
    ReleaseSpec,
    SecurityNote,
    StoredRelease,
    add_release,
    import_manifest,
    read_manifest,
)

__all__ = [
    "ManifestError",
    "ReleaseSpec",
    "SecurityNote",
    "StoredRelease",
    "add_release",
    "import_manifest",
    "read_manifest",
]
