"""Camera-station servers, their tokens, check-in history, releases and upgrades.

Imported by `devices.models`, so the tables belong to the devices app. A database constraint
keeps a server's folder inside its organization (composite foreign key, migration 0004,
PostgreSQL), and another allows at most one active upgrade per server.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Folder, Organization, TenantQuerySet


def version_key(version: str) -> tuple[int, ...]:
    """Return a dotted version as numbers for comparing ("6.10.2" > "6.9.123"); text counts 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class ServerRelease(models.Model):
    """One release of AXIS Camera Station Pro on the list staff maintain (admin site)."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    released_on = models.DateField(_("release date"))
    is_recommended = models.BooleanField(
        _("recommended"),
        default=False,
        help_text=_("Servers on an older version show “upgrade recommended”."),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("server release")
        verbose_name_plural = _("server releases")
        ordering = ["-released_on", "-version"]
        constraints = [
            # One release is the recommendation; the admin switches it, never two at once.
            models.UniqueConstraint(
                fields=["is_recommended"],
                condition=Q(is_recommended=True),
                name="server_release_one_recommended",
                violation_error_message=_("Another release is already the recommended one."),
            ),
        ]

    def __str__(self) -> str:
        return self.version


class CameraStationServer(models.Model):
    """One on-premises recording server of an organization, as its last check-in described it.

    Whether it is online, late or offline is computed from `last_check_in_at` when read
    (`devices.servers.selectors.connection_state`); `outage_alerted_at` is set when admins were
    told it stopped checking in, and cleared by its next check-in.
    """

    class Health(models.TextChoices):
        UNKNOWN = "unknown", _("Not reported yet")
        OK = "ok", _("Healthy")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    id = models.UUIDField(_("server ID"), primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="camera_station_servers"
    )
    # PROTECT: a folder that holds servers cannot be deleted (organizations counts them).
    folder = models.ForeignKey(
        Folder, on_delete=models.PROTECT, related_name="camera_station_servers"
    )
    name = models.CharField(_("name"), max_length=200)
    software_version = models.CharField(_("software version"), max_length=32, blank=True)
    reported_status = models.CharField(_("reported status"), max_length=64, blank=True)
    health = models.CharField(
        _("health"), max_length=16, choices=Health.choices, default=Health.UNKNOWN
    )
    health_messages = models.JSONField(_("health messages"), default=list, blank=True)
    camera_count = models.PositiveIntegerField(_("cameras"), default=0)
    camera_serials = models.JSONField(_("camera serial numbers"), default=list, blank=True)
    storage_used_bytes = models.PositiveBigIntegerField(_("storage used"), default=0)
    storage_total_bytes = models.PositiveBigIntegerField(_("storage total"), default=0)
    # Seconds the server's clock is ahead of ours (negative: behind), from its last check-in.
    clock_skew_seconds = models.IntegerField(_("clock skew"), null=True, blank=True)
    check_in_count = models.PositiveBigIntegerField(default=0, editable=False)
    last_check_in_at = models.DateTimeField(_("last check-in"), null=True, blank=True)
    outage_alerted_at = models.DateTimeField(_("outage alert sent"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera-station server")
        verbose_name_plural = _("camera-station servers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(storage_used_bytes__lte=models.F("storage_total_bytes"))
                | Q(storage_total_bytes=0),
                name="server_storage_used_within_total",
            ),
        ]
        indexes = [
            # The outage watch: servers whose last check-in is older than the limit.
            models.Index(fields=["last_check_in_at"], name="server_last_check_in"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def storage_used_percent(self) -> int:
        if not self.storage_total_bytes:
            return 0
        return min(100, round(100 * self.storage_used_bytes / self.storage_total_bytes))


class ServerRegistrationToken(models.Model):
    """A one-time secret an admin makes so that one server can register into a folder.

    Only its hash is stored; the raw token is shown once. It is spent by the first registration
    (`used_at`), and refused after `expires_at` or once revoked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="server_registration_tokens"
    )
    # Not named `folder`: pending tokens are not folder contents; deleting the folder drops them.
    target_folder = models.ForeignKey(
        Folder,
        on_delete=models.CASCADE,
        related_name="server_registration_tokens",
        verbose_name=_("folder"),
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_by = models.CharField(_("created by"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    server = models.ForeignKey(
        CameraStationServer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered server"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("server registration token")
        verbose_name_plural = _("server registration tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class ServerToken(models.Model):
    """The secret one server checks in with: hashed, revocable, good for that server only.

    Revoking it (or removing the server) keeps the row, so the server's next check-in is told
    why it is refused; a removed server's tokens lose their server.
    """

    class RevokedBecause(models.TextChoices):
        REVOKED = "revoked", _("Revoked by an admin")
        SERVER_REMOVED = "server_removed", _("Server removed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="server_tokens"
    )
    server = models.ForeignKey(
        CameraStationServer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tokens",
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_because = models.CharField(max_length=16, choices=RevokedBecause.choices, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("server token")
        verbose_name_plural = _("server tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"


class ServerCheckIn(models.Model):
    """One check-in of a server, kept in a ring of SERVER_CHECK_IN_HISTORY slots per server.

    Check-in number n overwrites slot n mod size, so the history stays bounded with one
    upsert per check-in and no clean-up job.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    server = models.ForeignKey(
        CameraStationServer, on_delete=models.CASCADE, related_name="check_ins"
    )
    slot = models.PositiveIntegerField()
    checked_in_at = models.DateTimeField(_("checked in at"))
    software_version = models.CharField(_("software version"), max_length=32, blank=True)
    reported_status = models.CharField(_("reported status"), max_length=64, blank=True)
    health = models.CharField(
        _("health"), max_length=16, choices=CameraStationServer.Health.choices
    )
    camera_count = models.PositiveIntegerField(_("cameras"), default=0)
    storage_used_bytes = models.PositiveBigIntegerField(_("storage used"), default=0)
    storage_total_bytes = models.PositiveBigIntegerField(_("storage total"), default=0)
    clock_skew_seconds = models.IntegerField(_("clock skew"), null=True, blank=True)
    upgrade_state = models.CharField(_("upgrade"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("server check-in")
        verbose_name_plural = _("server check-ins")
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["server", "slot"], name="server_check_in_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.server_id} @ {self.checked_in_at:%Y-%m-%d %H:%M:%S}"


class ServerUpgrade(models.Model):
    """One upgrade of one server to a release, from the admin's request to its outcome.

    queued → picked_up (delivered in a check-in answer; no cancel from here) → installing
    (reported by the server; it is down meanwhile) → succeeded (it checked in on the target
    version), or failed (with the server's reason), cancelled (while queued) or timed_out.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PICKED_UP = "picked_up", _("Picked up")
        INSTALLING = "installing", _("Installing")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        TIMED_OUT = "timed_out", _("Failed: timed out")

    ACTIVE_STATES = (State.QUEUED, State.PICKED_UP, State.INSTALLING)
    # The server is expected to be away while it downloads and installs: no outage alert.
    UNDER_WAY_STATES = (State.PICKED_UP, State.INSTALLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    server = models.ForeignKey(
        CameraStationServer, on_delete=models.CASCADE, related_name="upgrades"
    )
    release = models.ForeignKey(
        ServerRelease, on_delete=models.PROTECT, related_name="upgrades", verbose_name=_("release")
    )
    from_version = models.CharField(_("from version"), max_length=32, blank=True)
    target_version = models.CharField(_("target version"), max_length=32)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    reason = models.TextField(_("reason"), blank=True, max_length=1000)
    requested_by = models.CharField(_("requested by"), max_length=254, blank=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    installing_at = models.DateTimeField(_("installing since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("server upgrade")
        verbose_name_plural = _("server upgrades")
        ordering = ["-queued_at", "-id"]
        constraints = [
            # The real guard when two admins queue an upgrade of the same server at once.
            models.UniqueConstraint(
                fields=["server"],
                condition=Q(state__in=["queued", "picked_up", "installing"]),
                name="server_upgrade_one_active",
                violation_error_message=_("This server already has an upgrade under way."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.server_id} → {self.target_version} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES
