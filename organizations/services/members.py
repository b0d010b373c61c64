"""Change members' roles and folder grants, and remove members."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, NotFound
from organizations import access, audit, selectors
from organizations.models import ApiToken, Membership
from organizations.roles import ALL_FOLDERS_ROLES, Action, Role
from organizations.services.invitations import revoke_invitations_no_longer_allowed
from organizations.services.locks import lock_organization, lock_owners, reload_actor
from organizations.services.validation import (
    clean_role,
    folders_for_grants,
    require_folders_for_role,
)


@transaction.atomic(durable=True)
def change_member(
    *, actor: Membership, member_id: UUID, role: str, folder_ids: Sequence[UUID] | None = None
) -> Membership:
    """Change a member's role and folder grants; effective on their very next request.

    Only owners make or demote owners; nobody grants a role above their own. The last owner is
    never demoted: the organization's owner rows are locked first, so two concurrent demotions
    cannot both see "another owner is left". `folder_ids=None` keeps the member's current
    folders (a role-only change); a list replaces them. An operator or viewer keeps at least one
    folder, as at invitation.
    """
    role = clean_role(role)
    owners = lock_owners(actor.organization_id)
    organization = lock_organization(actor.organization_id)
    actor = reload_actor(actor)
    member = selectors.get_member(actor, member_id)
    access.require(actor, Action.MEMBER_CHANGE, member)
    access.require_assignable_role(actor, role)
    if member.role == Role.OWNER:
        access.require(actor, Action.OWNER_GRANT)
    if member.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
        raise Conflict(
            "last_owner",
            _("%(name)s is the last owner. Make another member owner first.")
            % {"name": member.user.get_full_name()},
        )
    before_role = member.role
    granted_before = member.granted_folders
    before_folders = {str(f.pk) for f in granted_before}
    # Folders the organization does not have are refused whatever the role (owners and admins
    # get none, but another organization's ids must not pass for valid ones).
    named_folders = folders_for_grants(actor, folder_ids or ())
    if role in ALL_FOLDERS_ROLES:
        folders = []
    elif folder_ids is None:
        folders = folders_for_grants(actor, before_folders)
    else:
        folders = named_folders
    require_folders_for_role(role, folders)
    if role != before_role:
        member.role = role
        member.save(update_fields=["role"])
    access.set_folder_grants(member, folders)
    after_folders = {str(f.pk) for f in folders}
    if role == before_role and after_folders == before_folders:
        return member
    audit.record(
        actor,
        actor.organization,
        "member.change",
        member,
        {
            "email": member.user.email,
            "role": {"from": before_role, "to": role},
            "folders_granted": sorted(after_folders - before_folders),
            "folders_revoked": sorted(before_folders - after_folders),
            # Names as they were, so the activity page can say which folders without ids.
            "folder_names": {
                str(f.pk): f.name
                for f in [*granted_before, *folders]
                if str(f.pk) in after_folders ^ before_folders
            },
        },
    )
    if role != before_role:
        revoke_invitations_no_longer_allowed(
            actor=actor,
            organization=organization,
            reason="inviter_role_changed",
            invited_by=member.user,
        )
    return selectors.get_member(actor, member.pk)


@dataclass
class RemovalResult:
    """What a (bulk) removal did: the members removed, and those refused with the reason."""

    removed: list[Membership] = field(default_factory=list)
    refused: list[tuple[Any, str]] = field(default_factory=list)


@transaction.atomic(durable=True)
def remove_members(*, actor: Membership, member_ids: Sequence[UUID]) -> RemovalResult:
    """Remove members with their folder grants and API tokens; refuse what is not allowed.

    Never removes the last owner (owner rows are locked first) and never lets an admin remove
    an owner. Each refusal carries a reason a person can read; the rest is removed.
    """
    access.require(actor, Action.MEMBER_REMOVE)
    owners = lock_owners(actor.organization_id)
    organization = lock_organization(actor.organization_id)
    actor = reload_actor(actor)
    access.require(actor, Action.MEMBER_REMOVE)
    owner_ids = {owner.pk for owner in owners}
    result = RemovalResult()
    seen: set[Any] = set()
    for member_id in member_ids:
        try:
            member = selectors.get_member(actor, member_id)
        except NotFound:
            result.refused.append((member_id, str(_("Member not found."))))
            continue
        if member.pk in seen:
            continue
        seen.add(member.pk)
        if not access.can(actor, Action.MEMBER_REMOVE, member):
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
            actor,
            actor.organization,
            "member.remove",
            member,
            {"email": member.user.email, "role": member.role, "api_tokens_deleted": token_count},
        )
        # Deleting the actor deletes its API tokens (CASCADE); audit rows keep their label.
        Membership.objects.filter(pk=member.pk).delete()  # keeps `member.pk` for the result
        revoke_invitations_no_longer_allowed(
            actor=actor, organization=organization, reason="inviter_removed", invited_by=member.user
        )
        result.removed.append(member)
    return result
