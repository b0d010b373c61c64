"""Every change to devices: store, move, remove, record status, rotate credential keys.

Entry points are `@transaction.atomic(durable=True)`, take keyword-only arguments with the acting
member (`actor`) first, check `organizations.access`, and write one audit event per change in the
same transaction. Services that create, move or remove devices take the organization row lock
first, like the folder services (lock order in `organizations.services.locks`). No network I/O
happens here: talking to the device is the caller's job, outside any transaction.

Audit actions: device.create, device.move, device.remove, device.certificate_accept, and
device.identity_change (written by polling, actor "health check", when a device reports another
firmware or identity). Status transitions are not audited: they come from polling, not from a
person, and go to DeviceStatusChange instead.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, Invalid, NotFound
from common.text import has_control_characters, reported_text
from devices import credentials, selectors, signals, tasks
from devices.credentials import Secret
from devices.errors import AlreadyOnboarded, CredentialsUnreadable
from devices.models import (
    ALREADY_ONBOARDED_MESSAGE,
    OUTAGE_STATUSES,
    SERIAL_NUMBER_CONSTRAINT,
    Device,
    DeviceStatusChange,
)
from devices.networks import CheckedAddress
from devices.vapix import InvalidArgument, transport
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership
from organizations.roles import Action, Role
from organizations.services.locks import lock_organization

SERIAL_NUMBER_MAX_LENGTH = Device._meta.get_field("serial_number").max_length

# This app's audit actions in words for the activity page (registered in DevicesConfig.ready).
DEVICE_EVENT_TYPES = {
    "device.create": _("Device onboarded"),
    "device.move": _("Device moved"),
    "device.remove": _("Device removed"),
    "device.certificate_accept": _("Device certificate accepted"),
    "device.identity_change": _("Device identity changed"),
}

# The actor of events that polling writes (no person acted).
HEALTH_CHECK_ACTOR = "health check"

REASON_MAX_LENGTH = 1000


@dataclass(frozen=True)
class DeviceIdentity:
    """What a device says about itself (basic device info, or param.cgi on old firmware)."""

    serial_number: str
    product_number: str = ""
    product_name: str = ""
    firmware_version: str = ""
    mac_address: str = ""
    hardware_id: str = ""
    architecture: str = ""
    has_ptz: bool = False


def normalize_serial_number(serial_number: str) -> str:
    """Return the serial number as stored: upper case, without surrounding space."""
    return serial_number.strip().upper()


def _device_text(value: str, *, field_name: str) -> str:
    """Return what a device reported, cleaned (`common.text.reported_text`) to fit its column."""
    return reported_text(value, Device._meta.get_field(field_name).max_length)


def normalize_mac_address(mac_address: str) -> str:
    """Return a MAC address as AA:BB:CC:DD:EE:FF; anything that is not one stays as given."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", mac_address)
    if len(digits) != 12:
        return mac_address.strip()[:17]
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


def normalize_fingerprint(fingerprint: str) -> str:
    """Return a SHA-256 certificate fingerprint as 64 lowercase hex digits, or raise Invalid."""
    try:
        return transport.normalize_fingerprint(fingerprint)
    except InvalidArgument:
        message = _("The certificate fingerprint must be a SHA-256 digest (64 hex digits).")
        fields = {"certificate_fingerprint": [message]}
        raise Invalid("invalid_fingerprint", message, fields) from None


def _lock_device(actor: Membership, device_id: UUID) -> Device:
    """Lock and return one device the actor sees; NotFound otherwise. Call inside a transaction."""
    try:
        return (
            selectors.visible_devices(actor)
            .select_related("folder")
            .select_for_update(of=("self",))
            .get(pk=device_id)
        )
    except Device.DoesNotExist:
        raise NotFound("device_not_found", _("Device not found.")) from None


def _is_serial_number_conflict(error: IntegrityError) -> bool:
    diagnostics = getattr(error.__cause__, "diag", None)
    constraint = getattr(diagnostics, "constraint_name", None)
    return constraint == SERIAL_NUMBER_CONSTRAINT or SERIAL_NUMBER_CONSTRAINT in str(error)


@transaction.atomic(durable=True)
def create_device(
    *,
    actor: Membership,
    folder: Folder,
    identity: DeviceIdentity,
    address: CheckedAddress,
    scheme: str,
    username: str,
    password: str | Secret,
    certificate_fingerprint: str = "",
) -> Device:
    """Store a device whose identity was just read from it: the write half of onboarding.

    The caller has checked the address and talked to the device outside any transaction. A
    serial number already in any organization is refused with a message that names none; the
    unique constraint is the real guard when two organizations onboard one camera at once.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = organization_selectors.get_visible_folder(actor, folder.pk)
    if scheme not in Device.Scheme.values:
        message = _("The scheme must be HTTP or HTTPS.")
        raise Invalid("invalid_scheme", message, {"scheme": [message]})
    fingerprint = ""
    if scheme == Device.Scheme.HTTPS or certificate_fingerprint:
        fingerprint = normalize_fingerprint(certificate_fingerprint)
    serial_number = normalize_serial_number(identity.serial_number)
    if not serial_number:
        raise Invalid("no_serial_number", _("The device did not report a serial number."))
    if has_control_characters(serial_number) or len(serial_number) > SERIAL_NUMBER_MAX_LENGTH:
        raise Invalid(
            "invalid_serial_number",
            _("The device reported a serial number that is not valid; check that it is a camera."),
        )
    product_name = _device_text(identity.product_name, field_name="product_name")
    # Fast path for the common refusal; the constraint below decides races.
    if Device.objects.filter(serial_number=serial_number).exists():
        raise AlreadyOnboarded(message=ALREADY_ONBOARDED_MESSAGE)
    device = Device(
        organization=organization,
        folder=folder,
        name=Device.default_name(product_name=product_name, serial_number=serial_number),
        serial_number=serial_number,
        mac_address=_device_text(
            normalize_mac_address(identity.mac_address), field_name="mac_address"
        ),
        product_number=_device_text(identity.product_number, field_name="product_number"),
        product_name=product_name,
        firmware_version=_device_text(identity.firmware_version, field_name="firmware_version"),
        hardware_id=_device_text(identity.hardware_id, field_name="hardware_id"),
        architecture=_device_text(identity.architecture, field_name="architecture"),
        has_ptz=identity.has_ptz,
        scheme=scheme,
        host=address.host,
        port=address.port,
        username=username,
        password=password,
        certificate_fingerprint=fingerprint,
        status=Device.Status.ONLINE,
        last_seen_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            device.save(force_insert=True)
    except IntegrityError as error:
        if _is_serial_number_conflict(error):
            raise AlreadyOnboarded(message=ALREADY_ONBOARDED_MESSAGE) from None
        raise
    audit.record(
        actor,
        organization,
        "device.create",
        device,
        {
            "serial_number": serial_number,
            "product_number": identity.product_number,
            "folder": str(folder.pk),
            "address": f"{scheme}://{address.host}:{address.port}",
            "username": username,
            "certificate_fingerprint": fingerprint,
        },
    )
    signals.device_created.send(sender=Device, device=device)
    return device


@transaction.atomic(durable=True)
def move_device(*, actor: Membership, device: Device, folder: Folder) -> Device:
    """Move a device into another visible folder of its organization (admin+).

    Moving it to the folder it is in changes nothing. The composite foreign key refuses a
    folder of another organization even if a caller skipped the selectors.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    device = _lock_device(actor, device.pk)
    target = organization_selectors.get_visible_folder(actor, folder.pk)
    if device.folder_id == target.pk:
        return device
    previous_folder_id = device.folder_id
    device.folder = target
    device.save(update_fields=["folder"])
    audit.record(
        actor,
        organization,
        "device.move",
        device,
        {"folder": {"from": str(previous_folder_id), "to": str(target.pk)}},
    )
    return device


@transaction.atomic(durable=True)
def remove_device(*, actor: Membership, device: Device) -> None:
    """Remove a device from the organization with its credentials and history (admin+).

    The row goes, and with it the encrypted password and the status history; onboarding the
    device again creates a new device. The audit event keeps what it was, never the password.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    device = _lock_device(actor, device.pk)
    audit.record(
        actor,
        organization,
        "device.remove",
        device,
        {
            "serial_number": device.serial_number,
            "name": device.name,
            "folder": str(device.folder_id),
            "address": f"{device.scheme}://{device.host}:{device.port}",
        },
    )
    device.delete()


def _outage_fields(previous: str, status: str, now: datetime) -> dict[str, datetime | None]:
    """Return the outage bookkeeping of a transition: an outage begins, goes on, or ends.

    Offline ↔ unreachable is the same outage (its alert is not sent twice); anything else ends
    it, and the next outage gets its own alert.
    """
    if status in OUTAGE_STATUSES:
        if previous in OUTAGE_STATUSES:
            return {}
        return {"offline_since": now, "offline_alert_sent_at": None}
    return {"offline_since": None, "offline_alert_sent_at": None}


@transaction.atomic(durable=True)
def record_device_status(
    *, device_id: UUID, status: str, reason: str = "", seen_at: datetime | None = None
) -> DeviceStatusChange | None:
    """Set a device's status; write a history row only when the status really changes.

    A conditional UPDATE (`WHERE status = <the status read>`) decides between concurrent
    pollers: the second one re-reads and sees no transition. Online also refreshes last seen.
    Returns the transition written, or None (same status, or the device was removed meanwhile).
    """
    status = Device.Status(status)
    now = timezone.now()
    seen = {"last_seen_at": seen_at or now} if status == Device.Status.ONLINE else {}
    reason = reason[:REASON_MAX_LENGTH]
    while True:
        current = Device.objects.filter(pk=device_id).values_list("status", flat=True).first()
        if current is None:
            return None
        if current == status:
            if seen:
                Device.objects.filter(pk=device_id).update(**seen)
            return None
        updated = Device.objects.filter(pk=device_id, status=current).update(
            status=status, status_changed_at=now, **seen, **_outage_fields(current, status, now)
        )
        if updated:
            return DeviceStatusChange.objects.create(
                device_id=device_id,
                previous_status=current,
                status=status,
                reason=reason,
                changed_at=now,
            )
        # Another poller changed the status between our read and our UPDATE: read again.


def confirm_device_status(*, device_id: UUID, status: str) -> bool:
    """Tell whether the device still has `status`, refreshing last seen when it is online.

    One conditional UPDATE and no transaction: the fast path of a poll that finds what it found
    last time (almost every poll). False means the status differs (or the device is gone): call
    `record_device_status` to record the transition.
    """
    status = Device.Status(status)
    if status == Device.Status.ONLINE:
        changes = {"last_seen_at": timezone.now()}
    else:
        changes = {"status": status}  # nothing changes; the row count is the answer
    return bool(Device.objects.filter(pk=device_id, status=status).update(**changes))


@dataclass
class RotationResult:
    """What `rotate_device_credentials` did: counts, and the devices it could not decrypt."""

    rotated: int = 0
    current: int = 0
    unreadable: list[UUID] = field(default_factory=list)


def rotate_device_credentials(*, batch_size: int = 500) -> RotationResult:
    """Re-encrypt every device password with the newest key, one short transaction per batch.

    Idempotent: passwords already encrypted with the newest key are left alone, so a second
    run (or one resumed after an interruption) rotates nothing twice. Rows are locked per
    batch, so a credential change running meanwhile is not overwritten with the old password.
    """
    result = RotationResult()
    last_id: UUID | None = None
    while True:
        with transaction.atomic(durable=True):
            batch_query = Device.objects.order_by("pk").only("pk", "encrypted_password")
            if last_id is not None:
                batch_query = batch_query.filter(pk__gt=last_id)
            batch = list(batch_query.select_for_update(of=("self",))[:batch_size])
            if not batch:
                return result
            rotated = []
            for device in batch:
                if credentials.is_current(device.encrypted_password):
                    result.current += 1
                    continue
                try:
                    device.encrypted_password = credentials.rotate_secret(device.encrypted_password)
                except CredentialsUnreadable:
                    result.unreadable.append(device.pk)
                    continue
                rotated.append(device)
            Device.objects.bulk_update(rotated, ["encrypted_password"])
            result.rotated += len(rotated)
            last_id = batch[-1].pk


# --- Health polling (devices/health.py) and the certificate decision --------------------------

# What polling compares with what the device reports; the serial number identifies the device
# and is never rewritten (another serial at the address is a different device).
POLLED_IDENTITY_FIELDS = (
    "firmware_version",
    "product_number",
    "product_name",
    "hardware_id",
    "architecture",
)


@transaction.atomic(durable=True)
def record_device_identity(*, device_id: UUID, identity: DeviceIdentity) -> dict[str, dict]:
    """Store what changed in a polled device's identity; audit it with before → after.

    Returns the changes ({field: {"from": …, "to": …}}), empty when nothing changed or the
    device was removed meanwhile. A field the device left empty keeps its stored value (old
    firmware does not report every property). The row lock makes two pollers audit a firmware
    change once.
    """
    device = (
        Device.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        return {}
    changes: dict[str, dict] = {}
    for field_name in POLLED_IDENTITY_FIELDS:
        reported = _device_text(getattr(identity, field_name), field_name=field_name)
        stored = getattr(device, field_name)
        if reported and reported != stored:
            changes[field_name] = {"from": stored, "to": reported}
            setattr(device, field_name, reported)
    if changes:
        device.save(update_fields=list(changes))
        audit.record(
            HEALTH_CHECK_ACTOR, device.organization, "device.identity_change", device, changes
        )
    return changes


@transaction.atomic(durable=True)
def record_presented_certificate(*, device_id: UUID, fingerprint: str) -> None:
    """Remember the certificate a device presents instead of its pinned one ("" once it is back).

    Written by polling before the status, so the page that shows "certificate changed" always
    has the fingerprint an administrator is asked to accept.
    """
    Device.objects.filter(pk=device_id).exclude(presented_fingerprint=fingerprint).update(
        presented_fingerprint=fingerprint
    )


@transaction.atomic(durable=True)
def accept_certificate(*, actor: Membership, device_id: UUID, fingerprint: str) -> Device:
    """Pin the certificate a device now presents, so the service talks to it again (admin+).

    `fingerprint` is the one the administrator saw: it must still be the one the device
    presents, else nothing changes (a newer certificate appeared meanwhile and must be looked at
    first). Accepting the fingerprint that is already pinned changes nothing, so a second
    administrator clicking at the same time gets the same result, not an error. The device is
    polled again at once (after commit).
    """
    access.require(actor, Action.DEVICE_MANAGE)
    fingerprint = normalize_fingerprint(fingerprint)
    device = _lock_device(actor, device_id)
    if device.certificate_fingerprint == fingerprint and not device.presented_fingerprint:
        return device
    if device.presented_fingerprint != fingerprint:
        raise Conflict(
            "certificate_not_presented",
            _(
                "The device no longer presents this certificate. Reload the page and check the "
                "fingerprint it presents now before accepting it."
            ),
        )
    previous_fingerprint = device.certificate_fingerprint
    previous_status = device.status
    now = timezone.now()
    device.certificate_fingerprint = fingerprint
    device.presented_fingerprint = ""
    # Not known until the next poll, which is queued below; until then "not polled yet".
    device.status = Device.Status.UNKNOWN
    device.status_changed_at = now
    device.next_poll_at = now
    device.save(
        update_fields=[
            "certificate_fingerprint",
            "presented_fingerprint",
            "status",
            "status_changed_at",
            "next_poll_at",
        ]
    )
    if previous_status != device.status:
        DeviceStatusChange.objects.create(
            device=device,
            previous_status=previous_status,
            status=device.status,
            reason=str(
                _("The new certificate was accepted by %(person)s.") % {"person": actor.user}
            ),
            changed_at=now,
        )
    audit.record(
        actor,
        device.organization,
        "device.certificate_accept",
        device,
        {"certificate_fingerprint": {"from": previous_fingerprint, "to": fingerprint}},
    )
    tasks.poll_devices.delay_on_commit([str(device.pk)])
    return device


@dataclass(frozen=True)
class OfflineAlert:
    """One outage whose alert was just claimed: the device, and the people to e-mail."""

    device_id: UUID
    offline_since: datetime
    recipient_ids: list[int]


def claim_offline_alerts(*, offline_for: timedelta, limit: int = 500) -> list[OfflineAlert]:
    """Mark the outages older than `offline_for` as alerted and return who to e-mail for each.

    Each outage is claimed once: the conditional UPDATE (alert not sent yet, same outage) lets
    only one of two concurrent dispatchers have it. Recipients are the organization's owners and
    admins with an active account. One short transaction per outage.
    """
    due = list(
        Device.objects.filter(
            status__in=OUTAGE_STATUSES,
            offline_since__lte=timezone.now() - offline_for,
            offline_alert_sent_at__isnull=True,
        )
        .order_by("offline_since")
        .values_list("pk", "organization_id", "offline_since")[:limit]
    )
    claimed = []
    for device_id, organization_id, offline_since in due:
        with transaction.atomic(durable=True):
            won = Device.objects.filter(
                pk=device_id,
                status__in=OUTAGE_STATUSES,
                offline_since=offline_since,
                offline_alert_sent_at__isnull=True,
            ).update(offline_alert_sent_at=timezone.now())
            if not won:
                continue
            recipient_ids = list(
                Membership.objects.filter(
                    organization_id=organization_id,
                    role__in=(Role.OWNER, Role.ADMIN),
                    user__is_active=True,
                )
                .order_by("user_id")
                .values_list("user_id", flat=True)
            )
        claimed.append(OfflineAlert(device_id, offline_since, recipient_ids))
    return claimed


# --- The device list's bulk move --------------------------------------------------------------

# A page of the list at most, so one request holds the organization lock briefly.
BULK_MOVE_LIMIT = 500


@transaction.atomic(durable=True)
def move_devices(*, actor: Membership, device_ids: Iterable[UUID], folder: Folder) -> list[Device]:
    """Move several visible devices into one visible folder, all or none (admin+).

    One transaction with the organization lock, then the devices locked in id order; one
    `device.move` event per device that changes folder (those already there are left alone).
    A device removed or moved out of reach since the list was shown refuses the whole move,
    so a person never gets half of what they asked for.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    wanted = sorted(set(device_ids))
    if not wanted:
        message = _("Select at least one device to move.")
        raise Invalid("no_devices_selected", message, {"selection": [message]})
    if len(wanted) > BULK_MOVE_LIMIT:
        message = _("Move at most %(limit)d devices at once.") % {"limit": BULK_MOVE_LIMIT}
        raise Invalid("too_many_devices", message, {"selection": [message]})
    organization = lock_organization(actor.organization_id)
    target = organization_selectors.get_visible_folder(actor, folder.pk)
    devices = list(
        selectors.visible_devices(actor)
        .filter(pk__in=wanted)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    if len(devices) != len(wanted):
        raise Conflict(
            "devices_changed",
            _(
                "Some of the selected devices were removed or are no longer yours to see; "
                "nothing was moved. Reload the list and select again."
            ),
        )
    moved = [device for device in devices if device.folder_id != target.pk]
    for device in moved:
        previous_folder_id = device.folder_id
        device.folder = target
        audit.record(
            actor,
            organization,
            "device.move",
            device,
            {"folder": {"from": str(previous_folder_id), "to": str(target.pk)}},
        )
    Device.objects.bulk_update(moved, ["folder"])
    return moved
