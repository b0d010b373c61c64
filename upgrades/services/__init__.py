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
from upgrades.services.jobs import (
    Review,
    ReviewRow,
    StaleTask,
    cancel_job,
    create_job,
    pause_job,
    resume_job,
    retry_task,
    review_upgrade,
    transition,
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
    "Review",
    "ReviewRow",
    "ScheduleSpec",
    "SecurityNote",
    "StaleTask",
    "StoredRelease",
    "add_release",
    "apply_schedule",
    "cancel_job",
    "create_job",
    "describe",
    "import_manifest",
    "pause_job",
    "read_manifest",
    "resume_job",
    "retry_task",
    "review_upgrade",
    "transition",
]
