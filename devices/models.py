"""Devices of an organization's fleet and the history of their status."""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from devices.credentials import Secret, decrypt_secret, encrypt_secret
from devices.servers import models as _server_models  # noqa: F401 - the server tables, this app's
from organizations.models import Folder, Organization, TenantQuerySet

SERIAL_NUMBER_CONSTRAINT = "device_serial_number_in_one_organization"
# Names no organization: the device may be in another tenant's.
ALREADY_ONBOARDED_MESSAGE = _(
    "This device is already in an organization. It must be removed there before it can be "
    "onboarded again."
)


class Device(models.Model):
    """One Axis device in one organization's folder, with the credentials the service uses.

    The identity fields are read from the device at onboarding and on every poll. The
    password is stored only as a Fernet token (`devices.credentials`); `password` returns it as
    a masked `Secret`. A database constraint keeps `folder` inside `organization` (migration
    0002, PostgreSQL).
    """

    class Scheme(models.TextChoices):
        HTTP = "http", "HTTP"
        HTTPS = "https", "HTTPS"

    class Status(models.TextChoices):
        UNKNOWN = "unknown", _("Not polled yet")
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        AUTH_FAILED = "auth_failed", _("Authentication failed")
        CERTIFICATE_CHANGED = "certificate_changed", _("Certificate changed")
        UNREACHABLE = "unreachable", _("Unreachable")

    id = models.UUIDField(_("device ID"), primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="devices")
    # PROTECT: a folder that holds devices cannot be deleted (PRODUCT.md §4).
    folder = models.ForeignKey(Folder, on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(_("name"), max_length=200)

    serial_number = models.CharField(_("serial number"), max_length=64)
    mac_address = models.CharField(_("MAC address"), max_length=17, blank=True)
    product_number = models.CharField(_("model"), max_length=64, blank=True)
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=64, blank=True)
    hardware_id = models.CharField(_("hardware ID"), max_length=64, blank=True)
    architecture = models.CharField(_("architecture"), max_length=32, blank=True)
    has_ptz = models.BooleanField(_("has PTZ"), default=False)

    scheme = models.CharField(_("scheme"), max_length=5, choices=Scheme.choices)
    host = models.CharField(_("host"), max_length=253)
    port = models.PositiveIntegerField(_("port"))

    username = models.CharField(_("user name"), max_length=64)
    encrypted_password = models.TextField(editable=False)
    # SHA-256 of the certificate pinned at onboarding (HTTPS), lowercase hex without colons;
    # `presented_fingerprint` holds a different certificate seen since, until an admin accepts it.
    certificate_fingerprint = models.CharField(
        _("certificate fingerprint"), max_length=64, blank=True
    )
    presented_fingerprint = models.CharField(
        _("presented certificate fingerprint"), max_length=64, blank=True
    )

    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.UNKNOWN
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)
    created_at = models.DateTimeField(_("onboarded at"), default=timezone.now)
    # Health polling (devices/health.py): when the dispatcher polls the device next (None: at
    # its next tick), when the current outage (offline or unreachable) began, and when its
    # admins were e-mailed about it (None: not yet; cleared when the device is back).
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True)
    offline_since = models.DateTimeField(_("offline since"), null=True, blank=True)
    offline_alert_sent_at = models.DateTimeField(_("offline alert sent"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["name", "id"]
        constraints = [
            # One organization at a time: the real guard when two organizations onboard the
            # same camera at once.
            models.UniqueConstraint(
                fields=["serial_number"],
                name=SERIAL_NUMBER_CONSTRAINT,
                violation_error_message=ALREADY_ONBOARDED_MESSAGE,
            ),
            # Serial numbers are stored upper-case, so the unique constraint cannot be
            # sidestepped by spelling.
            models.CheckConstraint(
                condition=Q(serial_number=Upper("serial_number")) & ~Q(serial_number=""),
                name="device_serial_number_normalized",
            ),
            models.CheckConstraint(
                condition=Q(port__gte=1, port__lte=65535), name="device_port_in_range"
            ),
            models.CheckConstraint(
                condition=Q(scheme__in=["http", "https"]), name="device_scheme_known"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="device_organization_status"),
            # The poll dispatcher's "which devices are due" (devices/health.py).
            models.Index(fields=["next_poll_at"], name="device_next_poll"),
            # Outages whose alert is still to be sent: few rows, read every dispatcher tick.
            models.Index(
                fields=["offline_since"],
                name="device_offline_alert_due",
                condition=Q(offline_since__isnull=False, offline_alert_sent_at__isnull=True),
            ),
            # The device list (migration 0004): its default order for owners and admins, a
            # folder's devices in that order, and the model and firmware filters and choices.
            models.Index(fields=["organization", "name", "id"], name="device_organization_name"),
            models.Index(fields=["folder", "name", "id"], name="device_folder_name"),
            models.Index(
                fields=["organization", "product_number", "firmware_version"],
                name="device_organization_model",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def default_name(*, product_name: str, serial_number: str) -> str:
        """Return the name a device gets at onboarding: its product name and serial number."""
        return f"{product_name} {serial_number}".strip()[:200]

    @property
    def password(self) -> Secret:
        """The device password, decrypted into a masked `Secret`."""
        return decrypt_secret(self.encrypted_password)

    @password.setter
    def password(self, value: str | Secret) -> None:
        self.encrypted_password = encrypt_secret(value)


# Statuses that make an outage: the device cannot be reached. Auth failed and certificate changed
# are not outages: the device answers.
OUTAGE_STATUSES = frozenset({Device.Status.OFFLINE, Device.Status.UNREACHABLE})


class DeviceStatusChange(models.Model):
    """One transition of a device's status, with the reason the poll gave."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="status_changes")
    previous_status = models.CharField(
        _("previous status"), max_length=32, choices=Device.Status.choices
    )
    status = models.CharField(_("status"), max_length=32, choices=Device.Status.choices)
    reason = models.TextField(_("reason"), blank=True, max_length=1000)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("device status change")
        verbose_name_plural = _("device status changes")
        ordering = ["-changed_at", "-id"]
        # A device's history, newest first.
        indexes = [
            models.Index(
                fields=["device", "-changed_at", "-id"], name="device_status_change_history"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: {self.previous_status} → {self.status}"


class DeviceImport(models.Model):
    """One CSV upload of many devices: rows are checked first, then the good ones onboarded.

    The state moves forward only, each step a conditional UPDATE (`devices.imports`):
    checking → checked → onboarding → finished; `expired` when nobody onboarded it in time.
    Passwords of its rows are destroyed when it finishes or expires.
    """

    class State(models.TextChoices):
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        ONBOARDING = "onboarding", _("Onboarding")
        FINISHED = "finished", _("Finished")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="device_imports"
    )
    # Rows without a folder of their own go here; None once that folder is deleted. Not
    # named `folder`: an import does not file anything into a folder, nor keep it from deletion
    # (organizations.selectors counts every `folder` foreign key as folder contents).
    default_folder = models.ForeignKey(
        Folder, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by = models.ForeignKey(
        "organizations.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.CHECKING
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("device import")
        verbose_name_plural = _("device imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "expires_at"], name="device_import_expiry")]

    def __str__(self) -> str:
        return self.file_name or str(self.pk)


class DeviceImportRow(models.Model):
    """One line of a device import: the input, the check's result, then the onboarding's.

    The password waits Fernet-encrypted (`devices.credentials`) and is emptied once the row is
    decided (refused, onboarded, failed) or the import expires.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the check")
        READY = "ready", _("Ready to onboard")
        REFUSED = "refused", _("Refused")
        ONBOARDING = "onboarding", _("Onboarding")
        ONBOARDED = "onboarded", _("Onboarded")
        FAILED = "failed", _("Not onboarded")
        SKIPPED = "skipped", _("Not onboarded (expired)")

    device_import = models.ForeignKey(DeviceImport, on_delete=models.CASCADE, related_name="rows")
    line_number = models.PositiveIntegerField(_("line"))
    host = models.CharField(_("host"), max_length=253, blank=True)
    port = models.CharField(_("port"), max_length=16, blank=True)
    scheme = models.CharField(_("scheme"), max_length=8, blank=True)
    username = models.CharField(_("user name"), max_length=64, blank=True)
    encrypted_password = models.TextField(blank=True, editable=False)
    target_folder = models.ForeignKey(
        Folder, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expected_fingerprint = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    code = models.CharField(_("result code"), max_length=64, blank=True)
    message = models.TextField(_("result"), blank=True)
    # What the check read from the device, so Onboard stores it without connecting again.
    ip = models.GenericIPAddressField(null=True, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True)
    mac_address = models.CharField(max_length=17, blank=True)
    product_number = models.CharField(_("model"), max_length=64, blank=True)
    product_name = models.CharField(max_length=200, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=64, blank=True)
    hardware_id = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=32, blank=True)
    has_ptz = models.BooleanField(default=False)
    certificate_fingerprint = models.CharField(max_length=64, blank=True)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("device import row")
        verbose_name_plural = _("device import rows")
        ordering = ["line_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_import", "line_number"], name="device_import_row_line_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_import_id} line {self.line_number}"

    @property
    def password(self) -> Secret:
        """The row's password, decrypted into a masked `Secret`."""
        return decrypt_secret(self.encrypted_password)

    @password.setter
    def password(self, value: str | Secret) -> None:
        self.encrypted_password = encrypt_secret(value)
