"""The firmware catalog (AXIS OS releases, images, security notes) and upgrade schedules."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from devices.models import Device
from organizations.models import Folder, Organization

CVE_ID = RegexValidator(r"^CVE-\d{4}-\d{4,7}$", _("Write a CVE ID such as CVE-2025-0324."))


class Advisory(models.Model):
    """A known vulnerability (a CVE) that catalog releases fix."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    cve_id = models.CharField(_("CVE ID"), max_length=20, unique=True, validators=[CVE_ID])
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    summary = models.CharField(_("summary"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("security advisory")
        verbose_name_plural = _("security advisories")
        ordering = ["-cve_id"]

    def __str__(self) -> str:
        return self.cve_id


class FirmwareRelease(models.Model):
    """One AXIS OS image in the catalog: a version for a list of product numbers.

    Axis publishes one image per product; one of our test images may serve several products.
    Two images of the same version never serve the same product (`ReleaseProduct`). The image
    lives in the firmware storage (`upgrades.storage`) under `image_name`, verified against
    `image_sha256` when it was stored. `version_key` sorts like the version (upgrades.versions),
    so the database orders versions as versions, never as strings.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.CharField(_("version"), max_length=32)
    version_key = models.CharField(max_length=32, editable=False, db_index=True)
    track = models.CharField(
        _("track"), max_length=8, help_text=_("“active”, or the LTS line such as 11.11.")
    )
    release_date = models.DateField(_("release date"))
    recommended = models.BooleanField(
        _("recommended"),
        default=True,
        help_text=_("Recommended releases are offered to devices; others are listed only."),
    )
    image_name = models.CharField(_("image"), max_length=255, editable=False)
    image_sha256 = models.CharField(_("image SHA-256"), max_length=64, unique=True)
    image_size = models.PositiveBigIntegerField(_("image size (bytes)"), editable=False)
    notes = models.TextField(_("release notes"), blank=True, max_length=5000)
    fixes = models.ManyToManyField(
        Advisory, blank=True, related_name="fixed_in", verbose_name=_("security fixes")
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("firmware release")
        verbose_name_plural = _("firmware releases")
        ordering = ["-version_key", "image_name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(version_key="") & ~Q(image_sha256=""), name="release_version_image"
            ),
        ]

    def __str__(self) -> str:
        return f"AXIS OS {self.version} ({', '.join(self.product_numbers)})"

    @property
    def product_numbers(self) -> list[str]:
        """The compatible product numbers (uses the prefetched `products` when there)."""
        return sorted(product.product_number for product in self.products.all())


class ReleaseProduct(models.Model):
    """A product number a release's image is for; one image per version and product."""

    release = models.ForeignKey(FirmwareRelease, on_delete=models.CASCADE, related_name="products")
    product_number = models.CharField(_("product number"), max_length=64)
    # The release's version_key, repeated for the constraint below; a release's version never
    # changes once it is in the catalog.
    version_key = models.CharField(max_length=32, editable=False)

    class Meta:
        verbose_name = _("compatible product")
        verbose_name_plural = _("compatible products")
        ordering = ["product_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product_number", "version_key"],
                name="one_image_per_product_and_version",
                violation_error_message=_("This product already has an image of this version."),
            ),
        ]

    def __str__(self) -> str:
        return self.product_number


class UpgradeSchedule(models.Model):
    """When a folder's (or one device's) devices get new software; absent means "inherit".

    A device without a schedule of its own follows its folder's, else the nearest ancestor
    folder's; with none at all it is upgraded manually only. Window times are read in the time
    zone of the device's folder (its own, else inherited), so "02:00" is 02:00 at each site.
    """

    class Mode(models.TextChoices):
        NONE = "none", _("None (manual only)")
        AS_SOON_AS_AVAILABLE = "asap", _("As soon as new software is available")
        WINDOW = "window", _("Maintenance window")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    folder = models.OneToOneField(
        Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="upgrade_schedule"
    )
    device = models.OneToOneField(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="upgrade_schedule"
    )
    mode = models.CharField(_("schedule"), max_length=8, choices=Mode.choices)
    # Days of the window as a bit set: bit 0 is Monday … bit 6 Sunday.
    weekdays = models.PositiveSmallIntegerField(_("days of the week"), default=0)
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    # ISO dates ("2026-12-24") on which no window starts.
    blackout_dates = models.JSONField(_("blackout dates"), default=list, blank=True)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("upgrade schedule")
        verbose_name_plural = _("upgrade schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(folder__isnull=False, device__isnull=True)
                | Q(folder__isnull=True, device__isnull=False),
                name="schedule_for_one_folder_or_device",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["none", "asap"])
                | Q(
                    mode="window",
                    weekdays__gte=1,
                    weekdays__lte=127,
                    start_time__isnull=False,
                    duration_minutes__gte=1,
                    duration_minutes__lte=24 * 60,
                ),
                name="schedule_window_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} ({self.folder or self.device})"


# --- Upgrade jobs and tasks (DESIGN.md §6) ---------------------------------------------------


def default_failure_threshold() -> int:
    return settings.UPGRADE_FAILURE_THRESHOLD_PERCENT


class UpgradeJob(models.Model):
    """A selection of devices upgraded together; each device's upgrade is an `UpgradeTask`.

    `release` None means each device gets its own recommendation. A job pauses itself when more
    than `failure_threshold_percent` of its finished tasks failed; it is finished when every
    task is in a final state.
    """

    class Origin(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULE = "schedule", _("Schedule")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="upgrade_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who started it, kept when the user is deleted ("schedule" for schedule jobs).
    created_by_label = models.CharField(_("started by"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    release = models.ForeignKey(
        FirmwareRelease, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    failure_threshold_percent = models.PositiveSmallIntegerField(
        _("failure threshold (%)"), default=default_failure_threshold
    )
    paused_reason = models.TextField(_("paused because"), blank=True, max_length=1000)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("upgrade job")
        verbose_name_plural = _("upgrade jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="upgrade_job_org_created"),
            models.Index(fields=["status"], name="upgrade_job_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(failure_threshold_percent__lte=100), name="upgrade_job_threshold"
            ),
        ]

    def __str__(self) -> str:
        return f"Upgrade job {self.id} ({self.get_status_display()})"


class TaskState(models.TextChoices):
    """The states of one device's upgrade (DESIGN.md §6)."""

    SCHEDULED = "scheduled", _("Scheduled")
    WAITING_WINDOW = "waiting_window", _("Waiting for window")
    QUEUED = "queued", _("Queued")
    PREFLIGHT = "preflight", _("Pre-flight checks")
    UPLOADING = "uploading", _("Uploading")
    INSTALLING = "installing", _("Installing")
    VERIFYING = "verifying", _("Verifying")
    COMMITTING = "committing", _("Committing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Nothing happens to a task in these states any more (a retry starts a new attempt).
FINAL_STATES = frozenset(
    {
        TaskState.SUCCEEDED,
        TaskState.FAILED,
        TaskState.ROLLED_BACK,
        TaskState.SKIPPED,
        TaskState.CANCELLED,
    }
)
# Not started yet: the device has not been touched (cancel applies to these).
PENDING_STATES = frozenset({TaskState.SCHEDULED, TaskState.WAITING_WINDOW, TaskState.QUEUED})
# A step is running or due for the device: these count against the concurrency limits.
IN_FLIGHT_STATES = frozenset(
    {
        TaskState.PREFLIGHT,
        TaskState.UPLOADING,
        TaskState.INSTALLING,
        TaskState.VERIFYING,
        TaskState.COMMITTING,
    }
)
# Finished without the upgrade (the failure threshold counts these).
FAILURE_STATES = frozenset({TaskState.FAILED, TaskState.ROLLED_BACK})
ACTIVE_STATES = PENDING_STATES | IN_FLIGHT_STATES


class UpgradeTask(models.Model):
    """One device's upgrade to one release, as a state machine (changed only by `transition`).

    `reason` says in words why the task is in its state (for operators), `reason_code` the same
    as a stable slug (for filters and the API). `step_token` fences the Celery steps: a step runs
    only while the token it was sent with (or took) is the task's, so a duplicate or stale
    message changes nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(UpgradeJob, on_delete=models.CASCADE, related_name="tasks")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="upgrade_tasks")
    release = models.ForeignKey(FirmwareRelease, on_delete=models.PROTECT, related_name="+")
    from_version = models.CharField(_("from version"), max_length=64, blank=True)
    to_version = models.CharField(_("to version"), max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=TaskState.choices)
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    reason_code = models.CharField(_("reason code"), max_length=64, blank=True)
    progress_bytes = models.PositiveBigIntegerField(_("bytes sent"), default=0)
    total_bytes = models.PositiveBigIntegerField(_("image size"), default=0)
    # In UTC: not started before `not_before`; a task with a window must end by `window_ends_at`.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    window_ends_at = models.DateTimeField(_("window ends at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    step_token = models.UUIDField(null=True, blank=True, editable=False)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    # What the device reported before the upload, to prove the restart and detect a rollback.
    boot_id_before = models.CharField(_("boot ID before"), max_length=64, blank=True)
    uptime_before = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    answer_lost = models.BooleanField(default=False, editable=False)
    seen_down = models.BooleanField(default=False, editable=False)
    # When the device first did not answer in this attempt (for "offline from … to …").
    unreachable_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    state_changed_at = models.DateTimeField(_("state since"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("upgrade task")
        verbose_name_plural = _("upgrade tasks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(state__in=sorted(ACTIVE_STATES)),
                name="one_active_upgrade_per_device",
                violation_error_message=_("This device is already being upgraded."),
            ),
            models.CheckConstraint(
                condition=Q(state__in=TaskState.values), name="upgrade_task_state_known"
            ),
        ]
        indexes = [
            # The tick: due tasks by state, oldest first.
            models.Index(fields=["state", "not_before"], name="upgrade_task_due"),
            # The Tasks view: an organization's tasks, newest first; a job's tasks.
            models.Index(fields=["organization", "-created_at"], name="upgrade_task_org_created"),
            models.Index(fields=["job", "state"], name="upgrade_task_job_state"),
            models.Index(fields=["device", "-created_at"], name="upgrade_task_device"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: {self.from_version} → {self.to_version} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def progress_percent(self) -> int:
        if not self.total_bytes:
            return 0
        return min(100, self.progress_bytes * 100 // self.total_bytes)


class UpgradeTaskEvent(models.Model):
    """One transition of a task's state, with when and why."""

    task = models.ForeignKey(UpgradeTask, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16)
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    reason_code = models.CharField(_("reason code"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("upgrade task event")
        verbose_name_plural = _("upgrade task events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["task", "at"], name="upgrade_task_event_task")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_state} → {self.to_state}"
