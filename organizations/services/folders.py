"""Create, rename, move and delete folders of the tree."""

import uuid
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid
from organizations import access, audit, selectors
from organizations.models import Folder, Membership, Organization
from organizations.roles import Action
from organizations.services.locks import lock_organization
from organizations.services.validation import (
    check_folder_name_free,
    clean_folder_name,
    clean_time_zone,
)

MAX_FOLDER_DEPTH = 40


def insert_folder(
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
def create_folder(*, actor: Membership, parent_id: UUID, name: str, time_zone: str = "") -> Folder:
    """Create a folder under a visible parent; names are unique among siblings."""
    access.require(actor, Action.FOLDER_MANAGE)
    organization = lock_organization(actor.organization_id)
    parent = selectors.get_visible_folder(actor, parent_id)
    name = clean_folder_name(name)
    time_zone = clean_time_zone(time_zone)
    if parent.depth + 1 > MAX_FOLDER_DEPTH:
        raise Invalid(
            "folder_too_deep",
            _("Folders can be nested at most %(depth)d levels deep.") % {"depth": MAX_FOLDER_DEPTH},
        )
    check_folder_name_free(parent, name)
    folder = insert_folder(organization=organization, parent=parent, name=name, time_zone=time_zone)
    audit.record(
        actor,
        organization,
        "folder.create",
        folder,
        {
            "parent": str(parent.pk),
            "name": name,
            "time_zone": time_zone,
            "folder_names": {str(parent.pk): parent.name},
        },
    )
    return folder


@transaction.atomic(durable=True)
def rename_folder(
    *, actor: Membership, folder_id: UUID, name: str | None = None, time_zone: str | None = None
) -> Folder:
    """Rename a folder and set its time zone ("" inherits); None leaves a field as it is.

    The folder is read after the organization's lock, so fields not given keep the value a
    concurrent edit left them with.
    """
    access.require(actor, Action.FOLDER_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = selectors.get_visible_folder(actor, folder_id)
    changes: dict[str, Any] = {}
    if name is not None and (name := clean_folder_name(name)) != folder.name:
        if folder.parent_id is not None:
            check_folder_name_free(folder.parent, name, exclude=folder)
        changes["name"] = {"from": folder.name, "to": name}
        folder.name = name
    # A zone saved before the list of places was narrowed ("Japan") may stay as it is.
    if time_zone is not None and (time_zone or "").strip() != folder.time_zone:
        time_zone = clean_time_zone(time_zone)
        if time_zone != folder.time_zone:
            changes["time_zone"] = {"from": folder.time_zone, "to": time_zone}
            folder.time_zone = time_zone
    if not changes:
        return folder
    folder.save(update_fields=["name", "time_zone"])
    audit.record(actor, organization, "folder.update", folder, changes)
    return folder


@transaction.atomic(durable=True)
def move_folder(*, actor: Membership, folder_id: UUID, new_parent_id: UUID) -> Folder:
    """Move a folder and its subtree under another folder, never into its own subtree.

    The organization row is locked, so concurrent moves cannot build a cycle; the subtree's
    paths and depths are rewritten in one UPDATE.
    """
    access.require(actor, Action.FOLDER_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = selectors.get_visible_folder(actor, folder_id)
    new_parent = selectors.get_visible_folder(actor, new_parent_id)
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
    check_folder_name_free(new_parent, folder.name, exclude=folder)
    old_parent, old_path = folder.parent, folder.path
    new_path = f"{new_parent.path}{folder.pk}/"
    depth_change = new_parent.depth + 1 - folder.depth
    Folder.objects.filter(pk=folder.pk).update(parent=new_parent)
    Folder.objects.for_organization(organization).filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    folder.refresh_from_db()
    audit.record(
        actor,
        organization,
        "folder.move",
        folder,
        {
            "from_parent": str(old_parent.pk),
            "to_parent": str(new_parent.pk),
            "folder_names": {
                str(old_parent.pk): old_parent.name,
                str(new_parent.pk): new_parent.name,
            },
        },
    )
    return folder


@transaction.atomic(durable=True)
def delete_folder(*, actor: Membership, folder_id: UUID, understood: bool) -> None:
    """Delete an empty folder (no subfolders, no devices) after the risk box; never the top."""
    access.require(actor, Action.FOLDER_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = selectors.get_visible_folder(actor, folder_id)
    if folder.parent_id is None:
        raise Invalid("top_folder", _("The top folder cannot be deleted."))
    if not understood:
        message = _("Tick “I understand the risks” to delete the folder.")
        raise Invalid("risk_not_acknowledged", message, {"understood": [message]})
    if refusal := selectors.folder_deletion_refusal(folder):
        raise refusal
    audit.record(
        actor,
        organization,
        "folder.delete",
        folder,
        {
            "name": folder.name,
            "parent": str(folder.parent_id),
            "folder_names": {str(folder.parent_id): folder.parent.name},
        },
    )
    folder.delete()
