"""Create and revoke the members' API tokens."""

import secrets
from datetime import date, datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, Invalid
from organizations import access, audit, selectors
from organizations.models import ApiToken, Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization
from organizations.services.validation import (
    clean_name,
)

API_TOKEN_PREFIX = "cf"  # noqa: S105 - a visible marker, not a secret


@transaction.atomic(durable=True)
def create_api_token(*, actor: Membership, name: str, expires_on: date) -> tuple[ApiToken, str]:
    """Create one of the member's API tokens; return it with the raw secret, shown only once.

    The token acts with the member's current role and folders; only its hash is stored.
    """
    access.require(actor, Action.ORGANIZATION_VIEW)
    lock_organization(actor.organization_id)
    name = clean_name(name, field_name="name", max_length=80)
    if not isinstance(expires_on, date) or isinstance(expires_on, datetime):
        message = _("Choose an expiry date.")
        raise Invalid("expiry_required", message, {"expires_on": [message]})
    if expires_on <= timezone.localdate():
        message = _("Choose an expiry date in the future.")
        raise Invalid("expiry_in_past", message, {"expires_on": [message]})
    for _attempt in range(5):
        prefix = f"{API_TOKEN_PREFIX}{secrets.token_hex(5)}"
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw_token = f"{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                membership=actor,
                organization_id=actor.organization_id,
                name=name,
                prefix=prefix,
                token_hash=selectors.hash_secret(raw_token),
                expires_on=expires_on,
            )
    except IntegrityError:
        raise Conflict("try_again", _("Please try again.")) from None
    audit.record(
        actor,
        actor.organization,
        "api_token.create",
        token,
        {"name": name, "prefix": prefix, "expires_on": expires_on.isoformat()},
    )
    return token, raw_token


@transaction.atomic(durable=True)
def revoke_api_token(*, actor: Membership, token_id: UUID) -> ApiToken:
    """Revoke an API token: one's own, or anyone's for members who manage tokens. Idempotent."""
    lock_organization(actor.organization_id)
    token = selectors.get_api_token(actor, token_id)
    if token.membership_id != actor.pk:
        access.require(actor, Action.TOKEN_MANAGE)
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit.record(
            actor,
            actor.organization,
            "api_token.revoke",
            token,
            {"name": token.name, "prefix": token.prefix},
        )
    return token
