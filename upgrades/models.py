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
