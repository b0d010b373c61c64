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
from upgrades.services.schedules import (
    INHERIT,
    ScheduleSpec,
    apply_schedule,
    describe,
)

__all__ = [
    "INHERIT",
    "ManifestError",
    "ReleaseSpec",
    "ScheduleSpec",
    "SecurityNote",
    "StoredRelease",
    "add_release",
    "apply_schedule",
    "describe",
    "import_manifest",
    "read_manifest",
]
