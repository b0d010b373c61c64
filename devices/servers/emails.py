"""The e-mail admins get when a server stops checking in, in each recipient's language."""

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from devices.servers.models import CameraStationServer
from organizations.models import Membership
from organizations.roles import ALL_FOLDERS_ROLES


def outage_recipients(server: CameraStationServer) -> list:
    """Return the active owners and admins of the server's organization (they see every folder)."""
    memberships = Membership.objects.filter(
        organization_id=server.organization_id,
        role__in=ALL_FOLDERS_ROLES,
        user__is_active=True,
    ).select_related("user")
    return [membership.user for membership in memberships.order_by("pk")]


def send_outage_emails(server: CameraStationServer) -> int:
    """Send one message per recipient over one connection; return how many went out."""
    path = reverse("servers:server-detail", args=[server.organization_id, server.pk])
    link = f"{settings.SITE_ORIGIN}{path}"
    messages = []
    for user in outage_recipients(server):
        with (
            translation.override(user.language or settings.LANGUAGE_CODE),
            timezone.override(user.time_zone or "UTC"),
        ):
            context = {"server": server, "organization": server.organization, "link": link}
            subject = gettext("Camera-station server %(name)s stopped checking in") % {
                "name": server.name
            }
            body = render_to_string("devices/servers/emails/outage.txt", context)
        messages.append(mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    if not messages:
        return 0
    with mail.get_connection() as connection:
        return connection.send_messages(messages) or 0
