"""Reads of devices that serve people; each starts from the membership that asks.

Visibility is `organizations.access.visible_folders`: owners and admins see every device of
their organization, operators and viewers the devices in their granted folder subtrees. Anything
else — also another organization's device — is NotFound, the same as a device that does not exist.
"""

import uuid
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from devices.models import Device, DeviceStatusChange
from organizations import access
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership


def visible_devices(membership: Membership) -> QuerySet[Device]:
    """Return the devices this member may see: same organization, granted folder subtrees."""
    devices = Device.objects.for_organization(membership.organization_id)
    if access.sees_all_folders(membership):
        return devices  # owners and admins: skip the folder subquery (netbox #21032)
    return devices.filter(folder__in=access.visible_folders(membership))


def get_visible_device(membership: Membership, device_id: uuid.UUID | str) -> Device:
    """Return one visible device, or raise NotFound — also when it belongs to another tenant."""
    try:
        device_uuid = device_id if isinstance(device_id, uuid.UUID) else uuid.UUID(str(device_id))
        return visible_devices(membership).select_related("folder").get(pk=device_uuid)
    except (Device.DoesNotExist, ValueError, TypeError, AttributeError):
        raise NotFound("device_not_found", _("Device not found.")) from None


def device_status_history(
    membership: Membership, device_id: uuid.UUID | str
) -> QuerySet[DeviceStatusChange]:
    """Return a visible device's status transitions, newest first (NotFound outside reach)."""
    device = get_visible_device(membership, device_id)
    return DeviceStatusChange.objects.filter(device=device).order_by("-changed_at", "-id")


# --- The device list and the fleet overview ----------------------------------------------------

# Statuses that want a person's attention, in the order the overview lists them.
ATTENTION_STATUSES = (
    Device.Status.CERTIFICATE_CHANGED,
    Device.Status.AUTH_FAILED,
    Device.Status.UNREACHABLE,
    Device.Status.OFFLINE,
)


def device_facets(membership: Membership, devices: QuerySet[Device]) -> dict[str, list[str]]:
    """Return the models and firmware versions among these devices, sorted, in one query.

    For the list's filter choices: `devices` is already the member's visible devices, so a
    choice never names a model only another tenant (or another folder) has.
    """
    if access.sees_all_folders(membership) and connection.vendor == "postgresql":
        pairs = _organization_model_pairs(membership.organization_id)
    else:
        pairs = devices.order_by().values_list("product_number", "firmware_version").distinct()
    models, firmware_versions = set(), set()
    for product_number, firmware_version in pairs:
        models.add(product_number)
        firmware_versions.add(firmware_version)
    return {
        "model": sorted(value for value in models if value),
        "firmware_version": sorted(
            (value for value in firmware_versions if value), key=_version_key
        ),
    }


# A "loose index scan" of device_organization_model: one index descent per distinct (model,
# firmware) pair, where DISTINCT reads every device of the organization (a whole fleet, on every
# list page of an owner or admin). PostgreSQL has no skip scan of its own before version 18.
_MODEL_PAIRS_SQL = """
    WITH RECURSIVE pairs AS (
        (SELECT product_number, firmware_version FROM devices_device
         WHERE organization_id = %(organization)s
         ORDER BY product_number, firmware_version LIMIT 1)
        UNION ALL
        SELECT following.product_number, following.firmware_version
        FROM pairs CROSS JOIN LATERAL (
            SELECT device.product_number, device.firmware_version FROM devices_device device
            WHERE device.organization_id = %(organization)s
              AND (device.product_number, device.firmware_version)
                  > (pairs.product_number, pairs.firmware_version)
            ORDER BY device.product_number, device.firmware_version LIMIT 1
        ) following
    )
    SELECT product_number, firmware_version FROM pairs
"""


def _organization_model_pairs(organization_id: uuid.UUID) -> list[tuple[str, str]]:
    """Return the distinct (model, firmware version) pairs of an organization's devices."""
    with connection.cursor() as cursor:
        cursor.execute(_MODEL_PAIRS_SQL, {"organization": organization_id})
        return cursor.fetchall()


def _version_key(version: str) -> tuple:
    """Sort "9.80.1" before "10.12.0": numbers as numbers, the rest as text."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in version.split(".")
    )


def device_status_counts(membership: Membership) -> dict[str, int]:
    """Return how many visible devices are in each status (every status, zeros included)."""
    counts = dict.fromkeys(Device.Status.values, 0)
    rows = visible_devices(membership).order_by().values_list("status").annotate(Count("pk"))
    counts.update(dict(rows))
    return counts


def device_folder_counts(membership: Membership, *, limit: int = 10) -> list[dict]:
    """Return the visible folders holding the most devices: id, name and count, most first."""
    return list(
        visible_devices(membership)
        .order_by()
        .values("folder_id", "folder__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "folder__name")[:limit]
    )


def firmware_version_counts(membership: Membership, *, limit: int = 12) -> list[tuple[str, int]]:
    """Return (firmware version, devices) for the most common versions, then "others" summed.

    The last pair is ("", n) for the devices on the remaining versions or with none known.
    """
    rows = list(
        visible_devices(membership)
        .order_by()
        .values_list("firmware_version")
        .annotate(count=Count("pk"))
        .order_by("-count", "firmware_version")
    )
    known = [(version, count) for version, count in rows if version][:limit]
    shown = {version for version, _count in known}
    others = sum(count for version, count in rows if version not in shown)
    known.sort(key=lambda pair: _version_key(pair[0]))
    return [*known, ("", others)] if others else known


def devices_needing_attention(membership: Membership, *, limit: int = 10) -> list[Device]:
    """Return visible devices in trouble (certificate changed, auth failed, unreachable, offline).

    Longest in trouble first; at most `limit`, with their folders.
    """
    return list(
        visible_devices(membership)
        .filter(status__in=ATTENTION_STATUSES)
        .select_related("folder")
        .order_by("status_changed_at", "id")[:limit]
    )


def device_audit_events(membership: Membership, device: Device, *, limit: int = 20) -> list:
    """Return the newest audit events whose target is this device (empty without audit access).

    `device` comes from `get_visible_device`; the activity rules (`audit_events`) decide who
    may read the log.
    """
    events = organization_selectors.audit_events(membership).filter(
        target_type=Device._meta.label_lower, target_id=str(device.pk)
    )
    return list(events[:limit])


def visible_devices_in(
    membership: Membership, folders: Iterable[Folder] | None = None
) -> QuerySet[Device]:
    """Return the visible devices, read through a list of the member's visible folder ids.

    For lists: with the ids as a list PostgreSQL estimates the rows and reads them through the
    folder index, where the grants' subquery made it scan or hash-join the whole organization
    (and count every device of it). Pages that hold the member's folders anyway (the folder
    picker) pass them, checked against the grants (`access.visible_among`), so a wrong list
    can only narrow the result, never widen it; without `folders` they are read here.
    """
    devices = Device.objects.for_organization(membership.organization_id)
    if access.sees_all_folders(membership):
        return devices
    if folders is None:
        visible = access.visible_folders(membership).order_by().values_list("pk", flat=True)
        folder_ids = list(visible)
    else:
        folder_ids = [folder.pk for folder in access.visible_among(membership, folders)]
    return devices.filter(folder_id__in=folder_ids)
