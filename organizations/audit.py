"""The organization audit log: append-only, hash-chained events (PRODUCT.md §9).

Services call `record(...)` inside their own transaction. The client address and the API token a
request acts through come from `request_context(...)`, which the HTML and API bases enter once per
request, so services need not pass them around.

Each app gives its actions words for the activity page with `register_event_types(...)` from its
`AppConfig.ready`, so devices, upgrades and licensing label their events without editing this app.

Each event's hash is SHA-256 over the canonical JSON of the previous event's hash and this event's
content; the organization row keeps the head (last sequence and hash), so an altered, removed or
reordered event — also the last one — is detected by `verify_chain`.
"""

import contextlib
import contextvars
import hashlib
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common import db
from common.http import normalize_address
from organizations.models import ApiToken, AuditEvent, Membership, Organization

SUPPORT = "support"

# Words for each audit action, filled by every app's AppConfig.ready (see register_event_types).
_event_types: dict[str, str | Promise] = {}


def register_event_types(labels: Mapping[str, str | Promise]) -> None:
    """Give audit actions their words for the activity page; call from the app's `ready()`.

    An action belongs to one app: registering it again with another label is refused.
    """
    for action, label in labels.items():
        known = _event_types.get(action)
        if known is not None and known is not label:
            raise ImproperlyConfigured(
                f"The audit action {action!r} is registered twice; give each app's events "
                "their own prefix (device.…, upgrade.…, license.…)."
            )
        _event_types[action] = label


def event_type_label(action: str) -> str:
    """Return an action in words, or the code itself for an action nobody registered."""
    return str(_event_types.get(action, action))


# This app's actions (the code stays beside the words on the page: the filter takes it).
ORGANIZATION_EVENT_TYPES = {
    "api_token.create": _("API token created"),
    "api_token.revoke": _("API token revoked"),
    "folder.create": _("Folder created"),
    "folder.delete": _("Folder deleted"),
    "folder.move": _("Folder moved"),
    "folder.update": _("Folder changed"),
    "invitation.accept": _("Invitation accepted"),
    "invitation.create": _("User invited"),
    "invitation.resend": _("Invitation sent again"),
    "invitation.revoke": _("Invitation revoked"),
    "member.change": _("Role or access changed"),
    "member.remove": _("User removed"),
    "organization.archive": _("Organization archived"),
    "organization.create": _("Organization created"),
    "organization.restore": _("Organization restored"),
    "organization.security_update": _("Security settings changed"),
    "organization.update": _("Organization changed"),
}

Actor = Membership | User | ApiToken | str | None


@dataclass(frozen=True)
class RequestContext:
    """Where the current request comes from: its client address and the API token, if any."""

    client_address: str | None = None
    api_token: ApiToken | None = None


_request_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "organizations_audit_request_context",
    default=RequestContext(),  # noqa: B039 - immutable
)


@contextlib.contextmanager
def request_context(
    *, client_address: str | None = None, api_token: ApiToken | None = None
) -> Iterator[RequestContext]:
    """Attribute the audit events written inside the block to this address and API token."""
    context = RequestContext(client_address=client_address or None, api_token=api_token)
    reset_token = _request_context.set(context)
    try:
        yield context
    finally:
        _request_context.reset(reset_token)


def current_request_context() -> RequestContext:
    """Return the request context the audit events are attributed to right now."""
    return _request_context.get()


def _address_value(address: str | None) -> str | None:
    """Return the address as a value, whatever its spelling, for the hash.

    PostgreSQL's inet keeps the address, not the text it was given, and spells some addresses
    unlike Python ("::1.2.3.4", not "::102:304"); hashing its text would report tampering that
    never happened. Events from before addresses were normalised hashed this very spelling.
    """
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # not from record(), which stores addresses only; hash it as it is
        return address


def _resolve_actor(actor: Actor, context: RequestContext) -> tuple[Any, ApiToken | None, str]:
    """Return (user, api_token, label) for any kind of actor."""
    if isinstance(actor, ApiToken):
        user = actor.membership.user
        return user, actor, f"{user.email} (API token {actor.prefix}…)"
    if isinstance(actor, Membership):
        actor = actor.user
    if isinstance(actor, User):
        token = context.api_token
        if token is not None and token.membership.user_id == actor.pk:
            return actor, token, f"{actor.email} (API token {token.prefix}…)"
        return actor, None, actor.email
    if actor == SUPPORT:
        return None, None, SUPPORT
    return None, None, str(actor or "system")


def _describe_target(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:254]
    return "", "", str(target)[:254]


def _canonical_data(data: dict | None) -> dict:
    """Return `data` as it reads back from the JSON column (UUIDs, dates … as strings)."""
    return json.loads(json.dumps(data or {}, default=str, sort_keys=True))


def compute_hash(
    *,
    previous_hash: str,
    sequence: int,
    actor_user_id: Any,
    actor_token_id: Any,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    target_label: str,
    data: dict,
    client_address: str | None,
    created_at: datetime,
) -> str:
    """Return the SHA-256 hex digest of one event's canonical JSON content."""
    payload = {
        "previous_hash": previous_hash,
        "sequence": sequence,
        "actor": {
            "user": str(actor_user_id) if actor_user_id is not None else None,
            "token": str(actor_token_id) if actor_token_id is not None else None,
            "label": actor_label,
        },
        "action": action,
        "target": {"type": target_type, "id": target_id, "label": target_label},
        "data": data,
        "client_address": _address_value(client_address),
        "created_at": created_at.astimezone(UTC).isoformat(),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _event_hash(event: AuditEvent) -> str:
    return compute_hash(
        previous_hash=event.previous_hash,
        sequence=event.sequence,
        actor_user_id=event.actor_user_id,
        actor_token_id=event.actor_token_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        target_label=event.target_label,
        data=event.data,
        client_address=event.client_address,
        created_at=event.created_at,
    )


def record(
    actor: Actor,
    organization: Organization,
    action: str,
    target: Any = None,
    data: dict | None = None,
    *,
    head_locked: bool = False,
) -> AuditEvent:
    """Append one event to the organization's audit log; call inside the change's transaction.

    Locks the organization row until the transaction ends, so concurrent writers get
    consecutive sequence numbers and a consistent chain. `head_locked=True` says that
    `organization` is the row this transaction already locked (`select_for_update`, all
    fields) and wrote only through `record`: its head is then current and is not read again.
    """
    context = current_request_context()
    user, token, label = _resolve_actor(actor, context)
    if head_locked:
        head_sequence, head_hash = organization.audit_head_sequence, organization.audit_head_hash
    else:
        head_sequence, head_hash = (
            Organization.objects.select_for_update()
            .filter(pk=organization.pk)
            .values_list("audit_head_sequence", "audit_head_hash")
            .get()
        )
    target_type, target_id, target_label = _describe_target(target)
    event = AuditEvent(
        organization_id=organization.pk,
        sequence=head_sequence + 1,
        actor_user_id=user.pk if user is not None else None,
        actor_token_id=token.pk if token is not None else None,
        actor_label=label[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        data=_canonical_data(data),
        client_address=normalize_address(context.client_address),
        created_at=timezone.now(),
        previous_hash=head_hash,
    )
    event.hash = _event_hash(event)
    _append(event, organization)
    organization.audit_head_sequence, organization.audit_head_hash = event.sequence, event.hash
    return event


def _append(event: AuditEvent, organization: Organization) -> None:
    """Insert the event and move the organization's head to it: one statement on PostgreSQL.

    Fewer round trips while the organization's row lock is held, which every write of the
    organization waits for; inside `common.db.writes_joined` (the licensing ledger's hot path)
    it goes with the block's other writes, and the event's id is known when the block ends.
    """
    if not db.joins_statements():
        event.save(force_insert=True)
        Organization.objects.filter(pk=organization.pk).update(
            audit_head_sequence=event.sequence, audit_head_hash=event.hash
        )
        return
    insert_sql, insert_params = db.insert_statement(event)
    table = connection.ops.quote_name(Organization._meta.db_table)

    def read_id(cursor: Any) -> None:
        (event.pk,) = cursor.fetchone()

    db.write(
        # Only our table name is formatted in; every value is a parameter.
        f'WITH event AS ({insert_sql} RETURNING "id") '  # noqa: S608
        f'UPDATE {table} SET "audit_head_sequence" = %s, "audit_head_hash" = %s '
        'WHERE "id" = %s RETURNING (SELECT "id" FROM event)',
        [*insert_params, event.sequence, event.hash, organization.pk],
        read_id,
    )
    event._state.adding, event._state.db = False, connection.alias


@dataclass(frozen=True)
class ChainBreak:
    """Where an organization's audit chain stops holding, and why."""

    sequence: int
    reason: str
    event: AuditEvent | None


def verify_chain(organization: Organization) -> ChainBreak | None:
    """Return the first place the organization's audit chain is broken, or None when intact.

    `ChainBreak.event` is the first broken event; when only the end of the log was removed it
    is the last remaining event (None when nothing remains).
    """
    head_sequence, head_hash = (
        Organization.objects.filter(pk=organization.pk)
        .values_list("audit_head_sequence", "audit_head_hash")
        .get()
    )
    previous_hash, expected_sequence = "", 1
    last_event = None
    events = AuditEvent.objects.filter(organization_id=organization.pk).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return ChainBreak(
                expected_sequence,
                f"event #{expected_sequence} is missing (next is #{event.sequence})",
                event,
            )
        if event.previous_hash != previous_hash:
            return ChainBreak(event.sequence, "previous hash does not match", event)
        if _event_hash(event) != event.hash:
            return ChainBreak(event.sequence, "content does not match its hash", event)
        previous_hash, expected_sequence, last_event = event.hash, event.sequence + 1, event
    if expected_sequence - 1 != head_sequence or previous_hash != head_hash:
        return ChainBreak(
            expected_sequence,
            f"the log ends at #{expected_sequence - 1} but the organization recorded "
            f"#{head_sequence}: later events were removed",
            last_event,
        )
    return None
