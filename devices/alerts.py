"""The offline alert: one e-mail per outage to the organization's owners and admins.

The dispatcher claims outages older than DEVICE_OFFLINE_ALERT_AFTER once each
(`services.claim_offline_alerts`) and queues one task per recipient; each task renders the
message in the recipient's language and time zone and sends it.
"""

import logging
import zoneinfo
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from common.mail import describe_failure, is_permanent_failure
from devices.models import OUTAGE_STATUSES, Device
from organizations.models import Membership
from organizations.roles import Role

logger = logging.getLogger(__name__)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def offline_alert_message(device: Device, user: User) -> EmailMessage:
    """Return the alert about one device's outage, in the recipient's language and time zone."""
    last_change = device.status_changes.order_by("-changed_at", "-id").first()
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(_zone(user.time_zone)),
    ):
        # Device and organization names must not break the Subject header.
        subject = _("%(device)s is offline (%(organization)s)") % {
            "device": " ".join(device.name.split()),
            "organization": " ".join(device.organization.name.split()),
        }
        body = render_to_string(
            "devices/emails/offline_alert.txt",
            {
                "user": user,
                "device": device,
                "organization": device.organization,
                "status": device.get_status_display(),
                "reason": last_change.reason if last_change else "",
                "offline_since": device.offline_since,
                "last_seen_at": device.last_seen_at,
                "time_zone": user.time_zone,
            },
        )
    return EmailMessage(str(subject), body, settings.DEFAULT_FROM_EMAIL, [user.email])


def deliver_offline_alert(*, device_id: UUID, offline_since: datetime, user_id: int) -> None:
    """E-mail one recipient about one outage; skip it when the outage or the recipient is gone.

    Stale alerts are not sent: the device is back (or in a newer outage), removed, or the person
    is no longer an owner or admin of its organization. A refusal the mail server calls final
    is logged; any other failure is raised again for the task to retry.
    """
    device = (
        Device.objects.select_related("organization")
        .filter(pk=device_id, status__in=OUTAGE_STATUSES, offline_since=offline_since)
        .first()
    )
    if device is None:
        return
    membership = (
        Membership.objects.select_related("user")
        .filter(
            organization_id=device.organization_id,
            user_id=user_id,
            role__in=(Role.OWNER, Role.ADMIN),
            user__is_active=True,
        )
        .first()
    )
    if membership is None:
        return
    message = offline_alert_message(device, membership.user)
    try:
        message.send()
    except (OSError, ValueError) as error:
        if not is_permanent_failure(error):
            raise
        logger.warning("Offline alert not delivered: %s", describe_failure(error))
