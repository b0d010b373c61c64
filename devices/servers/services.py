"""Every change to camera-station servers: tokens, registration, check-in, upgrades, outages.

People's entry points take the acting member (`actor`) first, check `organizations.access`, and
write one audit event per change in the same `@transaction.atomic(durable=True)`. Servers act
with their tokens (`register_server`, `check_in`); what they change about an upgrade is audited
with the server as the actor. No network I/O happens inside a transaction: e-mails go out from
Celery after commit.

Audit actions: server_registration_token.create/.revoke, server.register, server.token_revoke,
server.remove, server.offline, server_upgrade.queue/.cancel/.pick_up/.install/.succeed/.fail/
.time_out.
"""

import hmac
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, DomainError, Invalid, NotFound
from common.text import reported_text
from devices.servers import selectors
from devices.servers.models import (
    CameraStationServer,
    ServerCheckIn,
    ServerRegistrationToken,
    ServerRelease,
    ServerToken,
    ServerUpgrade,
)
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization
from organizations.tokens import hash_secret, new_prefixed_secret, split_prefixed_secret

SERVER_EVENT_TYPES = {
    "server_registration_token.create": _("Server registration token created"),
    "server_registration_token.revoke": _("Server registration token revoked"),
    "server.register": _("Server registered"),
    "server.token_revoke": _("Server token revoked"),
    "server.remove": _("Server removed"),
    "server.offline": _("Server stopped checking in"),
    "server_upgrade.queue": _("Server upgrade queued"),
    "server_upgrade.cancel": _("Server upgrade cancelled"),
    "server_upgrade.pick_up": _("Server upgrade picked up"),
    "server_upgrade.install": _("Server upgrade installing"),
    "server_upgrade.succeed": _("Server upgrade succeeded"),
    "server_upgrade.fail": _("Server upgrade failed"),
    "server_upgrade.time_out": _("Server upgrade timed out"),
}

REGISTRATION_TOKEN_PREFIX = "cfr"  # noqa: S105 - a visible marker, not a secret
SERVER_TOKEN_PREFIX = "cfs"  # noqa: S105 - a visible marker, not a secret
# How long a registration token may live: the choices offered, in hours.
REGISTRATION_TOKEN_HOURS = (1, 24, 72, 168)
MAX_CAMERA_SERIALS = 2000
MAX_HEALTH_MESSAGES = 10
REASON_MAX_LENGTH = 1000


class Unauthorized(DomainError):
    """A server's token (or registration token) is refused; the code says why."""

    http_status = 401
    default_code = "token_invalid"


class TooSoon(DomainError):
    """A check-in came sooner than SERVER_CHECK_IN_MIN_INTERVAL after the last one."""

    http_status = 429
    default_code = "too_soon"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        message = _("Too many check-ins: check in again in %(seconds)d seconds.") % {
            "seconds": retry_after
        }
        super().__init__("too_soon", message)


def _server_actor(server: CameraStationServer) -> str:
    """Return how the audit log names a server acting with its token."""
    return f"server {server.name}"[:254]


# --- Registration tokens (admins) ---------------------------------------------------------


@transaction.atomic(durable=True)
def create_registration_token(
    *, actor: Membership, folder_id: UUID, name: str, valid_hours: int
) -> tuple[ServerRegistrationToken, str]:
    """Create a one-time registration token for a folder; return it with the raw secret.

    The raw secret is shown once; only its hash is stored.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = organization_selectors.get_visible_folder(actor, folder_id)
    access.require(actor, Action.DEVICE_MANAGE, folder)
    clean_name = reported_text(name, 80)
    if not clean_name:
        message = _("Give the token a name, e.g. the server it is for.")
        raise Invalid("name_required", message, {"name": [message]})
    if valid_hours not in REGISTRATION_TOKEN_HOURS:
        message = _("Choose how long the token stays valid.")
        raise Invalid("lifetime_invalid", message, {"valid_hours": [message]})
    prefix, raw_token = new_prefixed_secret(REGISTRATION_TOKEN_PREFIX, ServerRegistrationToken)
    now = timezone.now()
    token = ServerRegistrationToken.objects.create(
        organization=organization,
        target_folder=folder,
        name=clean_name,
        prefix=prefix,
        token_hash=hash_secret(raw_token),
        created_by=actor.user.email,
        created_at=now,
        expires_at=now + timedelta(hours=valid_hours),
    )
    audit.record(
        actor,
        organization,
        "server_registration_token.create",
        token,
        {
            "name": clean_name,
            "prefix": prefix,
            "folder": str(folder.pk),
            "folder_names": {str(folder.pk): folder.name},
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return token, raw_token


@transaction.atomic(durable=True)
def revoke_registration_token(*, actor: Membership, token_id: UUID) -> ServerRegistrationToken:
    """Revoke an unused registration token; repeating it changes nothing."""
    organization = lock_organization(actor.organization_id)
    try:
        token = selectors.registration_tokens(actor).get(pk=token_id)
    except (ServerRegistrationToken.DoesNotExist, ValueError):
        raise NotFound("token_not_found", _("Registration token not found.")) from None
    access.require(actor, Action.DEVICE_MANAGE, token.target_folder)
    if token.used_at is not None:
        raise Conflict("token_used", _("This token was already used to register a server."))
    updated = ServerRegistrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit.record(
            actor,
            organization,
            "server_registration_token.revoke",
            token,
            {"name": token.name, "prefix": token.prefix},
        )
    return token


# --- Servers acting with their tokens ---------------------------------------------------------


@transaction.atomic(durable=True)
def register_server(
    *, registration_token: str, name: str, software_version: str = ""
) -> tuple[CameraStationServer, str]:
    """Spend a registration token: create the server in its folder, return its raw server token.

    The token row is locked, so two servers racing with the same token get one server between
    them; the other is told the token was used.
    """
    prefix, raw = split_prefixed_secret(registration_token)
    token = (
        ServerRegistrationToken.objects.select_for_update(of=("self",))
        .select_related("organization", "target_folder")
        .filter(prefix=prefix)
        .first()
        if prefix
        else None
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(raw)):
        raise Unauthorized(
            "registration_token_invalid",
            _("The registration token is not valid. Ask an admin for a new one."),
        )
    if token.organization.is_archived:
        raise Unauthorized(
            "organization_archived", _("The organization of this token is archived.")
        )
    if token.used_at is not None:
        raise Unauthorized(
            "registration_token_used",
            _("This registration token was already used. Ask an admin for a new one."),
        )
    if token.revoked_at is not None:
        raise Unauthorized(
            "registration_token_revoked",
            _("This registration token was revoked. Ask an admin for a new one."),
        )
    now = timezone.now()
    if token.expires_at <= now:
        raise Unauthorized(
            "registration_token_expired",
            _("This registration token has expired. Ask an admin for a new one."),
        )
    server_name = reported_text(name, 200) or f"Camera Station {token.prefix}"
    server = CameraStationServer.objects.create(
        organization=token.organization,
        folder=token.target_folder,
        name=server_name,
        software_version=reported_text(software_version, 32),
        registered_at=now,
    )
    token_prefix, raw_server_token = new_prefixed_secret(SERVER_TOKEN_PREFIX, ServerToken)
    ServerToken.objects.create(
        organization=token.organization,
        server=server,
        prefix=token_prefix,
        token_hash=hash_secret(raw_server_token),
        created_at=now,
    )
    ServerRegistrationToken.objects.filter(pk=token.pk).update(used_at=now, server=server)
    audit.record(
        _server_actor(server),
        token.organization,
        "server.register",
        server,
        {
            "registration_token": token.prefix,
            "server_token": token_prefix,
            "folder": str(token.target_folder_id),
            "folder_names": {str(token.target_folder_id): token.target_folder.name},
            "software_version": server.software_version,
        },
    )
    return server, raw_server_token


def authenticate_server_token(raw_token: str) -> ServerToken:
    """Return the live server token for a raw secret, with its server and organization.

    Raises Unauthorized with a code the server can log: token_invalid, token_revoked,
    server_removed or organization_archived. One query.
    """
    prefix, raw = split_prefixed_secret(raw_token)
    # The id of the server's active upgrade rides along, so a check-in without one (nearly all)
    # needs no query for it.
    active_upgrade = ServerUpgrade.objects.filter(
        server=OuterRef("server_id"), state__in=ServerUpgrade.ACTIVE_STATES
    ).values("pk")[:1]
    token = (
        ServerToken.objects.select_related("server", "organization")
        .annotate(active_upgrade_id=Subquery(active_upgrade))
        .filter(prefix=prefix)
        .first()
        if prefix
        else None
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(raw)):
        raise Unauthorized(
            "token_invalid",
            _("The server token is not valid. Register the server with a new registration token."),
        )
    if token.revoked_because == ServerToken.RevokedBecause.SERVER_REMOVED or token.server is None:
        raise Unauthorized(
            "server_removed",
            _(
                "This server was removed from the organization. Register it again with a new "
                "registration token."
            ),
        )
    if token.revoked_at is not None:
        raise Unauthorized(
            "token_revoked",
            _(
                "This server's token was revoked by an admin. Register the server again with a "
                "new registration token."
            ),
        )
    if token.organization.is_archived:
        raise Unauthorized(
            "organization_archived", _("The organization of this server is archived.")
        )
    return token


@dataclass(frozen=True)
class UpgradeReport:
    """What a server says about an upgrade it was given: installing, or failed with a reason."""

    upgrade_id: UUID
    state: str
    reason: str = ""


@dataclass(frozen=True)
class CheckInReport:
    """What a server reports in one check-in (validated by the API serializer)."""

    software_version: str
    reported_status: str = ""
    health: str = CameraStationServer.Health.OK
    health_messages: tuple[str, ...] = ()
    camera_count: int | None = None
    camera_serials: tuple[str, ...] = ()
    storage_used_bytes: int = 0
    storage_total_bytes: int = 0
    sent_at: datetime | None = None
    upgrade: UpgradeReport | None = None


@dataclass
class CheckInAnswer:
    """What the server is told: when to come back, and the upgrade to perform, if any."""

    server: CameraStationServer
    next_check_in_seconds: int
    upgrade: ServerUpgrade | None = None
    events: list[str] = field(default_factory=list)


def _finish_upgrade(
    server: CameraStationServer,
    upgrade: ServerUpgrade,
    *,
    state: str,
    reason: str,
    now: datetime,
    from_states=ServerUpgrade.UNDER_WAY_STATES,
    actor: str | None = None,
) -> bool:
    """Move an upgrade under way to a final state, if it still is under way; audit it."""
    updated = ServerUpgrade.objects.filter(pk=upgrade.pk, state__in=from_states).update(
        state=state, reason=reason[:REASON_MAX_LENGTH], finished_at=now
    )
    if not updated:
        return False
    upgrade.state, upgrade.reason, upgrade.finished_at = state, reason, now
    action = {
        ServerUpgrade.State.SUCCEEDED: "server_upgrade.succeed",
        ServerUpgrade.State.FAILED: "server_upgrade.fail",
        ServerUpgrade.State.TIMED_OUT: "server_upgrade.time_out",
    }[state]
    audit.record(
        actor or _server_actor(server),
        server.organization,
        action,
        server,
        {"upgrade": str(upgrade.pk), "version": upgrade.target_version, "reason": reason},
    )
    return True


def _advance_upgrade(
    server: CameraStationServer, report: CheckInReport, now: datetime, active_upgrade_id
) -> ServerUpgrade | None:
    """Apply what this check-in says about the server's active upgrade; return it if still active.

    Success is recorded only when the server checks in on the target version. A server that
    went to install and came back on another version without a word has failed.
    """
    if active_upgrade_id is None:
        return None
    upgrade = ServerUpgrade.objects.filter(
        pk=active_upgrade_id, state__in=ServerUpgrade.ACTIVE_STATES
    ).first()
    if upgrade is None:
        return None
    said = report.upgrade if report.upgrade and report.upgrade.upgrade_id == upgrade.pk else None
    under_way = upgrade.state in ServerUpgrade.UNDER_WAY_STATES
    if under_way and report.software_version == upgrade.target_version:
        _finish_upgrade(server, upgrade, state=ServerUpgrade.State.SUCCEEDED, reason="", now=now)
        return None
    if under_way and said is not None and said.state == ServerUpgrade.State.FAILED:
        reason = reported_text(said.reason, REASON_MAX_LENGTH) or str(
            _("The server reported a failure without a reason.")
        )
        _finish_upgrade(server, upgrade, state=ServerUpgrade.State.FAILED, reason=reason, now=now)
        return None
    if upgrade.state == ServerUpgrade.State.INSTALLING and said is None:
        reason = str(
            _("The server came back on version %(found)s instead of %(target)s.")
            % {"found": report.software_version or "?", "target": upgrade.target_version}
        )
        _finish_upgrade(server, upgrade, state=ServerUpgrade.State.FAILED, reason=reason, now=now)
        return None
    if (
        upgrade.state == ServerUpgrade.State.PICKED_UP
        and said is not None
        and said.state == ServerUpgrade.State.INSTALLING
    ):
        updated = ServerUpgrade.objects.filter(
            pk=upgrade.pk, state=ServerUpgrade.State.PICKED_UP
        ).update(state=ServerUpgrade.State.INSTALLING, installing_at=now)
        if updated:
            upgrade.state, upgrade.installing_at = ServerUpgrade.State.INSTALLING, now
            audit.record(
                _server_actor(server),
                server.organization,
                "server_upgrade.install",
                server,
                {"upgrade": str(upgrade.pk), "version": upgrade.target_version},
            )
        return upgrade
    if upgrade.state == ServerUpgrade.State.QUEUED:
        # The answer delivers it: from here on it cannot be cancelled. A cancel that won the
        # race leaves nothing to deliver.
        updated = ServerUpgrade.objects.filter(
            pk=upgrade.pk, state=ServerUpgrade.State.QUEUED
        ).update(state=ServerUpgrade.State.PICKED_UP, picked_up_at=now)
        if not updated:
            return None
        upgrade.state, upgrade.picked_up_at = ServerUpgrade.State.PICKED_UP, now
        audit.record(
            _server_actor(server),
            server.organization,
            "server_upgrade.pick_up",
            server,
            {"upgrade": str(upgrade.pk), "version": upgrade.target_version},
        )
    return upgrade


def check_in(*, raw_token: str, report: CheckInReport) -> CheckInAnswer:
    """Record one check-in of the server the token belongs to; say when to come back.

    A bounded number of queries whatever the fleet: the token with its server, one conditional
    UPDATE of the server (which is also the throttle: it matches only when the last check-in is
    old enough, and only once for concurrent check-ins), one upsert into the check-in ring; with
    an upgrade under way also that upgrade, and on a transition its update and audit event.

    Only a check-in that may move an upgrade runs in a transaction (the upgrade's state and its
    audit event commit together). Nearly all have none under way: on PostgreSQL they are one
    statement (`_QUICK_CHECK_IN`); elsewhere their two writes commit on their own, and a crash
    between them can only lose that one history row.
    """
    # The hot path: one statement, no transaction. Anything it does not cover (a bad or revoked
    # token, too soon, an upgrade under way) matches nothing and takes the full path, which
    # finds out why.
    quick = report.upgrade is None and connection.vendor == "postgresql"
    if quick and (answer := _quick_check_in(raw_token, report)):
        return answer
    token = authenticate_server_token(raw_token)
    if token.active_upgrade_id is None and report.upgrade is None:
        return _record_check_in(token, report)
    with transaction.atomic(durable=True):
        return _record_check_in(token, report)


# The ordinary check-in of a live server with no upgrade under way, as one PostgreSQL statement
# (measured: the ORM's three statements cost more CPU than all the rest of the request).
# It claims the check-in exactly like `_record_check_in` (same throttle, same counter) and
# writes the same ring slot; `tests/servers/test_check_in.py` holds both paths to one result.
_QUICK_CHECK_IN = """
WITH token AS (
    SELECT t.server_id
    FROM devices_servertoken t
    JOIN organizations_organization o ON o.id = t.organization_id
    WHERE t.prefix = %(prefix)s AND t.token_hash = %(token_hash)s AND t.revoked_at IS NULL
      AND t.server_id IS NOT NULL AND o.archived_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM devices_serverupgrade u
          WHERE u.server_id = t.server_id AND u.state IN ('queued', 'picked_up', 'installing')
      )
), claimed AS (
    UPDATE devices_camerastationserver s SET
        software_version = %(software_version)s, reported_status = %(reported_status)s,
        health = %(health)s, health_messages = %(health_messages)s::jsonb,
        camera_count = %(camera_count)s, camera_serials = %(camera_serials)s::jsonb,
        storage_used_bytes = %(storage_used_bytes)s,
        storage_total_bytes = %(storage_total_bytes)s,
        clock_skew_seconds = %(clock_skew_seconds)s, check_in_count = s.check_in_count + 1,
        last_check_in_at = %(now)s, outage_alerted_at = NULL
    FROM token
    WHERE s.id = token.server_id
      AND (s.last_check_in_at IS NULL OR s.last_check_in_at <= %(earliest)s)
    RETURNING s.id, s.organization_id, s.check_in_count - 1 AS number
), ring AS (
    INSERT INTO devices_servercheckin (
        organization_id, server_id, slot, checked_in_at, software_version, reported_status,
        health, camera_count, storage_used_bytes, storage_total_bytes, clock_skew_seconds,
        upgrade_state
    )
    SELECT organization_id, id, number %% %(history)s, %(now)s, %(software_version)s,
        %(reported_status)s, %(health)s, %(camera_count)s, %(storage_used_bytes)s,
        %(storage_total_bytes)s, %(clock_skew_seconds)s, ''
    FROM claimed
    ON CONFLICT (server_id, slot) DO UPDATE SET
        checked_in_at = EXCLUDED.checked_in_at, software_version = EXCLUDED.software_version,
        reported_status = EXCLUDED.reported_status, health = EXCLUDED.health,
        camera_count = EXCLUDED.camera_count, storage_used_bytes = EXCLUDED.storage_used_bytes,
        storage_total_bytes = EXCLUDED.storage_total_bytes,
        clock_skew_seconds = EXCLUDED.clock_skew_seconds, upgrade_state = ''
)
SELECT id FROM claimed
"""


def _report_values(report: CheckInReport, now: datetime) -> dict:
    """Return the server's columns as this check-in sets them, cleaned."""
    serials = [reported_text(serial, 64) for serial in report.camera_serials[:MAX_CAMERA_SERIALS]]
    return {
        "software_version": reported_text(report.software_version, 32),
        "reported_status": reported_text(report.reported_status, 64),
        "health": report.health,
        "camera_count": max(report.camera_count or 0, len(serials)),
        "storage_used_bytes": report.storage_used_bytes,
        "storage_total_bytes": report.storage_total_bytes,
        "clock_skew_seconds": (
            round((report.sent_at - now).total_seconds()) if report.sent_at else None
        ),
        "health_messages": [
            reported_text(m, 200) for m in report.health_messages[:MAX_HEALTH_MESSAGES]
        ],
        "camera_serials": serials,
    }


def _quick_check_in(raw_token: str, report: CheckInReport) -> CheckInAnswer | None:
    """Record an ordinary check-in in one statement; None when it does not apply (see above)."""
    prefix, raw = split_prefixed_secret(raw_token)
    if not prefix:
        return None
    now = timezone.now()
    values = _report_values(report, now)
    parameters = {
        **values,
        "health_messages": json.dumps(values["health_messages"]),
        "camera_serials": json.dumps(values["camera_serials"]),
        "prefix": prefix,
        "token_hash": hash_secret(raw),
        "now": now,
        "earliest": now - timedelta(seconds=settings.SERVER_CHECK_IN_MIN_INTERVAL),
        "history": settings.SERVER_CHECK_IN_HISTORY,
    }
    with connection.cursor() as cursor:
        cursor.execute(_QUICK_CHECK_IN, parameters)
        row = cursor.fetchone()
    if row is None:
        return None
    return CheckInAnswer(
        server=CameraStationServer(pk=row[0]),
        next_check_in_seconds=settings.SERVER_CHECK_IN_INTERVAL,
    )


def _record_check_in(token: ServerToken, report: CheckInReport) -> CheckInAnswer:
    """Claim the check-in (or raise TooSoon), move the upgrade, write the ring; see check_in."""
    server = token.server
    server.organization = token.organization
    now = timezone.now()
    minimum = timedelta(seconds=settings.SERVER_CHECK_IN_MIN_INTERVAL)
    values = _report_values(report, now)
    claimed = (
        CameraStationServer.objects.filter(pk=server.pk, check_in_count=server.check_in_count)
        .filter(Q(last_check_in_at__isnull=True) | Q(last_check_in_at__lte=now - minimum))
        .update(
            **values,
            check_in_count=F("check_in_count") + 1,
            last_check_in_at=now,
            outage_alerted_at=None,
        )
    )
    ring_values = {
        name: value
        for name, value in values.items()
        if name not in ("health_messages", "camera_serials")
    }
    if not claimed:
        waited = (now - server.last_check_in_at) if server.last_check_in_at else timedelta(0)
        raise TooSoon(max(1, math.ceil((minimum - waited).total_seconds())))
    slot = server.check_in_count % settings.SERVER_CHECK_IN_HISTORY
    upgrade = _advance_upgrade(server, report, now, token.active_upgrade_id)
    ServerCheckIn.objects.bulk_create(
        [
            ServerCheckIn(
                organization_id=server.organization_id,
                server_id=server.pk,
                slot=slot,
                checked_in_at=now,
                upgrade_state=upgrade.state if upgrade else "",
                **ring_values,
            )
        ],
        update_conflicts=True,
        unique_fields=["server", "slot"],
        update_fields=["checked_in_at", "upgrade_state", *ring_values],
    )
    for name, value in values.items():
        setattr(server, name, value)
    server.last_check_in_at = now
    server.check_in_count += 1
    return CheckInAnswer(
        server=server,
        next_check_in_seconds=settings.SERVER_CHECK_IN_INTERVAL,
        upgrade=upgrade,
    )


# --- Servers, for admins ----------------------------------------------------------------------


def _lock_server(actor: Membership, server_id: UUID) -> CameraStationServer:
    """Lock and return one server the actor sees; NotFound otherwise. Call inside a transaction."""
    try:
        return (
            selectors.visible_servers(actor)
            .select_related("folder", "organization")
            .select_for_update(of=("self",))
            .get(pk=server_id)
        )
    except (CameraStationServer.DoesNotExist, ValueError):
        raise NotFound("server_not_found", _("Server not found.")) from None


@transaction.atomic(durable=True)
def revoke_server_token(*, actor: Membership, server_id: UUID) -> int:
    """Revoke the server's live tokens: its next check-in is refused. Return how many."""
    organization = lock_organization(actor.organization_id)
    server = _lock_server(actor, server_id)
    access.require(actor, Action.DEVICE_MANAGE, server)
    revoked = ServerToken.objects.filter(server=server, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_because=ServerToken.RevokedBecause.REVOKED
    )
    if revoked:
        audit.record(actor, organization, "server.token_revoke", server, {"tokens": revoked})
    return revoked


@transaction.atomic(durable=True)
def remove_server(*, actor: Membership, server_id: UUID) -> None:
    """Remove a server: its tokens stop (its next check-in is told why), its history goes."""
    organization = lock_organization(actor.organization_id)
    server = _lock_server(actor, server_id)
    access.require(actor, Action.DEVICE_MANAGE, server)
    ServerToken.objects.filter(server=server).update(
        revoked_at=timezone.now(),
        revoked_because=ServerToken.RevokedBecause.SERVER_REMOVED,
    )
    audit.record(
        actor,
        organization,
        "server.remove",
        server,
        {
            "name": server.name,
            "folder": str(server.folder_id),
            "folder_names": {str(server.folder_id): server.folder.name},
        },
    )
    server.delete()


@transaction.atomic(durable=True)
def queue_server_upgrade(*, actor: Membership, server_id: UUID, release_id: int) -> ServerUpgrade:
    """Queue an upgrade of a server to a listed release; the server picks it up at check-in.

    One active upgrade per server: the partial unique index is the guard when two admins click
    at once; the loser is told an upgrade is already under way.
    """
    access.require(actor, Action.SERVER_UPGRADE)
    organization = lock_organization(actor.organization_id)
    server = _lock_server(actor, server_id)
    access.require(actor, Action.SERVER_UPGRADE, server)
    release = ServerRelease.objects.filter(pk=release_id).first()
    if release is None:
        message = _("Choose a release from the list.")
        raise Invalid("release_not_found", message, {"release": [message]})
    if release.version == server.software_version:
        message = _("The server already runs %(version)s.") % {"version": release.version}
        raise Invalid("already_on_release", message, {"release": [message]})
    try:
        with transaction.atomic():
            upgrade = ServerUpgrade.objects.create(
                organization=organization,
                server=server,
                release=release,
                from_version=server.software_version,
                target_version=release.version,
                requested_by=actor.user.email,
            )
    except IntegrityError:
        raise Conflict(
            "upgrade_under_way", _("This server already has an upgrade under way.")
        ) from None
    audit.record(
        actor,
        organization,
        "server_upgrade.queue",
        server,
        {"upgrade": str(upgrade.pk), "from": server.software_version, "version": release.version},
    )
    return upgrade


def cancel_refusal(upgrade: ServerUpgrade) -> str | None:
    """Return why this upgrade cannot be cancelled now, or None while it is still queued."""
    if upgrade.state == ServerUpgrade.State.QUEUED:
        return None
    if upgrade.state in ServerUpgrade.UNDER_WAY_STATES:
        return str(
            _(
                "The server picked this upgrade up and is installing it: it cannot be "
                "cancelled any more."
            )
        )
    return str(_("This upgrade is over: %(state)s.") % {"state": upgrade.get_state_display()})


@transaction.atomic(durable=True)
def cancel_server_upgrade(*, actor: Membership, upgrade_id: UUID) -> ServerUpgrade:
    """Cancel a queued upgrade; once the server picked it up, refuse and say why.

    A conditional UPDATE on state = queued decides against the server's pick-up at check-in.
    """
    organization = lock_organization(actor.organization_id)
    upgrade = selectors.get_visible_upgrade(actor, upgrade_id)
    access.require(actor, Action.SERVER_UPGRADE, upgrade.server)
    updated = ServerUpgrade.objects.filter(pk=upgrade.pk, state=ServerUpgrade.State.QUEUED).update(
        state=ServerUpgrade.State.CANCELLED, finished_at=timezone.now()
    )
    upgrade.refresh_from_db()
    if not updated:
        if upgrade.state == ServerUpgrade.State.CANCELLED:
            return upgrade  # cancelled already: the first answer stands
        raise Conflict("upgrade_not_cancellable", cancel_refusal(upgrade))
    audit.record(
        actor,
        organization,
        "server_upgrade.cancel",
        upgrade.server,
        {"upgrade": str(upgrade.pk), "version": upgrade.target_version},
    )
    return upgrade


# --- The watch: upgrades that never report back, servers that stop checking in ------------------


def time_out_upgrades(*, now: datetime | None = None) -> list[UUID]:
    """Fail the upgrades picked up longer than SERVER_UPGRADE_TIMEOUT ago; return their ids."""
    now = now or timezone.now()
    timeout = timedelta(seconds=settings.SERVER_UPGRADE_TIMEOUT)
    due = list(
        ServerUpgrade.objects.filter(
            state__in=ServerUpgrade.UNDER_WAY_STATES, picked_up_at__lt=now - timeout
        ).values_list("pk", flat=True)
    )
    timed_out = []
    minutes = round(timeout.total_seconds() / 60)
    for upgrade_id in due:
        with transaction.atomic(durable=True):
            upgrade = (
                ServerUpgrade.objects.select_related("server__organization")
                .filter(pk=upgrade_id)
                .first()
            )
            if upgrade is None:
                continue
            reason = str(
                _(
                    "The server did not report back within %(minutes)d minutes of picking up "
                    "the upgrade."
                )
                % {"minutes": minutes}
            )
            if _finish_upgrade(
                upgrade.server,
                upgrade,
                state=ServerUpgrade.State.TIMED_OUT,
                reason=reason,
                now=now,
                actor="system",
            ):
                timed_out.append(upgrade_id)
    return timed_out


def alert_outages(*, now: datetime | None = None) -> list[UUID]:
    """Mark servers silent for longer than SERVER_OFFLINE_AFTER as in outage; return their ids.

    Once per outage: the claim is a conditional UPDATE on `outage_alerted_at IS NULL`, which the
    server's next check-in clears. Servers with an upgrade under way are expected to be silent.
    The e-mail to the organization's admins goes out from Celery after commit.
    """
    from devices.servers import tasks  # tasks import this module

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SERVER_OFFLINE_AFTER)
    silent = (
        CameraStationServer.objects.filter(outage_alerted_at__isnull=True)
        .filter(
            Q(last_check_in_at__lt=cutoff)
            | Q(last_check_in_at__isnull=True, registered_at__lt=cutoff)
        )
        .exclude(upgrades__state__in=ServerUpgrade.UNDER_WAY_STATES)
        .values_list("pk", flat=True)
    )
    alerted = []
    for server_id in list(silent):
        with transaction.atomic(durable=True):
            if not CameraStationServer.objects.filter(
                pk=server_id, outage_alerted_at__isnull=True
            ).update(outage_alerted_at=now):
                continue
            server = CameraStationServer.objects.select_related("organization").get(pk=server_id)
            audit.record(
                "system",
                server.organization,
                "server.offline",
                server,
                {"last_check_in_at": server.last_check_in_at},
            )
            tasks.send_outage_email.delay_on_commit(str(server_id), now.isoformat())
        alerted.append(server_id)
    return alerted


def deliver_outage_email(*, server_id: UUID, outage_at: str) -> int:
    """E-mail the organization's owners and admins that a server stopped checking in.

    Does nothing when the server is back (or the outage is another one) by the time it runs.
    Returns how many messages went out.
    """
    from devices.servers import emails

    server = (
        CameraStationServer.objects.select_related("organization", "folder")
        .filter(pk=server_id, outage_alerted_at=datetime.fromisoformat(outage_at))
        .first()
    )
    if server is None:
        return 0
    return emails.send_outage_emails(server)
