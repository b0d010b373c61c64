"""What an audit event changed, in words: for the activity page and its CSV export.

Services store before and after values in the event's data (so the hash chain covers them);
this module only reads them. Older events, which stored only new values or `True`, still read.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import AuditEvent
from organizations.roles import Role

# Notes may be long; the page shows their start, the event keeps them whole.
NOTES_SHOWN = 80

_FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "notes": gettext_lazy("Notes"),
    "time_zone": gettext_lazy("Time zone"),
    "role": gettext_lazy("Role"),
    "requires_mfa": gettext_lazy("Require MFA"),
    "allow_elevated_invitations": gettext_lazy("Operator and admin invitations"),
    "parent": gettext_lazy("Parent folder"),
    "folders": gettext_lazy("Folders"),
    "folders_granted": gettext_lazy("Folders granted"),
    "folders_revoked": gettext_lazy("Folders revoked"),
    "expires_on": gettext_lazy("Expires on"),
    "reason": gettext_lazy("Reason"),
}


@dataclass(frozen=True)
class Change:
    """One changed field: before → after; `before` is None when only the new value is known."""

    field: str
    after: str
    before: str | None = None

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.field}: {self.after}"
        return f"{self.field}: {self.before} → {self.after}"


def referenced_folder_ids(events: Iterable[AuditEvent]) -> set[str]:
    """Return the ids of the folders the events name, to look their visibility up at once."""
    ids: set[str] = set()
    for event in events:
        data = event.data or {}
        if event.action == "organization.create":
            continue  # its "folders" are names
        for key in ("parent", "from_parent", "to_parent"):
            if isinstance(data.get(key), str):
                ids.add(data[key])
        for key in ("folders", "folders_granted", "folders_revoked"):
            if isinstance(data.get(key), list):
                ids.update(str(folder_id) for folder_id in data[key])
    return ids


class FolderNames:
    """Names folders by id for one reader: names they may see, a placeholder for the rest."""

    def __init__(self, *, visible: Mapping[str, str], sees_all: bool) -> None:
        # visible: id → current name of the referenced folders the reader may see.
        self.visible = visible
        self.sees_all = sees_all

    def name(self, folder_id: str, stored: Mapping[str, Any]) -> str:
        """Return the folder's name as the event stored it (else as it is now), if visible."""
        if folder_id in self.visible:
            return str(stored.get(folder_id) or self.visible[folder_id])
        if self.sees_all:
            # Not visible to someone who sees every folder: deleted since.
            return str(stored.get(folder_id) or _("a deleted folder"))
        return _("a folder not visible to you")

    def names(self, folder_ids: Iterable[Any], stored: Mapping[str, Any]) -> str:
        return ", ".join(self.name(str(folder_id), stored) for folder_id in folder_ids) or "—"


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if key == "role" and value in Role.values:
        return str(Role(value).label)
    if key == "time_zone":
        return str(value) if value else _("inherited")
    if key == "notes":
        return Truncator(str(value)).chars(NOTES_SHOWN) if value else "—"
    return str(value) if value not in (None, "") else "—"


def _label(key: str) -> str:
    return str(_FIELD_LABELS.get(key, key))


def describe_changes(event: AuditEvent, folder_names: FolderNames) -> list[Change]:
    """Return what the event changed, field by field, in the active language."""
    data = event.data or {}
    stored_names = data.get("folder_names") or {}
    changes: list[Change] = []
    for key in ("name", "notes", "time_zone", "role", "requires_mfa", "allow_elevated_invitations"):
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, dict) and "to" in value:
            if value.get("from") != value["to"]:
                before, after = _value(key, value.get("from")), _value(key, value["to"])
                changes.append(Change(_label(key), after, before))
        elif key == "notes" and value is True:
            changes.append(Change(_label(key), _("changed")))  # older events kept no values
        else:
            changes.append(Change(_label(key), _value(key, value)))
    if "from_parent" in data and "to_parent" in data:
        changes.append(
            Change(
                _label("parent"),
                folder_names.name(str(data["to_parent"]), stored_names),
                folder_names.name(str(data["from_parent"]), stored_names),
            )
        )
    elif isinstance(data.get("parent"), str):
        changes.append(Change(_label("parent"), folder_names.name(data["parent"], stored_names)))
    for key in ("folders", "folders_granted", "folders_revoked"):
        if not data.get(key):
            continue
        if event.action == "organization.create":
            # The first folders, by the names they were created with.
            changes.append(Change(_label(key), ", ".join(map(str, data[key]))))
        else:
            changes.append(Change(_label(key), folder_names.names(data[key], stored_names)))
    for key in ("expires_on", "reason"):
        if data.get(key):
            changes.append(Change(_label(key), str(data[key])))
    return changes
