"""Create and revoke the members' API tokens."""

import hmac
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
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
from organizations.tokens import hash_secret, new_prefixed_secret, split_prefixed_secret

API_TOKEN_PREFIX = "cf"  # noqa: S105 - a visible marker, not a secret
# The longest lifetime of a token, in days from today (a year, leap day included).
MAX_TOKEN_DAYS = 366
# last_used_at is written at most once per this interval per token, to keep requests cheap.
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@transaction.atomic(durable=True)
def create_api_token(*, actor: Membership, name: str, expires_on: date) -> tuple[ApiToken, str]:
    """Create one of the member's API tokens; return it with the raw secret, shown only once.

    The token acts with the member's current role and folders; only its hash is stored. It
    expires at most `MAX_TOKEN_DAYS` from today.
    """
    access.require(actor, Action.ORGANIZATION_VIEW)
    lock_organization(actor.organization_id)
    name = clean_name(name, field_name="name", max_length=80)
    if not isinstance(expires_on, date) or isinstance(expires_on, datetime):
        message = _("Choose an expiry date.")
        raise Invalid("expiry_required", message, {"expires_on": [message]})
    today = timezone.localdate()
    if expires_on <= today:
        message = _("Choose an expiry date in the future.")
        raise Invalid("expiry_in_past", message, {"expires_on": [message]})
    if expires_on > today + timedelta(days=MAX_TOKEN_DAYS):
        message = _("Choose a date at most one year from today.")
        raise Invalid("expiry_too_far", message, {"expires_on": [message]})
    prefix, raw_token = new_prefixed_secret(API_TOKEN_PREFIX, ApiToken)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                membership=actor,
                organization_id=actor.organization_id,
                name=name,
                prefix=prefix,
                token_hash=hash_secret(raw_token),
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


def authenticate_api_token(raw_token: str) -> ApiToken | None:
    """Return the live API token for a raw secret, or None; note when it was last used.

    Refuses expired and revoked tokens, tokens of archived organizations and of inactive
    people; a removed member's tokens are gone with the membership. The token carries its
    membership (and so the member's current role) loaded fresh for this request.
    """
    prefix, secret = split_prefixed_secret(raw_token)
    if not prefix:
        return None
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(secret)):
        return None
    now = timezone.now()
    membership = token.membership
    if (
        token.revoked_at is not None
        or token.expires_on < timezone.localdate(now)
        or token.organization_id != membership.organization_id
        or membership.organization.is_archived
        or not membership.user.is_active
    ):
        return None
    if token.last_used_at is None or token.last_used_at < now - API_TOKEN_TOUCH_INTERVAL:
        # One conditional UPDATE at most once a minute; no row lock, no save() of the token.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_TOUCH_INTERVAL)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
