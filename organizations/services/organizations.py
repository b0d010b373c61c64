"""Create, change, archive and restore organizations."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.errors import Forbidden, Invalid
from organizations import access, audit, selectors, signals
from organizations.models import ApiToken, Folder, Membership, Organization
from organizations.roles import Action, Role
from organizations.services.folders import insert_folder
from organizations.services.invitations import revoke_invitations_no_longer_allowed
from organizations.services.locks import lock_organization
from organizations.services.validation import (
    clean_folder_name,
    clean_name,
    clean_notes,
)

# First folders one organization may be created with; more are added in Folders.
MAX_FIRST_FOLDERS = 100


@transaction.atomic(durable=True)
def create_organization(
    *, user: User, name: str, notes: str = "", folder_names: Sequence[str] = ()
) -> Organization:
    """Create an organization with its top folder (named after it) and make the creator owner.

    `folder_names` (at most `MAX_FIRST_FOLDERS`) become the first folders under the top folder.
    """
    name = clean_name(name)
    notes = clean_notes(notes)
    names = [
        clean_folder_name(n, field_name="folder_names") for n in folder_names if (n or "").strip()
    ]
    if len(names) > MAX_FIRST_FOLDERS:
        message = _("Create at most %(count)d first folders here; add more later in Folders.") % {
            "count": MAX_FIRST_FOLDERS
        }
        raise Invalid("too_many_folders", message, {"folder_names": [message]})
    if len({n.casefold() for n in names}) != len(names):
        message = _("Each first folder needs a different name.")
        raise Invalid("folder_names_repeated", message, {"folder_names": [message]})
    organization = Organization.objects.create(name=name, notes=notes, created_by=user)
    membership = Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    top = insert_folder(organization=organization, parent=None, name=name)
    for folder_name in names:
        insert_folder(organization=organization, parent=top, name=folder_name)
    audit.record(
        membership,
        organization,
        "organization.create",
        organization,
        {"name": name, "folders": names},
    )
    return organization


def _update_organization(
    actor: Membership,
    *,
    name: str | None,
    notes: str | None,
    allow_elevated_invitations: bool | None,
    requires_mfa: bool | None,
) -> Organization:
    """Apply the given fields to the locked organization row; call inside a transaction.

    Fields left at None keep the value the row has once locked, so an edit of other fields made
    meanwhile survives. Everything is checked before anything is written.
    """
    access.require(actor, Action.ORGANIZATION_CHANGE)
    organization = lock_organization(actor.organization_id)
    general: dict[str, Any] = {}
    if name is not None and (name := clean_name(name)) != organization.name:
        general["name"] = {"from": organization.name, "to": name}
    if notes is not None and (notes := clean_notes(notes)) != organization.notes:
        general["notes"] = {"from": organization.notes, "to": notes}
    security: dict[str, dict[str, bool]] = {}
    if (
        allow_elevated_invitations is not None
        and bool(allow_elevated_invitations) != organization.allow_elevated_invitations
    ):
        if not access.can(actor, Action.OWNER_GRANT):
            raise Forbidden(
                "owner_only_policy",
                _("Only an owner can allow operator and admin invitations."),
            )
        security["allow_elevated_invitations"] = {
            "from": organization.allow_elevated_invitations,
            "to": bool(allow_elevated_invitations),
        }
    if requires_mfa is not None and bool(requires_mfa) != organization.requires_mfa:
        security["requires_mfa"] = {"from": organization.requires_mfa, "to": bool(requires_mfa)}
    if general:
        if "name" in general:
            organization.name = name
        if "notes" in general:
            organization.notes = notes
        organization.save(update_fields=[field for field in ("name", "notes") if field in general])
        audit.record(actor, organization, "organization.update", organization, general)
    if security:
        for field_name, change in security.items():
            setattr(organization, field_name, change["to"])
        organization.save(update_fields=list(security))
        audit.record(actor, organization, "organization.security_update", organization, security)
    if security.get("allow_elevated_invitations", {}).get("to") is False:
        revoke_invitations_no_longer_allowed(
            actor=actor, organization=organization, reason="policy_viewer_only"
        )
    actor.organization = organization
    return organization


@transaction.atomic(durable=True)
def update_organization(
    *,
    actor: Membership,
    name: str | None = None,
    notes: str | None = None,
    allow_elevated_invitations: bool | None = None,
    requires_mfa: bool | None = None,
) -> Organization:
    """Change the organization's name, notes and security settings; None leaves a field as is.

    Admins and owners; only owners change the invitation role policy. One locked transaction:
    all or nothing, and concurrent edits of other fields are kept.
    """
    return _update_organization(
        actor,
        name=name,
        notes=notes,
        allow_elevated_invitations=allow_elevated_invitations,
        requires_mfa=requires_mfa,
    )


@transaction.atomic(durable=True)
def update_security_settings(
    *,
    actor: Membership,
    allow_elevated_invitations: bool | None = None,
    requires_mfa: bool | None = None,
) -> Organization:
    """Change the invitation role policy (owners only) and the MFA requirement (admins+)."""
    return _update_organization(
        actor,
        name=None,
        notes=None,
        allow_elevated_invitations=allow_elevated_invitations,
        requires_mfa=requires_mfa,
    )


@transaction.atomic(durable=True)
def archive_organization(
    *, actor: Membership, confirmation_id: str, understood: bool
) -> Organization:
    """Archive the organization (owners only) after the exact ID and the risk box.

    Nothing is deleted: the organization disappears for its members, its URLs answer 404 and
    its API tokens stop working, until support restores it. Receivers of
    `signals.organization_archived` run in the same transaction (licensing voids the active
    subscription licenses, which a restore does not bring back).
    """
    access.require(actor, Action.ORGANIZATION_ARCHIVE)
    organization = lock_organization(actor.organization_id)
    if (confirmation_id or "").strip().lower() != str(organization.pk):
        message = _("Paste the organization ID exactly as shown to confirm.")
        raise Invalid("confirmation_mismatch", message, {"confirmation_id": [message]})
    if not understood:
        message = _("Tick “I understand the risks” to archive the organization.")
        raise Invalid("risk_not_acknowledged", message, {"understood": [message]})
    if organization.is_archived:
        return organization
    organization.archived_at = timezone.now()
    organization.archived_by = actor.user
    organization.save(update_fields=["archived_at", "archived_by"])
    contents = selectors.count_organization_contents(organization)
    audit.record(actor, organization, "organization.archive", organization, contents)
    signals.organization_archived.send(sender=Organization, organization=organization, actor=actor)
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


def preview_restore(*, organization_id: UUID) -> RestoreSummary:
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
def restore_organization(*, organization_id: UUID, reason: str) -> RestoreSummary:
    """Bring back an archived organization for its members (support, from the shell).

    Audited with the actor "support" and the reason. Memberships, folders and tokens were never
    deleted, so clearing the archive mark restores them; voided licenses stay void.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", _("Give a reason for the restore; it goes in the audit."))
    summary = preview_restore(organization_id=organization_id)
    organization = lock_organization(summary.organization.pk)
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
