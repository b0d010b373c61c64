"""Every change to devices: store, move, remove, record status, rotate credential keys.

Entry points are `@transaction.atomic(durable=True)`, take keyword-only arguments with the acting
member (`actor`) first, check `organizations.access`, and write one audit event per change in the
same transaction. Services that create, move or remove devices take the organization row lock
first, like the folder services (lock order in `organizations.services.locks`). No network I/O
happens here: talking to the device is the caller's job, outside any transaction.

Audit actions: device.create, device.move, device.remove. Status transitions are not audited: they
come from polling, not from a person, and go to DeviceStatusChange instead.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid, NotFound
from common.text import has_control_characters
from devices import credentials, selectors
from devices.credentials import Secret
from devices.errors import AlreadyOnboarded, CredentialsUnreadable
from devices.models import (
    ALREADY_ONBOARDED_MESSAGE,
    SERIAL_NUMBER_CONSTRAINT,
    Device,
    DeviceStatusChange,
)
from devices.networks import CheckedAddress
from devices.vapix import InvalidArgument, transport
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization

SERIAL_NUMBER_MAX_LENGTH = Device._meta.get_field("serial_number").max_length

# This app's audit actions in words for the activity page (registered in DevicesConfig.ready).
DEVICE_EVENT_TYPES = {
    "device.create": _("Device onboarded"),
    "device.move": _("Device moved"),
    "device.remove": _("Device removed"),
}

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
    """Return what a device reported, without control characters and cut to its column.

    A device is not trusted: an escape sequence in its product name must not reach a support
    terminal, nor a NUL byte or an overlong answer fail the onboarding with a database error.
    """
    max_length = Device._meta.get_field(field_name).max_length
    text = "".join(character for character in value if not has_control_characters(character))
    return " ".join(text.split())[:max_length]


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
            status=status, status_changed_at=now, **seen
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
