"""The only place that knows who may do what (PRODUCT.md §3, DESIGN.md §3).

Roles are sets of actions (`organizations.roles`). Owners and admins see every folder of their
organization; operators and viewers see the folders they were granted and everything below them.
Grants are django-guardian object permissions on `Folder` (`view_folder`; operators also hold
`operate_folder`); the subtree comes from `Folder.path`, so visibility costs the same two queries
whatever the number of grants. Nothing here is cached across requests: a role or grant change
applies to the very next request.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, remove_perm

from common.errors import DomainError, Forbidden, Invalid
from organizations.models import Folder, FolderUserObjectPermission, Membership, Organization
from organizations.roles import (
    ALL_FOLDERS_ROLES,
    FOLDER_SCOPED_ACTIONS,
    ROLE_ACTIONS,
    ROLE_RANK,
    Action,
    Role,
)

VIEW_FOLDER = "view_folder"
OPERATE_FOLDER = "operate_folder"

# Actions that act on another member; admins may not use them on an owner.
_MEMBER_ACTIONS = frozenset({Action.MEMBER_CHANGE, Action.MEMBER_REMOVE})
# Folder-scoped actions that need `operate_folder`, not only `view_folder`.
_OPERATE_ACTIONS = FOLDER_SCOPED_ACTIONS - {Action.DEVICE_VIEW}


def sees_all_folders(membership: Membership) -> bool:
    """Return True when the member sees every folder of the organization (owners and admins)."""
    return membership.role in ALL_FOLDERS_ROLES


def _granted(membership: Membership, codename: str) -> QuerySet[FolderUserObjectPermission]:
    """Return the member's grants of one permission in their own organization."""
    return FolderUserObjectPermission.objects.filter(
        user_id=membership.user_id,
        permission__codename=codename,
        permission__content_type__app_label=Folder._meta.app_label,
        content_object__organization_id=membership.organization_id,
    )


def _folders_under_grants(membership: Membership, codename: str) -> QuerySet[Folder]:
    """Return the organization's folders at or below a folder granted with `codename`.

    Two queries whatever the number of grants: the granted paths (a handful of rows through the
    (user, permission) index), then one `path LIKE 'p%' OR …` over the text_pattern_ops index on
    (organization, path), which reads only the granted subtrees. A grant inside another granted
    subtree adds nothing, so it is dropped from the OR.
    """
    roots = _grant_roots(membership, codename)
    if not roots:
        return Folder.objects.none()
    under_any_root = Q()
    for root in roots:
        under_any_root |= Q(path__startswith=root)
    return Folder.objects.for_organization(membership.organization_id).filter(under_any_root)


def _grant_roots(membership: Membership, codename: str) -> list[str]:
    """Return the paths of the member's granted folders, leaving out those inside another."""
    paths = sorted(_granted(membership, codename).values_list("content_object__path", flat=True))
    roots: list[str] = []
    for path in paths:
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return roots


def visible_folders(membership: Membership) -> QuerySet[Folder]:
    """Return the folders this member may see: all for owner/admin, granted subtrees otherwise."""
    if sees_all_folders(membership):
        return Folder.objects.for_organization(membership.organization_id)
    return _folders_under_grants(membership, VIEW_FOLDER)


def visible_among(membership: Membership, folders: Iterable[Folder]) -> list[Folder]:
    """Return those of `folders` this member may see: the rule of `visible_folders`, in Python.

    For pages that loaded the member's folders already and read what is filed in them by a list
    of ids: a folder of another organization or outside the grants is left out, so a wrong list
    only narrows. One query (the grants) whatever the number of folders.
    """
    mine = [folder for folder in folders if folder.organization_id == membership.organization_id]
    if sees_all_folders(membership):
        return mine
    roots = tuple(_grant_roots(membership, VIEW_FOLDER))
    return [folder for folder in mine if roots and folder.path.startswith(roots)]


def operable_folders(membership: Membership) -> QuerySet[Folder]:
    """Return the folders in which this member may control devices and play recordings.

    Owners and admins: every folder. Operators: their granted subtrees. Viewers: none.
    """
    if sees_all_folders(membership):
        return Folder.objects.for_organization(membership.organization_id)
    if membership.role != Role.OPERATOR:
        return Folder.objects.none()
    return _folders_under_grants(membership, OPERATE_FOLDER)


def folder_ids_operable(membership: Membership) -> QuerySet:
    """Return the ids of `operable_folders`, for `folder_id__in=` filters."""
    return operable_folders(membership).values("pk")


def granted_folders(membership: Membership) -> QuerySet[Folder]:
    """Return the folders granted directly to this member (not their descendants)."""
    return Folder.objects.filter(
        pk__in=_granted(membership, VIEW_FOLDER).values("content_object_id")
    ).order_by("path")


def _folder_of(obj: Any) -> Folder | None:
    """Return the folder an object lives in: the object itself, `.folder`, or None."""
    if obj is None:
        return None
    if isinstance(obj, Folder):
        return obj
    if getattr(obj, "folder_id", None) is not None:
        return obj.folder
    return None


def _in_folder_subtree(membership: Membership, folder: Folder, codename: str) -> bool:
    """Return True when one of the member's `codename` grants is the folder or an ancestor."""
    ancestor_ids = [part for part in folder.path.split("/") if part]
    return _granted(membership, codename).filter(content_object_id__in=ancestor_ids).exists()


def can(membership: Membership | None, action: str, obj: Any = None) -> bool:
    """Return True when the member may do `action` (on `obj`, when given).

    `obj` may be a Folder, anything with a `folder`, or another Membership. Objects of another
    organization, and (for operators and viewers) objects in folders outside their grants, allow
    nothing. Admins may not change or remove an owner.
    """
    if membership is None or membership.organization.is_archived:
        return False
    if action not in ROLE_ACTIONS.get(membership.role, frozenset()):
        return False
    if obj is None:
        return True
    organization_id = getattr(obj, "organization_id", None)
    if organization_id is not None and organization_id != membership.organization_id:
        return False
    if isinstance(obj, Membership) and action in _MEMBER_ACTIONS:
        return obj.role != Role.OWNER or membership.role == Role.OWNER
    folder = _folder_of(obj)
    if folder is None or sees_all_folders(membership):
        return True
    if folder.organization_id != membership.organization_id:
        return False
    if action in _OPERATE_ACTIONS:
        return _in_folder_subtree(membership, folder, OPERATE_FOLDER)
    return _in_folder_subtree(membership, folder, VIEW_FOLDER)


def require(membership: Membership | None, action: str, obj: Any = None) -> None:
    """Raise Forbidden, with a message a person can act on, unless `can(...)` allows it."""
    if can(membership, action, obj):
        return
    if isinstance(obj, Membership) and action in _MEMBER_ACTIONS and obj.role == Role.OWNER:
        raise Forbidden("owner_protected", _("Only an owner can change or remove an owner."))
    label = Action(action).label if action in Action.values else action
    role = Role(membership.role).label if membership and membership.role in Role.values else ""
    if obj is not None and action in ROLE_ACTIONS.get(getattr(membership, "role", ""), ()):
        raise Forbidden(
            "folder_not_granted",
            _("Your folder access does not allow this here: %(action)s.") % {"action": label},
        )
    raise Forbidden(
        "role_not_allowed",
        _("Your role (%(role)s) does not allow this: %(action)s.")
        % {"role": role, "action": label},
    )


# The roles an invitation may carry; owners are made by elevating a member who joined.
INVITATION_ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


def _invitation_refusal(
    membership: Membership, organization: Organization, role: str
) -> DomainError | None:
    if role not in INVITATION_ROLES:
        message = _("Invite as admin or below; make someone an owner after they join.")
        return Invalid("owner_by_elevation_only", message, {"role": [message]})
    if ROLE_RANK[role] > ROLE_RANK[membership.role]:
        return Forbidden(
            "role_above_own", _("You cannot invite someone with a role above your own.")
        )
    if role != Role.VIEWER and not organization.allow_elevated_invitations:
        return Forbidden(
            "viewer_only",
            _(
                "For security, invitations are limited to the viewer role. An owner can allow "
                "operator and admin invitations in Settings → Security."
            ),
        )
    return None


def invitable_roles(membership: Membership, organization: Organization) -> list[Role]:
    """Return the roles this member may put in an invitation under the organization's policy.

    `organization` carries the policy; services pass the row they locked.
    """
    return [
        role for role in INVITATION_ROLES if not _invitation_refusal(membership, organization, role)
    ]


def require_invitable_role(membership: Membership, organization: Organization, role: str) -> None:
    """Raise the refusal, with a message a person can act on, unless `role` is invitable."""
    if refusal := _invitation_refusal(membership, organization, role):
        raise refusal


def can_invite_role(membership: Membership, organization: Organization, role: str) -> bool:
    """Return True when the member may invite someone as `role` now, under the current policy.

    The same rule keeps a sent invitation alive: it is revoked, and refused at acceptance,
    once its sender could no longer send it (removed, demoted, or the policy went back).
    """
    return (
        can(membership, Action.MEMBER_INVITE)
        and _invitation_refusal(membership, organization, role) is None
    )


def assignable_roles(membership: Membership) -> list[Role]:
    """Return the roles this member may give another member: never above their own (Sentry).

    Only members who may grant ownership make owners.
    """
    return [
        role
        for role in (Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.VIEWER)
        if ROLE_RANK[role] <= ROLE_RANK[membership.role]
        and (role != Role.OWNER or can(membership, Action.OWNER_GRANT))
    ]


def require_assignable_role(membership: Membership, role: str) -> None:
    """Raise Forbidden unless this member may give `role` to another member."""
    if ROLE_RANK[role] > ROLE_RANK[membership.role]:
        raise Forbidden("role_above_own", _("You cannot give a role above your own."))
    if role == Role.OWNER:
        require(membership, Action.OWNER_GRANT)


def _codenames_for(role: str) -> tuple[str, ...]:
    if role == Role.OPERATOR:
        return (VIEW_FOLDER, OPERATE_FOLDER)
    if role == Role.VIEWER:
        return (VIEW_FOLDER,)
    return ()


def grant_folders(membership: Membership, folders: Iterable[Folder]) -> None:
    """Grant folders (and so their subtrees) to an operator or viewer; call from services only.

    Owners and admins see everything and get no grants. Folders of other organizations are
    ignored. Call inside the service's transaction.
    """
    folders = [f for f in folders if f.organization_id == membership.organization_id]
    if not folders:
        return
    for codename in _codenames_for(membership.role):
        # guardian skips the grants the member already holds.
        assign_perm(codename, membership.user, folders)


def revoke_folders(membership: Membership, folders: Iterable[Folder]) -> None:
    """Remove the member's grants on these folders; call from services only."""
    folders = [f for f in folders if f.organization_id == membership.organization_id]
    if not folders:
        return
    for codename in (VIEW_FOLDER, OPERATE_FOLDER):
        remove_perm(
            codename, membership.user, Folder.objects.filter(pk__in=[f.pk for f in folders])
        )


def revoke_all_folders(membership: Membership) -> None:
    """Remove every folder grant the member holds in their organization; services only."""
    folders = Folder.objects.for_organization(membership.organization_id)
    for codename in (VIEW_FOLDER, OPERATE_FOLDER):
        remove_perm(codename, membership.user, folders)


def set_folder_grants(membership: Membership, folders: Iterable[Folder]) -> None:
    """Make the member's grants exactly `folders`, matching their current role; services only.

    Owners and admins end up with no grants (they see everything). An operator demoted to viewer
    loses `operate_folder` everywhere.
    """
    wanted = {f.pk: f for f in folders if f.organization_id == membership.organization_id}
    if sees_all_folders(membership):
        revoke_all_folders(membership)
        return
    organization_folders = Folder.objects.for_organization(membership.organization_id)
    for codename in (VIEW_FOLDER, OPERATE_FOLDER):
        remove_perm(codename, membership.user, organization_folders.exclude(pk__in=list(wanted)))
    if membership.role == Role.VIEWER:
        remove_perm(OPERATE_FOLDER, membership.user, organization_folders)
    grant_folders(membership, wanted.values())
