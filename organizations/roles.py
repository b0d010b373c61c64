"""Roles as sets of actions, from PRODUCT.md §3; each role builds on the one below."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")


class Action(models.TextChoices):
    """Everything a member may be allowed to do, named after the product."""

    ORGANIZATION_VIEW = "organization.view", _("See the organization")
    MEMBER_LIST = "member.list", _("See the member list and roles")
    DEVICE_VIEW = "device.view", _("See devices and live video")
    DEVICE_CONTROL = "device.control", _("Control devices (restart, PTZ)")
    RECORDING_PLAY = "recording.play", _("Play back recordings")
    SERVER_MONITOR = "server.monitor", _("Monitor camera-station servers")
    MEMBER_INVITE = "member.invite", _("Invite members")
    MEMBER_CHANGE = "member.change", _("Change roles and folder access")
    MEMBER_REMOVE = "member.remove", _("Remove members")
    DEVICE_MANAGE = "device.manage", _("Onboard and remove devices, manage device accounts")
    UPGRADE_MANAGE = "upgrade.manage", _("Device software upgrades and schedules")
    SERVER_UPGRADE = "server.upgrade", _("Upgrade camera-station servers")
    LICENSE_MANAGE = "license.manage", _("Redeem, allocate and transfer licenses")
    FOLDER_MANAGE = "folder.manage", _("Create, rename, move and delete folders")
    ORGANIZATION_CHANGE = "organization.change", _("Rename the organization, change settings")
    TOKEN_MANAGE = "token.manage", _("Manage API tokens of other members")
    AUDIT_VIEW = "audit.view", _("See the activity log")
    ORGANIZATION_ARCHIVE = "organization.archive", _("Archive the organization")
    OWNER_GRANT = "owner.grant", _("Make or demote owners")


_VIEWER = frozenset({Action.ORGANIZATION_VIEW, Action.MEMBER_LIST, Action.DEVICE_VIEW})
_OPERATOR = _VIEWER | {Action.DEVICE_CONTROL, Action.RECORDING_PLAY, Action.SERVER_MONITOR}
_ADMIN = _OPERATOR | {
    Action.MEMBER_INVITE,
    Action.MEMBER_CHANGE,
    Action.MEMBER_REMOVE,
    Action.DEVICE_MANAGE,
    Action.UPGRADE_MANAGE,
    Action.SERVER_UPGRADE,
    Action.LICENSE_MANAGE,
    Action.FOLDER_MANAGE,
    Action.ORGANIZATION_CHANGE,
    Action.TOKEN_MANAGE,
    Action.AUDIT_VIEW,
}
_OWNER = _ADMIN | {Action.ORGANIZATION_ARCHIVE, Action.OWNER_GRANT}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: _VIEWER,
    Role.OPERATOR: _OPERATOR,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

# Roles that see every folder; the others see only the folders granted to them (and need some).
ALL_FOLDERS_ROLES = frozenset({Role.OWNER, Role.ADMIN})

# Rank for "nobody grants a role above their own".
ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.OWNER: 3}

# Actions that operators hold only inside their granted folders.
FOLDER_SCOPED_ACTIONS = frozenset(
    {Action.DEVICE_VIEW, Action.DEVICE_CONTROL, Action.RECORDING_PLAY}
)
