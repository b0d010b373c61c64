"""Reads that serve people; each starts from the membership (or user) that asks.

Anything outside the asker's reach raises NotFound, the same as something that does not exist.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.models import User
from common.errors import Conflict, Invalid, NotFound
from organizations import access, audit
from organizations.models import (
    ApiToken,
    AuditEvent,
    Folder,
    FolderGroupObjectPermission,
    FolderUserObjectPermission,
    Invitation,
    Membership,
    Organization,
)
from organizations.roles import Action
from organizations.tokens import hash_secret


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def member_organizations(user: User) -> QuerySet[Organization]:
    """Return the organizations the person belongs to and that are not archived, by name."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user, archived_at__isnull=True).order_by(
        "name", "pk"
    )


def get_membership(user: User, organization_id: uuid.UUID | str) -> Membership:
    """Return the person's membership in an organization, or NotFound (also when archived).

    The single entry the HTML and API bases use to resolve `/o/<organization_id>/…`.
    """
    organization_uuid = _as_uuid(organization_id)
    if organization_uuid is None or not getattr(user, "is_authenticated", False):
        raise NotFound("organization_not_found", _("Organization not found."))
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(
            user=user, organization_id=organization_uuid, organization__archived_at__isnull=True
        )
        .first()
    )
    if membership is None:
        raise NotFound("organization_not_found", _("Organization not found."))
    return membership


def visible_folders(membership: Membership) -> QuerySet[Folder]:
    """Return the folders the member may see (see `access.visible_folders`)."""
    return access.visible_folders(membership)


def get_visible_folder(membership: Membership, folder_id: uuid.UUID | str) -> Folder:
    """Return one folder the member may see, or NotFound — also for another tenant's folder."""
    folder_uuid = _as_uuid(folder_id)
    folder = (
        access.visible_folders(membership).filter(pk=folder_uuid).first() if folder_uuid else None
    )
    if folder is None:
        raise NotFound("folder_not_found", _("Folder not found."))
    return folder


# What the tree walk reads of a folder: id, parent_id, name, time_zone.
_TreeNode = tuple[uuid.UUID, uuid.UUID | None, str, str]


def _tree_order(nodes: Iterable[_TreeNode]) -> list[tuple[_TreeNode, int, str, bool]]:
    """Return (node, level, effective time zone, has children), depth-first, siblings by name.

    A node whose parent is not among `nodes` is a root at level 0 (the top folder, or a granted
    folder whose parent the member cannot see); a folder without a time zone takes its nearest
    listed ancestor's.
    """
    nodes = list(nodes)
    listed = {node[0] for node in nodes}
    children: dict[uuid.UUID, list[_TreeNode]] = {}
    roots = []
    for node in nodes:
        if node[1] in listed:
            children.setdefault(node[1], []).append(node)
        else:
            roots.append(node)

    def sort_key(node: _TreeNode) -> tuple[str, uuid.UUID]:
        # UUIDs order as their strings do, without formatting thousands of them.
        return (node[2].casefold(), node[0])

    ordered = []
    stack = [(root, 0, "") for root in sorted(roots, key=sort_key, reverse=True)]
    while stack:
        node, level, inherited_time_zone = stack.pop()
        time_zone = node[3] or inherited_time_zone
        ordered.append((node, level, time_zone, node[0] in children))
        for child in sorted(children.get(node[0], ()), key=sort_key, reverse=True):
            stack.append((child, level + 1, time_zone))
    return ordered


def folder_tree(membership: Membership) -> list[Folder]:
    """Return the visible folders in display order, annotated for rendering.

    Order: depth-first, siblings by name. Each folder gets `level` (0 for a visible root: the top
    folder, or a granted folder whose parent the member cannot see), `has_children` and
    `effective_time_zone` (its own, else the nearest visible ancestor's, else "").
    """
    # No ORDER BY: the walk sorts siblings itself, and sorting every path by the database
    # collation was most of the query's time for an organization of 2,000 folders.
    folders = {folder.pk: folder for folder in access.visible_folders(membership).order_by()}
    nodes = ((f.pk, f.parent_id, f.name, f.time_zone) for f in folders.values())
    ordered = []
    for node, level, time_zone, has_children in _tree_order(nodes):
        folder = folders[node[0]]
        folder.level = level
        folder.effective_time_zone = time_zone
        folder.has_children = has_children
        ordered.append(folder)
    return ordered


class FolderTreeRow(NamedTuple):
    """One line of the folder tree page, in the order and with the annotations of `folder_tree`.

    For display only, and not a Folder: access checks and services take the folder from
    `get_visible_folder`.
    """

    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    level: int
    effective_time_zone: str
    has_children: bool


def folder_tree_rows(membership: Membership) -> list[FolderTreeRow]:
    """Return `folder_tree` as plain rows, for pages that list every visible folder.

    Four columns as tuples instead of whole Folder objects: a fifth of the cost for an
    organization of 2,000 folders.
    """
    nodes = (
        access.visible_folders(membership)
        .order_by()
        .values_list("id", "parent_id", "name", "time_zone")
    )
    return [
        FolderTreeRow(node[0], node[1], node[2], level, time_zone, has_children)
        for node, level, time_zone, has_children in _tree_order(nodes)
    ]


def _grants_prefetch(membership: Membership) -> Prefetch:
    """Prefetch each member's grants, leaving out folders the asker cannot see.

    An operator or viewer reading the member list must not learn the names (or ids) of folders
    outside their own grants through another member's folder access.
    """
    grants = FolderUserObjectPermission.objects.filter(
        permission__codename=access.VIEW_FOLDER,
        content_object__organization_id=membership.organization_id,
    )
    if not access.sees_all_folders(membership):
        grants = grants.filter(content_object__in=access.visible_folders(membership).values("pk"))
    return Prefetch(
        "user__folderuserobjectpermission_set",
        queryset=grants.select_related("content_object").order_by("content_object__path"),
        to_attr="organization_folder_grants",
    )


def members(membership: Membership, *, search: str = "") -> QuerySet[Membership]:
    """Return the organization's members with their users and granted folders (no N+1).

    Each membership's `granted_folders` reads the prefetched grants, limited to the folders the
    asker may see; `folder_grant_count` counts all of them, so a page can say that some are not
    visible to the asker; `has_second_factor` tells whether the person uses MFA. `search` keeps
    the members whose name or e-mail address contains it.
    """
    all_grants = (
        FolderUserObjectPermission.objects.filter(
            user=OuterRef("user_id"),
            permission__codename=access.VIEW_FOLDER,
            content_object__organization_id=membership.organization_id,
        )
        .order_by()
        .values("user")
        .annotate(count=Count("pk"))
        .values("count")
    )
    found = (
        Membership.objects.for_organization(membership.organization_id)
        .select_related("user", "organization")
        .prefetch_related(_grants_prefetch(membership))
        .annotate(
            folder_grant_count=Coalesce(Subquery(all_grants), 0),
            has_second_factor=account_selectors.has_second_factor("user_id"),
        )
        .order_by("user__name", "user__email")
    )
    search = (search or "").strip()
    if search:
        found = found.filter(Q(user__name__icontains=search) | Q(user__email__icontains=search))
    return found


def members_without_second_factor(membership: Membership) -> int:
    """Return how many members have no second factor (sent to enrolment if MFA is required)."""
    return (
        Membership.objects.for_organization(membership.organization_id)
        .annotate(has_second_factor=account_selectors.has_second_factor("user_id"))
        .filter(has_second_factor=False)
        .count()
    )


def get_member(membership: Membership, membership_id: uuid.UUID | str) -> Membership:
    """Return one member of the asker's organization, or NotFound."""
    member_uuid = _as_uuid(membership_id)
    member = members(membership).filter(pk=member_uuid).first() if member_uuid else None
    if member is None:
        raise NotFound("member_not_found", _("Member not found."))
    return member


def pending_invitations(membership: Membership) -> QuerySet[Invitation]:
    """Return the organization's invitations that can still be accepted, newest first."""
    return (
        Invitation.objects.for_organization(membership.organization_id)
        .filter(state=Invitation.State.PENDING, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .prefetch_related("folders")
        .order_by("-created_at")
    )


def get_pending_invitation(membership: Membership, invitation_id: uuid.UUID | str) -> Invitation:
    """Return one pending invitation of the asker's organization, or NotFound."""
    invitation_uuid = _as_uuid(invitation_id)
    invitation = (
        pending_invitations(membership).filter(pk=invitation_uuid).first()
        if invitation_uuid
        else None
    )
    if invitation is None:
        raise NotFound("invitation_not_found", _("Invitation not found."))
    return invitation


def explain_unusable_invitation(invitation: Invitation | None) -> None:
    """Raise the error that explains why an invitation cannot be used; return if it can."""
    if invitation is None or invitation.organization.is_archived:
        raise NotFound(
            "invitation_not_found",
            _("This invitation link is not valid. Ask for a new invitation."),
        )
    state = invitation.effective_state
    if state == Invitation.State.REVOKED:
        raise Invalid(
            "invitation_revoked",
            _("This invitation was withdrawn by the organization. Ask for a new invitation."),
        )
    if state == Invitation.State.ACCEPTED:
        raise Invalid(
            "invitation_used",
            _("This invitation has already been used. Each invitation link works once."),
        )
    if state == Invitation.State.EXPIRED:
        raise Invalid(
            "invitation_expired",
            _("This invitation has expired (links are valid for 7 days). Ask for a new one."),
        )
    # The sender's standing now, not when they sent it: an invitation is no way back in for
    # someone removed or demoted meanwhile, nor past a policy switched back to viewer-only.
    inviter = inviting_memberships(invitation.organization, [invitation]).get(
        invitation.invited_by_id
    )
    if inviter is None:
        raise Invalid(
            "invitation_inviter_gone",
            _(
                "This invitation can no longer be used: the person who sent it is no longer a "
                "member of %(organization)s. Ask for a new invitation."
            )
            % {"organization": invitation.organization.name},
        )
    if not access.can_invite_role(inviter, invitation.organization, invitation.role):
        raise Invalid(
            "invitation_not_allowed",
            _(
                "This invitation can no longer be used: %(organization)s no longer allows it "
                "(the role it offers, or the rights of the person who sent it, changed). Ask "
                "for a new invitation."
            )
            % {"organization": invitation.organization.name},
        )


def inviting_memberships(
    organization: Organization, invitations: Iterable[Invitation]
) -> dict[Any, Membership]:
    """Return the current memberships of the invitations' senders, by user id (one query).

    Each membership carries `organization` as given, so its policy is read as the caller
    loaded (and perhaps locked) it.
    """
    user_ids = {invitation.invited_by_id for invitation in invitations} - {None}
    if not user_ids:
        return {}
    inviters = Membership.objects.for_organization(organization).filter(user_id__in=user_ids)
    found = {}
    for inviter in inviters:
        inviter.organization = organization
        found[inviter.user_id] = inviter
    return found


def membership_from_invitation(user: User, raw_token: str) -> Membership | None:
    """Return the membership the person got by accepting this invitation link, if they did."""
    if not getattr(user, "is_authenticated", False):
        return None
    invitation = (
        Invitation.objects.filter(
            token_hash=hash_secret(raw_token or ""),
            state=Invitation.State.ACCEPTED,
            accepted_by=user,
        )
        .only("organization_id")
        .first()
    )
    if invitation is None:
        return None
    return (
        Membership.objects.filter(organization_id=invitation.organization_id, user=user)
        .filter(organization__archived_at__isnull=True)
        .first()
    )


def get_pending_invitation_by_token(raw_token: str) -> Invitation:
    """Return the invitation behind an e-mailed link, or explain why it cannot be used.

    NotFound for an unknown link or an archived organization; Invalid (codes
    `invitation_revoked`, `invitation_used`, `invitation_expired`) otherwise.
    """
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .prefetch_related("folders")
        .filter(token_hash=hash_secret(raw_token or ""))
        .first()
    )
    explain_unusable_invitation(invitation)
    return invitation


def audit_events(
    membership: Membership,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Return the organization's audit events, newest first, for members who may see them.

    `actor` is a person's whole e-mail address (their events, also through their API tokens),
    "support" (shell commands), or else part of the actor's name (token prefix, a domain).
    `action` is an exact action, a group (`"member"` or `"member."`) or a prefix ending in ".".
    """
    if not access.can(membership, Action.AUDIT_VIEW):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.for_organization(membership.organization_id)
    if actor:
        actor = actor.strip()
        if actor == audit.SUPPORT:
            events = events.filter(actor_label=audit.SUPPORT)
        elif _is_email(actor):
            # Not a substring: "bob@example.com" must not also find "jimbob@example.com".
            events = events.filter(
                Q(actor_label__iexact=actor) | Q(actor_label__istartswith=f"{actor} (API token ")
            )
        else:
            events = events.filter(actor_label__icontains=actor)
    if action:
        action = action.strip()
        if action.endswith("."):
            events = events.filter(action__startswith=action)
        else:
            events = events.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    return events.order_by("-sequence")


def audit_event_types(membership: Membership) -> list[str]:
    """Return the actions that occur in the organization's audit log (for its filter)."""
    if not access.can(membership, Action.AUDIT_VIEW):
        return []
    return list(
        AuditEvent.objects.for_organization(membership.organization_id)
        .order_by()
        .values_list("action", flat=True)
        .distinct()
    )


def visible_folder_names(membership: Membership, folder_ids: Iterable[Any]) -> dict[str, str]:
    """Return id → name of those of the folders the member may see (one query)."""
    wanted = [folder_uuid for folder_uuid in map(_as_uuid, folder_ids) if folder_uuid]
    if not wanted:
        return {}
    rows = access.visible_folders(membership).filter(pk__in=wanted).values_list("pk", "name")
    return {str(folder_id): name for folder_id, name in rows}


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def api_tokens(membership: Membership) -> QuerySet[ApiToken]:
    """Return the member's own API tokens; members who manage tokens see all the organization's."""
    tokens = ApiToken.objects.for_organization(membership.organization_id).select_related(
        "membership__user"
    )
    if not access.can(membership, Action.TOKEN_MANAGE):
        tokens = tokens.filter(membership=membership)
    return tokens.order_by("-created_at")


def get_api_token(membership: Membership, token_id: uuid.UUID | str) -> ApiToken:
    """Return one API token the member may see, or NotFound."""
    token_uuid = _as_uuid(token_id)
    token = api_tokens(membership).filter(pk=token_uuid).first() if token_uuid else None
    if token is None:
        raise NotFound("api_token_not_found", _("API token not found."))
    return token


def _folder_content_relations():
    """Yield (model, field name) for every model filed into folders by a `folder` foreign key."""
    # include_hidden: a `folder` foreign key declared with related_name="+" still counts.
    for relation in Folder._meta.get_fields(include_hidden=True):
        model = relation.related_model
        if (
            relation.auto_created
            and relation.one_to_many
            and relation.field.name == "folder"
            and not model._meta.auto_created  # the invitation ↔ folder link table
            and model not in (FolderUserObjectPermission, FolderGroupObjectPermission)
        ):
            yield model, relation.field.name


def count_folder_contents(folder: Folder) -> dict[str, int]:
    """Return how many rows of other models live in this folder, by model label.

    The hook that keeps a folder with devices (or anything else later apps file into folders)
    from being deleted: every model with a foreign key named `folder` to Folder counts, without
    this app importing those apps. Grant tables are not contents.
    """
    counts: dict[str, int] = {}
    for model, field_name in _folder_content_relations():
        count = model._default_manager.filter(**{field_name: folder}).count()
        if count:
            counts[model._meta.label_lower] = count
    return counts


def folders_holding_contents(membership: Membership) -> set[uuid.UUID]:
    """Return the ids of the visible folders that hold devices (or other contents).

    One query per content model, for the folder tree's "…" menus (see `count_folder_contents`).
    """
    holding: set[uuid.UUID] = set()
    visible = access.visible_folders(membership).values("pk")
    for model, field_name in _folder_content_relations():
        holding.update(
            model._default_manager.filter(**{f"{field_name}__in": visible})
            .values_list(f"{field_name}_id", flat=True)
            .distinct()
        )
    return holding


def folder_deletion_refusal(folder: Folder) -> Conflict | None:
    """Return why this folder cannot be deleted (subfolders, or contents), or None if it can.

    The delete service raises it; the delete page shows it before the risk box is ticked.
    """
    if folder.children.exists():
        return Conflict(
            "folder_has_subfolders",
            _("“%(name)s” has subfolders. Move or delete them first.") % {"name": folder.name},
        )
    contents = count_folder_contents(folder)
    if contents:
        return Conflict(
            "folder_has_devices",
            _("“%(name)s” still holds devices. Move or remove them first.") % {"name": folder.name},
            {"contents": contents},
        )
    return None


def count_organization_contents(organization: Organization) -> dict[str, int]:
    """Return how many rows of other models live in the organization's folders, by label.

    One query per content model (see `count_folder_contents`), e.g. to warn before archiving.
    """
    counts: dict[str, int] = {}
    for model, field_name in _folder_content_relations():
        count = model._default_manager.filter(
            **{f"{field_name}__organization_id": organization.pk}
        ).count()
        if count:
            counts[model._meta.label_lower] = count
    return counts


def organization_for_support(organization_id: uuid.UUID | str) -> Organization:
    """Return any organization by ID for support commands, or NotFound (no membership needed)."""
    organization_uuid = _as_uuid(organization_id)
    organization = (
        Organization.objects.filter(pk=organization_uuid).first() if organization_uuid else None
    )
    if organization is None:
        raise NotFound(
            "organization_not_found",
            _("No organization has the ID %(id)s.") % {"id": organization_id},
        )
    return organization
