"""Reads of camera-station servers that serve people; each starts from the membership that asks.

A server is visible to whoever sees its folder (`organizations.access.visible_folders`);
anything else — also another organization's server — is NotFound. Seeing is not monitoring:
the pages also require Action.SERVER_MONITOR (viewers get 403 with a reason).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from devices.servers.models import (
    CameraStationServer,
    ServerCheckIn,
    ServerRegistrationToken,
    ServerRelease,
    ServerUpgrade,
    version_key,
)
from organizations import access
from organizations.models import Membership


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def visible_servers(membership: Membership) -> QuerySet[CameraStationServer]:
    """Return the servers this member may see: same organization, visible folders."""
    servers = CameraStationServer.objects.for_organization(membership.organization_id)
    if access.sees_all_folders(membership):
        return servers
    return servers.filter(folder__in=access.visible_folders(membership))


def servers_for_list(membership: Membership) -> QuerySet[CameraStationServer]:
    """Return the visible servers with their folder and active upgrade, for the list page."""
    active = ServerUpgrade.objects.filter(state__in=ServerUpgrade.ACTIVE_STATES)
    return (
        visible_servers(membership)
        .select_related("folder")
        .prefetch_related(Prefetch("upgrades", queryset=active, to_attr="active_upgrades"))
    )


def get_visible_server(membership: Membership, server_id: uuid.UUID | str) -> CameraStationServer:
    """Return one visible server, or raise NotFound — also when it is another tenant's."""
    try:
        return visible_servers(membership).select_related("folder").get(pk=_as_uuid(server_id))
    except (CameraStationServer.DoesNotExist, ValueError, TypeError, AttributeError):
        raise NotFound("server_not_found", _("Server not found.")) from None


def get_visible_upgrade(membership: Membership, upgrade_id: uuid.UUID | str) -> ServerUpgrade:
    """Return one upgrade of a visible server, or raise NotFound."""
    try:
        return (
            ServerUpgrade.objects.for_organization(membership.organization_id)
            .filter(server__in=visible_servers(membership))
            .select_related("server__folder", "release")
            .get(pk=_as_uuid(upgrade_id))
        )
    except (ServerUpgrade.DoesNotExist, ValueError, TypeError, AttributeError):
        raise NotFound("upgrade_not_found", _("Upgrade not found.")) from None


def server_check_ins(server: CameraStationServer) -> QuerySet[ServerCheckIn]:
    """Return a server's kept check-ins, newest first (the server comes from a selector)."""
    return ServerCheckIn.objects.filter(server=server).order_by("-checked_in_at", "-id")


def server_upgrades(server: CameraStationServer) -> QuerySet[ServerUpgrade]:
    """Return a server's upgrades, newest first (the server comes from a selector)."""
    return ServerUpgrade.objects.filter(server=server).select_related("release")


def registration_tokens(membership: Membership) -> QuerySet[ServerRegistrationToken]:
    """Return the registration tokens for folders this member sees, newest first."""
    tokens = ServerRegistrationToken.objects.for_organization(membership.organization_id)
    if not access.sees_all_folders(membership):
        tokens = tokens.filter(target_folder__in=access.visible_folders(membership))
    return tokens.select_related("target_folder", "server")


def server_releases() -> QuerySet[ServerRelease]:
    """Return the staff-maintained server releases, newest first (no tenant data)."""
    return ServerRelease.objects.order_by("-released_on", "-version")


def recommended_release() -> ServerRelease | None:
    """Return the release marked recommended, if staff marked one."""
    return ServerRelease.objects.filter(is_recommended=True).first()


def is_upgrade_recommended(server: CameraStationServer, recommended: ServerRelease | None) -> bool:
    """Tell whether the server runs a version older than the recommended release."""
    if recommended is None or not server.software_version:
        return False
    return version_key(server.software_version) < version_key(recommended.version)


ONLINE, LATE, OFFLINE, UPGRADING, NEVER = "online", "late", "offline", "upgrading", "never"
CONNECTION_LABELS = {
    ONLINE: _("Online"),
    LATE: _("Late"),
    OFFLINE: _("Offline"),
    UPGRADING: _("Upgrading"),
    NEVER: _("Not checked in yet"),
}


@dataclass(frozen=True)
class Connection:
    """How a server's check-ins stand right now."""

    state: str
    since: datetime | None

    @property
    def label(self) -> str:
        return str(CONNECTION_LABELS[self.state])


def connection_state(
    server: CameraStationServer, *, is_upgrading: bool = False, now: datetime | None = None
) -> Connection:
    """Return online (checked in within two intervals), late, offline, upgrading or never.

    Offline starts SERVER_OFFLINE_AFTER seconds after the last check-in; a server with an upgrade
    under way is expected to be away and shows as upgrading instead.
    """
    now = now or timezone.now()
    last = server.last_check_in_at
    if is_upgrading:
        return Connection(UPGRADING, last)
    if last is None:
        return Connection(NEVER, server.registered_at)
    silence = now - last
    if silence <= timedelta(seconds=2 * settings.SERVER_CHECK_IN_INTERVAL):
        return Connection(ONLINE, last)
    if silence <= timedelta(seconds=settings.SERVER_OFFLINE_AFTER):
        return Connection(LATE, last)
    return Connection(OFFLINE, last)


def server_overview(membership: Membership, *, now: datetime | None = None) -> dict:
    """Count the visible servers by how their check-ins stand, for the organization's Overview.

    One query for the servers and one for their active upgrades; late and offline servers are
    returned too, so the Overview can name the ones that need attention.
    """
    now = now or timezone.now()
    recommended = recommended_release()
    counts = dict.fromkeys(CONNECTION_LABELS, 0)
    attention = []
    upgrade_recommended = 0
    for server in servers_for_list(membership):
        active = server.active_upgrades
        is_upgrading = bool(active) and active[0].state in ServerUpgrade.UNDER_WAY_STATES
        connection = connection_state(server, is_upgrading=is_upgrading, now=now)
        counts[connection.state] += 1
        if connection.state in (LATE, OFFLINE):
            attention.append({"server": server, "connection": connection})
        if is_upgrade_recommended(server, recommended):
            upgrade_recommended += 1
    return {
        "total": sum(counts.values()),
        "states": [
            {"state": state, "label": label, "count": counts[state]}
            for state, label in CONNECTION_LABELS.items()
        ],
        "attention": attention,
        "upgrade_recommended": upgrade_recommended,
    }
