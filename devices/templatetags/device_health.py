"""What the device pages ask about health actions: may this member decide on a certificate."""

from django import template

from devices.models import Device
from organizations import access
from organizations.models import Membership
from organizations.roles import Action

register = template.Library()


@register.simple_tag
def can_accept_certificate(membership: Membership | None, device: Device) -> bool:
    """Return whether the member may accept the device's changed certificate (admin+)."""
    return (
        device.status == Device.Status.CERTIFICATE_CHANGED
        and bool(device.presented_fingerprint)
        and access.can(membership, Action.DEVICE_MANAGE, device)
    )
