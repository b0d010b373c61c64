"""Every change to organizations, members, invitations, folders and API tokens.

Entry points are `@transaction.atomic(durable=True)`, take keyword-only arguments with the acting
membership (or user, or support) first, check `organizations.access`, write one audit event per
change in the same transaction, and send e-mail only after commit.

Lock order, to keep concurrent services free of deadlocks: the owner memberships (pk order, in
member services), then the organization row, then anything else (invitations, folders, tokens).
Every write service takes the organization row before touching other rows, and `audit.record`
takes it again (a no-op by then), so the writes of one organization run one after another.
"""

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.errors import Conflict, Forbidden, Invalid, NotFound
from common.time_zones import place_time_zones
from organizations import access, audit, selectors
from organizations.models import ApiToken, Folder, Invitation, Membership, Organization
from organizations.roles import ROLE_RANK, Action, Role

INVITATION_VALIDITY = timedelta(days=7)
EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length
MAX_FOLDER_DEPTH = 40
API_TOKEN_PREFIX = "cf"  # noqa: S105 - a visible marker, not a secret


# ---------------------------------------------------------------------------------------------
# Locks: one small function per lockable queryset, always in pk order (STYLE.md §4).


def _lock_organization(organization_id: Any) -> Organization:
    """Lock and return the organization row; serializes folder-tree changes and audit writes."""
    return Organization.objects.select_for_update(of=("self",)).get(pk=organization_id)


def _reload_actor(membership: Membership) -> Membership:
    """Re-read the acting membership after taking locks: its role may have changed meanwhile."""
    fresh = Membership.objects.select_related("organization", "user").filter(pk=membership.pk)
    actor = fresh.first()
    if actor is None or actor.organization.is_archived:
        raise NotFound("organization_not_found", _("Organization not found."))
    return actor


def _lock_owners(organization_id: Any) -> list[Membership]:
    """Lock and return the organization's owner memberships, in pk order.

    PostgreSQL re-checks `role = 'owner'` after waiting for a lock, so a second transaction
    sees the owners as the first one left them.
    """
    return list(
        Membership.objects.filter(organization_id=organization_id, role=Role.OWNER)
        .order_by("pk")
        .select_for_update(of=("self",))
    )


# ---------------------------------------------------------------------------------------------
# Validation helpers.


def _clean_name(name: str, *, field_name: str = "name", max_length: int = 120) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("name_required", _("Enter a name."), {field_name: [_("Enter a name.")]})
    if len(name) > max_length:
        message = _("Use at most %(count)d characters.") % {"count": max_length}
        raise Invalid("name_too_long", message, {field_name: [message]})
    return name


def _clean_folder_name(name: str, *, field_name: str = "name") -> str:
    name = _clean_name(name, field_name=field_name)
    if "/" in name:
        message = _("A folder name cannot contain “/”.")
        raise Invalid("name_invalid", message, {field_name: [message]})
    return name


def _clean_notes(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > 2000:
        message = _("Use at most %(count)d characters.") % {"count": 2000}
        raise Invalid("notes_too_long", message, {"notes": [message]})
    return notes


def _clean_time_zone(time_zone: str) -> str:
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in place_time_zones():
        message = _("“%(zone)s” is not a known time zone.") % {"zone": time_zone}
        raise Invalid("time_zone_unknown", message, {"time_zone": [message]})
    return time_zone


def _clean_role(role: str) -> Role:
    if role not in Role.values:
        message = _("Choose one of the roles: owner, admin, operator, viewer.")
        raise Invalid("role_unknown", message, {"role": [message]})
    return Role(role)


def _folders_for_grants(membership: Membership, folder_ids: Iterable[Any]) -> list[Folder]:
    """Return the folders named by ids, all visible to the asker, or raise Invalid."""
    wanted = {str(folder_id) for folder_id in folder_ids or ()}
    if not wanted:
        return []
    valid_ids = [
        folder_uuid for folder_uuid in (selectors._as_uuid(i) for i in wanted) if folder_uuid
    ]
    folders = list(access.visible_folders(membership).filter(pk__in=valid_ids))
    if len(folders) != len(wanted):
        message = _("Some of the chosen folders do not exist in this organization.")
        raise Invalid("folders_unknown", message, {"folder_ids": [message]})
    return folders


def _check_folder_name_free(parent: Folder, name: str, *, exclude: Folder | None = None) -> None:
    # Case-insensitive: "Site A" and "site a" side by side would be told apart by nobody.
    siblings = Folder.objects.filter(parent=parent, name__iexact=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        message = _("A folder named “%(name)s” already exists here.") % {"name": name}
        raise Conflict("folder_name_taken", message, {"name": [message]})


# ---------------------------------------------------------------------------------------------
# Organizations.


@transaction.atomic(durable=True)
def create_organization(
    *, user: User, name: str, notes: str = "", folder_names: Sequence[str] = ()
) -> Organization:
    """Create an organization with its top folder (named after it) and make the creator owner.

    `folder_names` become the first folders under the top folder.
    """
    name = _clean_name(name)
    notes = _clean_notes(notes)
    names = [
        _clean_folder_name(n, field_name="folder_names") for n in folder_names if (n or "").strip()
    ]
    if len({n.casefold() for n in names}) != len(names):
        message = _("Each first folder needs a different name.")
        raise Invalid("folder_names_repeated", message, {"folder_names": [message]})
    organization = Organization.objects.create(name=name, notes=notes, created_by=user)
    membership = Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    top = _insert_folder(organization=organization, parent=None, name=name)
    for folder_name in names:
        _insert_folder(organization=organization, parent=top, name=folder_name)
    audit.record(
        membership,
        organization,
        "organization.create",
        organization,
        {"name": name, "folders": names},
    )
    return organization


@transaction.atomic(durable=True)
def update_organization(*, membership: Membership, name: str, notes: str) -> Organization:
    """Rename the organization and change its notes (admins and owners)."""
    access.require(membership, Action.ORGANIZATION_CHANGE)
    organization = _lock_organization(membership.organization_id)
    name, notes = _clean_name(name), _clean_notes(notes)
    changes = {}
    if name != organization.name:
        changes["name"] = {"from": organization.name, "to": name}
    if notes != organization.notes:
        changes["notes"] = True
    if not changes:
        return organization
    organization.name, organization.notes = name, notes
    organization.save(update_fields=["name", "notes"])
    audit.record(membership, organization, "organization.update", organization, changes)
    membership.organization = organization
    return organization


@transaction.atomic(durable=True)
def update_security_settings(
    *, membership: Membership, allow_elevated_invitations: bool, requires_mfa: bool
) -> Organization:
    """Change the invitation role policy (owners only) and the MFA requirement (admins+)."""
    access.require(membership, Action.ORGANIZATION_CHANGE)
    organization = _lock_organization(membership.organization_id)
    changes = {}
    if bool(allow_elevated_invitations) != organization.allow_elevated_invitations:
        if not access.can(membership, Action.OWNER_GRANT):
            raise Forbidden(
                "owner_only_policy",
                _("Only an owner can allow operator and admin invitations."),
            )
        changes["allow_elevated_invitations"] = bool(allow_elevated_invitations)
    if bool(requires_mfa) != organization.requires_mfa:
        changes["requires_mfa"] = bool(requires_mfa)
    if not changes:
        return organization
    for name, value in changes.items():
        setattr(organization, name, value)
    organization.save(update_fields=list(changes))
    audit.record(membership, organization, "organization.security_update", organization, changes)
    membership.organization = organization
    return organization


@transaction.atomic(durable=True)
def archive_organization(
    *, membership: Membership, confirmation_id: str, understood: bool
) -> Organization:
    """Archive the organization (owners only) after the exact ID and the risk box.

    Nothing is deleted: the organization disappears for its members, its URLs answer 404 and
    its API tokens stop working, until support restores it.
    """
    access.require(membership, Action.ORGANIZATION_ARCHIVE)
    organization = _lock_organization(membership.organization_id)
    if (confirmation_id or "").strip().lower() != str(organization.pk):
        message = _("Paste the organization ID exactly as shown to confirm.")
        raise Invalid("confirmation_mismatch", message, {"confirmation_id": [message]})
    if not understood:
        message = _("Tick “I understand the risks” to archive the organization.")
        raise Invalid("risk_not_acknowledged", message, {"understood": [message]})
    if organization.is_archived:
        return organization
    organization.archived_at = timezone.now()
    organization.archived_by = membership.user
    organization.save(update_fields=["archived_at", "archived_by"])
    contents = selectors.count_organization_contents(organization)
    audit.record(membership, organization, "organization.archive", organization, contents)
    return organization


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore brings back (or would bring back, on a dry run)."""

    organization: Organization
    archived_at: datetime | None
    archived_by: str
    member_count: int
    owner_count: int
    folder_count: int
    api_token_count: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Return the summary as lines for a terminal."""
        archived_at = self.archived_at.isoformat() if self.archived_at else "-"
        return [
            f"Organization: {self.organization.name} ({self.organization.pk})",
            f"Archived at: {archived_at} by {self.archived_by or '-'}",
            f"Members: {self.member_count} (owners: {self.owner_count})",
            f"Folders: {self.folder_count}",
            f"API tokens that work again: {self.api_token_count}",
            *self.notes,
        ]


def preview_restore(*, organization_id: Any) -> RestoreSummary:
    """Describe what restoring an archived organization brings back; changes nothing.

    NotFound for an unknown ID, Invalid when the organization is not archived.
    """
    organization = selectors.organization_for_support(organization_id)
    if not organization.is_archived:
        raise Invalid(
            "not_archived",
            _("Organization %(id)s is not archived; there is nothing to restore.")
            % {"id": organization.pk},
        )
    memberships = Membership.objects.for_organization(organization)
    today = timezone.localdate()
    return RestoreSummary(
        organization=organization,
        archived_at=organization.archived_at,
        archived_by=organization.archived_by.email if organization.archived_by else "",
        member_count=memberships.count(),
        owner_count=memberships.filter(role=Role.OWNER).count(),
        folder_count=Folder.objects.for_organization(organization).count(),
        api_token_count=ApiToken.objects.for_organization(organization)
        .filter(revoked_at__isnull=True, expires_on__gte=today)
        .count(),
        notes=["Voided licenses stay void; the restore does not bring them back."],
    )


@transaction.atomic(durable=True)
def restore_organization(*, organization_id: Any, reason: str) -> RestoreSummary:
    """Bring back an archived organization for its members (support, from the shell).

    Audited with the actor "support" and the reason. Memberships, folders and tokens were never
    deleted, so clearing the archive mark restores them; voided licenses stay void.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", _("Give a reason for the restore; it goes in the audit."))
    summary = preview_restore(organization_id=organization_id)
    organization = _lock_organization(summary.organization.pk)
    if not organization.is_archived:
        raise Invalid("not_archived", _("The organization was restored meanwhile."))
    archived_at = organization.archived_at
    organization.archived_at = None
    organization.archived_by = None
    organization.save(update_fields=["archived_at", "archived_by"])
    audit.record(
        audit.SUPPORT,
        organization,
        "organization.restore",
        organization,
        {"reason": reason, "archived_at": archived_at.isoformat()},
    )
    return RestoreSummary(**{**summary.__dict__, "organization": organization})


# ---------------------------------------------------------------------------------------------
# Invitations.


def _invitation_link(raw_token: str, request: HttpRequest | None) -> str:
    path = reverse("organizations:invitation-accept", args=[raw_token])
    return request.build_absolute_uri(path) if request is not None else path


def send_invitation_email(*, invitation: Invitation, link: str) -> None:
    """E-mail one invitation link; called after commit, never inside a transaction."""
    inviter = invitation.invited_by
    with translation.override(translation.get_language()):
        subject = str(
            _("You are invited to %(organization)s on camfleet")
            % {"organization": invitation.organization.name}
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
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


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
    membership: Membership,
    emails: Sequence[str],
    role: str,
    folder_ids: Sequence[Any] = (),
    request: HttpRequest | None = None,
) -> list[Invitation]:
    """Invite people by e-mail with a role and, for operators and viewers, folders.

    All or nothing. Refused: roles above the inviter's own, owners (ownership is given by
    elevating a member), operator/admin unless the organization allows them, addresses that
    are already members or already have a pending invitation. Each address gets a single-use
    link valid 7 days, e-mailed after commit; only the token's hash is stored.
    """
    access.require(membership, Action.MEMBER_INVITE)
    # Locked and re-read: the policy as it is now, not as the request loaded it.
    organization = _lock_organization(membership.organization_id)
    role = _clean_role(role)
    if role == Role.OWNER:
        message = _("Invite as admin or below; make someone an owner after they join.")
        raise Invalid("owner_by_elevation_only", message, {"role": [message]})
    if ROLE_RANK[role] > ROLE_RANK[Role(membership.role)]:
        raise Forbidden(
            "role_above_own", _("You cannot invite someone with a role above your own.")
        )
    if role != Role.VIEWER and not organization.allow_elevated_invitations:
        raise Forbidden(
            "viewer_only",
            _(
                "For security, invitations are limited to the viewer role. An owner can allow "
                "operator and admin invitations in Settings → Security."
            ),
        )
    addresses = _clean_emails(emails)
    folders = (
        _folders_for_grants(membership, folder_ids) if role in (Role.OPERATOR, Role.VIEWER) else []
    )
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
                    token_hash=selectors.hash_secret(raw_token),
                    invited_by=membership.user,
                    created_at=now,
                    expires_at=now + INVITATION_VALIDITY,
                )
        except IntegrityError:
            message = _(
                "Already invited: %(emails)s. Revoke the pending invitation to send a new one."
            ) % {"emails": email}
            raise Conflict("already_invited", message, {"emails": [message]}) from None
        invitation.folders.set(folders)
        invitations.append((invitation, raw_token))
        audit.record(
            membership,
            organization,
            "invitation.create",
            invitation,
            {"email": email, "role": role, "folders": sorted(str(f.pk) for f in folders)},
        )
    for invitation, raw_token in invitations:
        link = _invitation_link(raw_token, request)
        transaction.on_commit(
            lambda invitation=invitation, link=link: send_invitation_email(
                invitation=invitation, link=link
            )
        )
    return [invitation for invitation, _raw in invitations]


@transaction.atomic(durable=True)
def revoke_invitation(*, membership: Membership, invitation_id: Any) -> Invitation:
    """Withdraw a pending invitation; its link then explains itself and grants nothing."""
    access.require(membership, Action.MEMBER_INVITE)
    _lock_organization(membership.organization_id)
    invitation_uuid = selectors._as_uuid(invitation_id)
    invitation = (
        Invitation.objects.for_organization(membership.organization_id)
        .select_for_update(of=("self",))
        .filter(pk=invitation_uuid)
        .first()
        if invitation_uuid
        else None
    )
    if invitation is None:
        raise NotFound("invitation_not_found", _("Invitation not found."))
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
        membership,
        membership.organization,
        "invitation.revoke",
        invitation,
        {"email": invitation.email},
    )
    return invitation


@transaction.atomic(durable=True)
def accept_invitation(*, user: User, raw_token: str) -> Membership:
    """Join the organization of an invitation with its role and folders; single use.

    The invitation row is locked, so two concurrent accepts cannot both pass. Refused with an
    explanation: revoked, expired or used links, another account's invitation, and people who
    are already members.
    """
    token_hash = selectors.hash_secret(raw_token or "")
    organization_id = (
        Invitation.objects.filter(token_hash=token_hash)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is not None:
        _lock_organization(organization_id)
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


# ---------------------------------------------------------------------------------------------
# Members.


@transaction.atomic(durable=True)
def change_member(
    *, membership: Membership, member_id: Any, role: str, folder_ids: Sequence[Any] | None = None
) -> Membership:
    """Change a member's role and folder grants; effective on their very next request.

    Only owners make or demote owners; nobody grants a role above their own. The last owner is
    never demoted: the organization's owner rows are locked first, so two concurrent demotions
    cannot both see "another owner is left". `folder_ids=None` keeps the member's current
    folders (a role-only change); a list, also an empty one, replaces them.
    """
    role = _clean_role(role)
    owners = _lock_owners(membership.organization_id)
    _lock_organization(membership.organization_id)
    membership = _reload_actor(membership)
    member = selectors.get_member(membership, member_id)
    access.require(membership, Action.MEMBER_CHANGE, member)
    if ROLE_RANK[role] > ROLE_RANK[Role(membership.role)]:
        raise Forbidden("role_above_own", _("You cannot give a role above your own."))
    if Role.OWNER in (role, member.role):
        access.require(membership, Action.OWNER_GRANT)
    if member.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
        raise Conflict(
            "last_owner",
            _("%(name)s is the last owner. Make another member owner first.")
            % {"name": member.user.get_full_name()},
        )
    before_role = member.role
    before_folders = {str(f.pk) for f in member.granted_folders}
    if role not in (Role.OPERATOR, Role.VIEWER):
        folders = []
    elif folder_ids is None:
        folders = _folders_for_grants(membership, before_folders)
    else:
        folders = _folders_for_grants(membership, folder_ids)
    if role != before_role:
        member.role = role
        member.save(update_fields=["role"])
    access.set_folder_grants(member, folders)
    after_folders = {str(f.pk) for f in folders}
    if role == before_role and after_folders == before_folders:
        return member
    audit.record(
        membership,
        membership.organization,
        "member.change",
        member,
        {
            "email": member.user.email,
            "role": {"from": before_role, "to": role},
            "folders_granted": sorted(after_folders - before_folders),
            "folders_revoked": sorted(before_folders - after_folders),
        },
    )
    return selectors.get_member(membership, member.pk)


@dataclass
class RemovalResult:
    """What a (bulk) removal did: the members removed, and those refused with the reason."""

    removed: list[Membership] = field(default_factory=list)
    refused: list[tuple[Any, str]] = field(default_factory=list)


@transaction.atomic(durable=True)
def remove_members(*, membership: Membership, member_ids: Sequence[Any]) -> RemovalResult:
    """Remove members with their folder grants and API tokens; refuse what is not allowed.

    Never removes the last owner (owner rows are locked first) and never lets an admin remove
    an owner. Each refusal carries a reason a person can read; the rest is removed.
    """
    access.require(membership, Action.MEMBER_REMOVE)
    owners = _lock_owners(membership.organization_id)
    _lock_organization(membership.organization_id)
    membership = _reload_actor(membership)
    access.require(membership, Action.MEMBER_REMOVE)
    owner_ids = {owner.pk for owner in owners}
    result = RemovalResult()
    seen: set[Any] = set()
    for member_id in member_ids:
        try:
            member = selectors.get_member(membership, member_id)
        except NotFound:
            result.refused.append((member_id, str(_("Member not found."))))
            continue
        if member.pk in seen:
            continue
        seen.add(member.pk)
        if not access.can(membership, Action.MEMBER_REMOVE, member):
            result.refused.append((member, str(_("Only an owner can remove an owner."))))
            continue
        if member.pk in owner_ids and len(owner_ids) <= 1:
            result.refused.append(
                (
                    member,
                    str(_("The last owner cannot be removed. Make another member owner first.")),
                )
            )
            continue
        owner_ids.discard(member.pk)
        access.revoke_all_folders(member)
        token_count = ApiToken.objects.filter(membership=member).count()
        audit.record(
            membership,
            membership.organization,
            "member.remove",
            member,
            {"email": member.user.email, "role": member.role, "api_tokens_deleted": token_count},
        )
        # Deleting the membership deletes its API tokens (CASCADE); audit rows keep their label.
        Membership.objects.filter(pk=member.pk).delete()  # keeps `member.pk` for the result
        result.removed.append(member)
    return result


# ---------------------------------------------------------------------------------------------
# Folders.


def _insert_folder(
    *, organization: Organization, parent: Folder | None, name: str, time_zone: str = ""
) -> Folder:
    """Create a folder row with its materialized path; call inside a transaction."""
    folder_id = uuid.uuid4()
    prefix = parent.path if parent is not None else ""
    return Folder.objects.create(
        id=folder_id,
        organization=organization,
        parent=parent,
        name=name,
        path=f"{prefix}{folder_id}/",
        depth=parent.depth + 1 if parent is not None else 0,
        time_zone=time_zone,
    )


@transaction.atomic(durable=True)
def create_folder(
    *, membership: Membership, parent_id: Any, name: str, time_zone: str = ""
) -> Folder:
    """Create a folder under a visible parent; names are unique among siblings."""
    access.require(membership, Action.FOLDER_MANAGE)
    organization = _lock_organization(membership.organization_id)
    parent = selectors.get_visible_folder(membership, parent_id)
    name = _clean_folder_name(name)
    time_zone = _clean_time_zone(time_zone)
    if parent.depth + 1 > MAX_FOLDER_DEPTH:
        raise Invalid(
            "folder_too_deep",
            _("Folders can be nested at most %(depth)d levels deep.") % {"depth": MAX_FOLDER_DEPTH},
        )
    _check_folder_name_free(parent, name)
    folder = _insert_folder(
        organization=organization, parent=parent, name=name, time_zone=time_zone
    )
    audit.record(
        membership,
        organization,
        "folder.create",
        folder,
        {"parent": str(parent.pk), "name": name, "time_zone": time_zone},
    )
    return folder


@transaction.atomic(durable=True)
def rename_folder(
    *, membership: Membership, folder_id: Any, name: str, time_zone: str | None = None
) -> Folder:
    """Rename a folder and, when `time_zone` is given, set it ("" inherits from the parent)."""
    access.require(membership, Action.FOLDER_MANAGE)
    organization = _lock_organization(membership.organization_id)
    folder = selectors.get_visible_folder(membership, folder_id)
    name = _clean_folder_name(name)
    changes: dict[str, Any] = {}
    if name != folder.name:
        if folder.parent_id is not None:
            _check_folder_name_free(folder.parent, name, exclude=folder)
        changes["name"] = {"from": folder.name, "to": name}
        folder.name = name
    if time_zone is not None:
        time_zone = _clean_time_zone(time_zone)
        if time_zone != folder.time_zone:
            changes["time_zone"] = {"from": folder.time_zone, "to": time_zone}
            folder.time_zone = time_zone
    if not changes:
        return folder
    folder.save(update_fields=["name", "time_zone"])
    audit.record(membership, organization, "folder.update", folder, changes)
    return folder


@transaction.atomic(durable=True)
def move_folder(*, membership: Membership, folder_id: Any, new_parent_id: Any) -> Folder:
    """Move a folder and its subtree under another folder, never into its own subtree.

    The organization row is locked, so concurrent moves cannot build a cycle; the subtree's
    paths and depths are rewritten in one UPDATE.
    """
    access.require(membership, Action.FOLDER_MANAGE)
    organization = _lock_organization(membership.organization_id)
    folder = selectors.get_visible_folder(membership, folder_id)
    new_parent = selectors.get_visible_folder(membership, new_parent_id)
    if folder.parent_id is None:
        raise Invalid("top_folder", _("The top folder cannot be moved."))
    if new_parent.path.startswith(folder.path):
        message = _("A folder cannot be moved into itself or one of its subfolders.")
        raise Invalid("move_into_subtree", message, {"new_parent_id": [message]})
    if new_parent.pk == folder.parent_id:
        return folder
    subtree_height = (
        Folder.objects.for_organization(organization)
        .filter(path__startswith=folder.path)
        .order_by("-depth")
        .values_list("depth", flat=True)
        .first()
    ) - folder.depth
    if new_parent.depth + 1 + subtree_height > MAX_FOLDER_DEPTH:
        raise Invalid(
            "folder_too_deep",
            _("Folders can be nested at most %(depth)d levels deep.") % {"depth": MAX_FOLDER_DEPTH},
        )
    _check_folder_name_free(new_parent, folder.name, exclude=folder)
    old_parent_id, old_path = folder.parent_id, folder.path
    new_path = f"{new_parent.path}{folder.pk}/"
    depth_change = new_parent.depth + 1 - folder.depth
    Folder.objects.filter(pk=folder.pk).update(parent=new_parent)
    Folder.objects.for_organization(organization).filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    folder.refresh_from_db()
    audit.record(
        membership,
        organization,
        "folder.move",
        folder,
        {"from_parent": str(old_parent_id), "to_parent": str(new_parent.pk)},
    )
    return folder


@transaction.atomic(durable=True)
def delete_folder(*, membership: Membership, folder_id: Any, understood: bool) -> None:
    """Delete an empty folder (no subfolders, no devices) after the risk box; never the top."""
    access.require(membership, Action.FOLDER_MANAGE)
    organization = _lock_organization(membership.organization_id)
    folder = selectors.get_visible_folder(membership, folder_id)
    if folder.parent_id is None:
        raise Invalid("top_folder", _("The top folder cannot be deleted."))
    if not understood:
        message = _("Tick “I understand the risks” to delete the folder.")
        raise Invalid("risk_not_acknowledged", message, {"understood": [message]})
    if Folder.objects.filter(parent=folder).exists():
        raise Conflict(
            "folder_has_subfolders",
            _("“%(name)s” has subfolders. Move or delete them first.") % {"name": folder.name},
        )
    contents = selectors.count_folder_contents(folder)
    if contents:
        raise Conflict(
            "folder_has_devices",
            _("“%(name)s” still holds devices. Move or remove them first.") % {"name": folder.name},
            {"contents": contents},
        )
    audit.record(
        membership,
        organization,
        "folder.delete",
        folder,
        {"name": folder.name, "parent": str(folder.parent_id)},
    )
    folder.delete()


# ---------------------------------------------------------------------------------------------
# API tokens.


@transaction.atomic(durable=True)
def create_api_token(
    *, membership: Membership, name: str, expires_on: date
) -> tuple[ApiToken, str]:
    """Create one of the member's API tokens; return it with the raw secret, shown only once.

    The token acts with the member's current role and folders; only its hash is stored.
    """
    access.require(membership, Action.ORGANIZATION_VIEW)
    _lock_organization(membership.organization_id)
    name = _clean_name(name, field_name="name", max_length=80)
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
                membership=membership,
                organization_id=membership.organization_id,
                name=name,
                prefix=prefix,
                token_hash=selectors.hash_secret(raw_token),
                expires_on=expires_on,
            )
    except IntegrityError:
        raise Conflict("try_again", _("Please try again.")) from None
    audit.record(
        membership,
        membership.organization,
        "api_token.create",
        token,
        {"name": name, "prefix": prefix, "expires_on": expires_on.isoformat()},
    )
    return token, raw_token


@transaction.atomic(durable=True)
def revoke_api_token(*, membership: Membership, token_id: Any) -> ApiToken:
    """Revoke an API token: one's own, or anyone's for members who manage tokens. Idempotent."""
    _lock_organization(membership.organization_id)
    token = selectors.get_api_token(membership, token_id)
    if token.membership_id != membership.pk:
        access.require(membership, Action.TOKEN_MANAGE)
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit.record(
            membership,
            membership.organization,
            "api_token.revoke",
            token,
            {"name": token.name, "prefix": token.prefix},
        )
    return token


__all__ = [
    "INVITATION_VALIDITY",
    "RemovalResult",
    "RestoreSummary",
    "accept_invitation",
    "archive_organization",
    "change_member",
    "create_api_token",
    "create_folder",
    "create_organization",
    "delete_folder",
    "invite_members",
    "move_folder",
    "preview_restore",
    "remove_members",
    "rename_folder",
    "restore_organization",
    "revoke_api_token",
    "revoke_invitation",
    "update_organization",
    "update_security_settings",
]
