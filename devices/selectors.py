"""Reads of devices that serve people; each starts from the membership that asks.

Visibility is `organizations.access.visible_folders`: owners and admins see every device of
their organization, operators and viewers the devices in their granted folder subtrees. Anything
else — also another organization's device — is NotFound, the same as a device that does not exist.
"""

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from devices.models import Device, DeviceStatusChange
from organizations import access
from organizations.models import Membership


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
