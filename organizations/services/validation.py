"""Input rules shared by the organization services; each raises a domain error a person can read."""

from collections.abc import Iterable
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, Invalid
from common.text import refuse_control_characters
from common.time_zones import place_time_zones
from organizations import access, selectors
from organizations.models import Folder, Membership
from organizations.roles import ALL_FOLDERS_ROLES, Role


def clean_name(name: str, *, field_name: str = "name", max_length: int = 120) -> str:
    """Return the name stripped, or raise Invalid: empty, too long, or with control characters."""
    name = (name or "").strip()
    if not name:
        raise Invalid("name_required", _("Enter a name."), {field_name: [_("Enter a name.")]})
    refuse_control_characters(name, field_name=field_name)
    if len(name) > max_length:
        message = _("Use at most %(count)d characters.") % {"count": max_length}
        raise Invalid("name_too_long", message, {field_name: [message]})
    return name


def clean_folder_name(name: str, *, field_name: str = "name") -> str:
    # The rule of organization names: the top folder is named after its organization, so a
    # stricter folder rule ("Nordic A/S") would leave a top folder that can never be saved again.
    # Paths are made of ids, so "/" in a name is harmless.
    return clean_name(name, field_name=field_name)


def clean_notes(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > 2000:
        message = _("Use at most %(count)d characters.") % {"count": 2000}
        raise Invalid("notes_too_long", message, {"notes": [message]})
    return notes


def clean_time_zone(time_zone: str) -> str:
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in place_time_zones():
        message = _("“%(zone)s” is not a known time zone.") % {"zone": time_zone}
        raise Invalid("time_zone_unknown", message, {"time_zone": [message]})
    return time_zone


def clean_role(role: str) -> Role:
    if role not in Role.values:
        message = _("Choose one of the roles: owner, admin, operator, viewer.")
        raise Invalid("role_unknown", message, {"role": [message]})
    return Role(role)


def folders_for_grants(membership: Membership, folder_ids: Iterable[UUID | str]) -> list[Folder]:
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


def check_folder_name_free(parent: Folder, name: str, *, exclude: Folder | None = None) -> None:
    # Case-insensitive: "Site A" and "site a" side by side would be told apart by nobody.
    siblings = Folder.objects.filter(parent=parent, name__iexact=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        message = _("A folder named “%(name)s” already exists here.") % {"name": name}
        raise Conflict("folder_name_taken", message, {"name": [message]})


def require_folders_for_role(role: Role, folders: list[Folder]) -> None:
    """Refuse an operator or viewer without folders: they would see nothing at all."""
    if role not in ALL_FOLDERS_ROLES and not folders:
        message = _("Choose at least one folder for an operator or viewer.")
        raise Invalid("folders_required", message, {"folder_ids": [message]})
