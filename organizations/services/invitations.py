"""Invite people, revoke invitations, and accept them."""

import math
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.errors import Conflict, Forbidden, Invalid, NotFound
from common.mail import describe_failure, is_permanent_failure
from organizations import access, audit, selectors, tasks
from organizations.models import Invitation, Membership, Organization
from organizations.roles import ALL_FOLDERS_ROLES, Action, Role
from organizations.services.locks import lock_organization, reload_actor
from organizations.services.validation import (
    clean_role,
    folders_for_grants,
    require_folders_for_role,
)
from organizations.tokens import hash_secret

INVITATION_VALIDITY = timedelta(days=7)
# Addresses one invitation may name at once.
MAX_INVITATION_EMAILS = 50
# One invitation e-mail a minute per invitation: Resend must not become a mail cannon.
RESEND_INTERVAL = timedelta(minutes=1)
EMAIL_ERROR_MAX_LENGTH = Invitation._meta.get_field("email_error").max_length
EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length


def _link_origin(request: HttpRequest | None) -> str:
    """Return scheme and host for the e-mailed links ("" without a request: a bare path)."""
    return request.build_absolute_uri("/").rstrip("/") if request is not None else ""


def _queue_invitation_email(
    invitation: Invitation, raw_token: str, request: HttpRequest | None
) -> None:
    """Queue one e-mail with the invitation's current link, sent by a worker after commit.

    Call inside the transaction that stored the link's hash. One task per message, so one
    refused address neither fails the request nor keeps the others from being mailed.
    """
    tasks.send_invitation_email.delay_on_commit(
        str(invitation.pk),
        raw_token,
        _link_origin(request),
        translation.get_language() or settings.LANGUAGE_CODE,
    )


def _invitation_message(invitation: Invitation, link: str, language: str) -> EmailMessage:
    inviter = invitation.invited_by
    with translation.override(language):
        # A name stored before names refused line breaks must not break the Subject header.
        organization_name = " ".join(invitation.organization.name.split())
        subject = str(
            _("You are invited to %(organization)s on camfleet")
            % {"organization": organization_name}
        )
        body = render_to_string(
            "organizations/emails/invitation.txt",
            {
                "invitation": invitation,
                "organization": invitation.organization,
                "inviter": inviter.get_full_name() if inviter else "",
                "role": Role(invitation.role).label,
                "link": link,
                "expires_at": invitation.expires_at,
            },
        )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def _record_delivery(invitation: Invitation, token_hash: str, **fields: object) -> None:
    # Only for the link this e-mail carried: a resend meanwhile starts its own record.
    Invitation.objects.filter(
        pk=invitation.pk, token_hash=token_hash, state=Invitation.State.PENDING
    ).update(**fields)


def deliver_invitation_email(
    *, invitation_id: UUID, raw_token: str, origin: str, language: str, is_last_attempt: bool
) -> None:
    """Send one invitation's e-mail and record the outcome on it; holds no transaction open.

    Does nothing for an invitation that is no longer pending or whose link a resend replaced.
    A refusal the mail server calls permanent, or any failure on the last attempt, is recorded
    as "not delivered" with the server's words (the page offers Resend); any other failure is
    noted and raised again, for the task to retry.
    """
    token_hash = hash_secret(raw_token)
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id, state=Invitation.State.PENDING, token_hash=token_hash)
        .first()
    )
    if invitation is None:
        return
    path = reverse("organizations:invitation-accept", args=[raw_token])
    message = _invitation_message(invitation, f"{origin}{path}", language)
    try:
        message.send()
    except (OSError, ValueError) as error:  # smtplib's errors are OSErrors; bad headers ValueError
        has_failed = is_last_attempt or is_permanent_failure(error)
        status = Invitation.EmailStatus.FAILED if has_failed else Invitation.EmailStatus.QUEUED
        _record_delivery(
            invitation,
            token_hash,
            email_status=status,
            email_error=describe_failure(error, max_length=EMAIL_ERROR_MAX_LENGTH),
        )
        if has_failed:
            return
        raise
    _record_delivery(
        invitation,
        token_hash,
        email_status=Invitation.EmailStatus.SENT,
        email_error="",
        email_sent_at=timezone.now(),
    )


def _clean_emails(emails: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    bad: list[str] = []
    for raw in emails or ():
        for part in str(raw).replace(";", ",").replace("\n", ",").split(","):
            email = part.strip().lower()
            if not email:
                continue
            try:
                # The column holds 254 characters; the validator alone lets up to 320 through.
                if len(email) > EMAIL_MAX_LENGTH:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                bad.append(part.strip())
                continue
            if email not in cleaned:
                cleaned.append(email)
    if bad:
        message = _("These are not valid e-mail addresses: %(emails)s.") % {
            "emails": ", ".join(bad)
        }
        raise Invalid("email_invalid", message, {"emails": [message]})
    if not cleaned:
        message = _("Enter at least one e-mail address.")
        raise Invalid("email_required", message, {"emails": [message]})
    return cleaned


@transaction.atomic(durable=True)
def invite_members(
    *,
    actor: Membership,
    emails: Sequence[str],
    role: str,
    folder_ids: Sequence[UUID] = (),
    request: HttpRequest | None = None,
) -> list[Invitation]:
    """Invite people by e-mail with a role and, for operators and viewers, folders.

    All or nothing. Refused: more than `MAX_INVITATION_EMAILS` addresses, operators and viewers
    without folders, roles above the inviter's own, owners (ownership is given by
    elevating a member), operator/admin unless the organization allows them, addresses that
    are already members or already have a pending invitation. Each address gets a single-use
    link valid 7 days, e-mailed after commit; only the token's hash is stored.
    """
    access.require(actor, Action.MEMBER_INVITE)
    # Locked and re-read: the policy and the inviter's role as they are now, not as the
    # request loaded them.
    organization = lock_organization(actor.organization_id)
    actor = reload_actor(actor)
    role = clean_role(role)
    access.require_invitable_role(actor, organization, role)
    addresses = _clean_emails(emails)
    if len(addresses) > MAX_INVITATION_EMAILS:
        message = _("Invite at most %(count)d addresses at once.") % {
            "count": MAX_INVITATION_EMAILS
        }
        raise Invalid("too_many_emails", message, {"emails": [message]})
    # Folders the organization does not have are refused whatever the role.
    folders = folders_for_grants(actor, folder_ids)
    if role in ALL_FOLDERS_ROLES:
        folders = []
    require_folders_for_role(role, folders)
    members = sorted(
        Membership.objects.for_organization(organization)
        .filter(user__email__in=addresses)
        .values_list("user__email", flat=True)
    )
    if members:
        message = _("Already members: %(emails)s.") % {"emails": ", ".join(members)}
        raise Conflict("already_member", message, {"emails": [message]})
    now = timezone.now()
    # A pending invitation past its date is expired; mark it so the address can be invited again.
    Invitation.objects.for_organization(organization).filter(
        email__in=addresses, state=Invitation.State.PENDING, expires_at__lte=now
    ).update(state=Invitation.State.EXPIRED)
    invited = sorted(
        Invitation.objects.for_organization(organization)
        .filter(email__in=addresses, state=Invitation.State.PENDING)
        .values_list("email", flat=True)
    )
    if invited:
        message = _(
            "Already invited: %(emails)s. Revoke the pending invitation to send a new one."
        ) % {"emails": ", ".join(invited)}
        raise Conflict("already_invited", message, {"emails": [message]})
    invitations: list[tuple[Invitation, str]] = []
    for email in addresses:
        raw_token = secrets.token_urlsafe(32)
        try:
            # The partial unique index is the real guard against two concurrent invitations.
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organization=organization,
                    email=email,
                    role=role,
                    token_hash=hash_secret(raw_token),
                    invited_by=actor.user,
                    created_at=now,
                    expires_at=now + INVITATION_VALIDITY,
                    email_queued_at=now,
                )
        except IntegrityError:
            message = _(
                "Already invited: %(emails)s. Revoke the pending invitation to send a new one."
            ) % {"emails": email}
            raise Conflict("already_invited", message, {"emails": [message]}) from None
        invitation.folders.set(folders)
        invitations.append((invitation, raw_token))
        audit.record(
            actor,
            organization,
            "invitation.create",
            invitation,
            {
                "email": email,
                "role": role,
                "folders": sorted(str(f.pk) for f in folders),
                "folder_names": {str(f.pk): f.name for f in folders},
            },
        )
    for invitation, raw_token in invitations:
        _queue_invitation_email(invitation, raw_token, request)
    return [invitation for invitation, _raw in invitations]


def _lock_invitation(actor: Membership, invitation_id: UUID) -> Invitation:
    """Lock and return one invitation of the actor's organization, or NotFound."""
    invitation_uuid = selectors._as_uuid(invitation_id)
    invitation = (
        Invitation.objects.for_organization(actor.organization_id)
        .select_for_update(of=("self",))
        .filter(pk=invitation_uuid)
        .first()
        if invitation_uuid
        else None
    )
    if invitation is None:
        raise NotFound("invitation_not_found", _("Invitation not found."))
    return invitation


def _refuse_unless_pending(invitation: Invitation) -> None:
    if invitation.effective_state != Invitation.State.PENDING:
        raise Conflict(
            "invitation_not_pending",
            _("This invitation was already %(state)s.")
            % {"state": Invitation.State(invitation.effective_state).label.lower()},
        )


@transaction.atomic(durable=True)
def resend_invitation(
    *, actor: Membership, invitation_id: UUID, request: HttpRequest | None = None
) -> Invitation:
    """E-mail a pending invitation again with a new link, valid 7 days from now.

    The old link stops working. The resender's rights are checked as for a new invitation,
    and the resender becomes its sender. At most one e-mail a minute per invitation.
    """
    access.require(actor, Action.MEMBER_INVITE)
    organization = lock_organization(actor.organization_id)
    actor = reload_actor(actor)
    invitation = _lock_invitation(actor, invitation_id)
    _refuse_unless_pending(invitation)
    access.require_invitable_role(actor, organization, invitation.role)
    now = timezone.now()
    if invitation.email_queued_at and now < invitation.email_queued_at + RESEND_INTERVAL:
        seconds = math.ceil((invitation.email_queued_at + RESEND_INTERVAL - now).total_seconds())
        raise Conflict(
            "resend_too_soon",
            _(
                "An e-mail for %(email)s was sent less than a minute ago. Send it again in "
                "%(seconds)d seconds."
            )
            % {"email": invitation.email, "seconds": seconds},
        )
    raw_token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_secret(raw_token)
    invitation.invited_by = actor.user
    invitation.expires_at = now + INVITATION_VALIDITY
    invitation.email_status = Invitation.EmailStatus.QUEUED
    invitation.email_queued_at = now
    invitation.email_sent_at = None
    invitation.email_error = ""
    invitation.save(
        update_fields=[
            "token_hash",
            "invited_by",
            "expires_at",
            "email_status",
            "email_queued_at",
            "email_sent_at",
            "email_error",
        ]
    )
    audit.record(
        actor,
        organization,
        "invitation.resend",
        invitation,
        {"email": invitation.email, "role": invitation.role},
    )
    _queue_invitation_email(invitation, raw_token, request)
    return invitation


@transaction.atomic(durable=True)
def revoke_invitation(*, actor: Membership, invitation_id: UUID) -> Invitation:
    """Withdraw a pending invitation; its link then explains itself and grants nothing."""
    access.require(actor, Action.MEMBER_INVITE)
    lock_organization(actor.organization_id)
    invitation = _lock_invitation(actor, invitation_id)
    if invitation.state == Invitation.State.REVOKED:
        return invitation
    if invitation.state != Invitation.State.PENDING:
        raise Conflict(
            "invitation_not_pending",
            _("This invitation was already %(state)s.")
            % {"state": Invitation.State(invitation.state).label.lower()},
        )
    invitation.state = Invitation.State.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["state", "revoked_at"])
    audit.record(
        actor,
        actor.organization,
        "invitation.revoke",
        invitation,
        {"email": invitation.email},
    )
    return invitation


def revoke_invitations_no_longer_allowed(
    *, actor: Membership, organization: Organization, reason: str, invited_by: User | None = None
) -> list[Invitation]:
    """Revoke the pending invitations their sender could not send now; audit each with `reason`.

    A removed member's invitations, those above a demoted member's new role, and elevated ones
    after the policy went back to viewer-only must not remain a way in. `invited_by` limits the
    sweep to one sender's invitations. Call inside a transaction, with the organization locked
    and re-read (`organization` carries the policy as it is now).
    """
    pending = (
        Invitation.objects.for_organization(organization)
        .filter(state=Invitation.State.PENDING)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if invited_by is not None:
        pending = pending.filter(invited_by=invited_by)
    invitations = list(pending)
    inviters = selectors.inviting_memberships(organization, invitations)
    now = timezone.now()
    revoked = []
    for invitation in invitations:
        inviter = inviters.get(invitation.invited_by_id)
        if inviter is not None and access.can_invite_role(inviter, organization, invitation.role):
            continue
        invitation.state = Invitation.State.REVOKED
        invitation.revoked_at = now
        invitation.save(update_fields=["state", "revoked_at"])
        audit.record(
            actor,
            organization,
            "invitation.revoke",
            invitation,
            {"email": invitation.email, "role": invitation.role, "reason": reason},
        )
        revoked.append(invitation)
    return revoked


@transaction.atomic(durable=True)
def accept_invitation(*, user: User, raw_token: str) -> Membership:
    """Join the organization of an invitation with its role and folders; single use.

    The invitation row is locked, so two concurrent accepts cannot both pass. Refused with an
    explanation: revoked, expired or used links, another account's invitation, and people who
    are already members.
    """
    token_hash = hash_secret(raw_token or "")
    organization_id = (
        Invitation.objects.filter(token_hash=token_hash)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is not None:
        lock_organization(organization_id)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(token_hash=token_hash)
        .first()
    )
    selectors.explain_unusable_invitation(invitation)
    if invitation.email.lower() != user.email.lower():
        raise Forbidden(
            "invitation_wrong_email",
            _(
                "This invitation was sent to a different e-mail address than %(email)s. Sign in "
                "with the invited address, or ask for an invitation to this one."
            )
            % {"email": user.email},
        )
    organization = invitation.organization
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise Conflict(
            "already_member", _("You are already a member of %(name)s.") % {"name": organization}
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                organization=organization, user=user, role=invitation.role
            )
    except IntegrityError:
        raise Conflict(
            "already_member", _("You are already a member of %(name)s.") % {"name": organization}
        ) from None
    access.set_folder_grants(membership, invitation.folders.filter(organization=organization))
    invitation.state = Invitation.State.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["state", "accepted_at", "accepted_by"])
    audit.record(
        membership,
        organization,
        "invitation.accept",
        membership,
        {"invitation": str(invitation.pk), "role": invitation.role},
    )
    return membership
