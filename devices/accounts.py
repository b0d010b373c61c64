"""A device's own local accounts (pwdgrp.cgi): list, create, change a password, delete (admin+).

Each entry point takes the acting member (`actor=`) and the device, checks
`Action.DEVICE_MANAGE` on it, checks what the device would refuse before sending anything
(`devices.vapix.rules`, the device's passphrase policy), then talks to the device through
`connection.open_client` — outside any transaction — and writes the audit event in a short
transaction afterwards (before → after, never a password). What the device refuses comes back
with its own words (`AccountRefused`, through `connection.device_error`).

Accounts in use are protected, in this module and not only in the page: the account the service
signs in with (`device.username`), and the account of each installed ACAP application. VAPIX
has no field that links an application to an account (applications/list.cgi gives the package
`Name`, a display name, vendor, version, status and licence only), so the rule is ours [G]: an
application uses the local account named after its package name — without the characters an
account name cannot hold and cut to an account name's 14 characters, compared without case
(`recorderagent` → account `recorderagent`). Such accounts are marked "used by …" and can be
neither changed nor deleted here.

Audit actions: device.account_create, device.account_password, device.account_delete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, Invalid, NotFound
from devices import connection, selectors
from devices.errors import DeviceRefusedAction
from devices.models import Device
from devices.vapix import (
    ApiNotSupported,
    Application,
    DeviceRefused,
    DeviceRole,
    DeviceUser,
    InvalidArgument,
    TextErrorCode,
    VapixClient,
    VapixError,
)
from devices.vapix import rules as device_rules
from organizations import access, audit
from organizations.models import Membership
from organizations.roles import Action

ACCOUNT_EVENT_TYPES = {
    "device.account_create": _("Device account created"),
    "device.account_password": _("Device account password changed"),
    "device.account_delete": _("Device account deleted"),
}

NAME_MAX_LENGTH = 14
PASSWORD_MAX_LENGTH = device_rules.MAX_PASSWORD_LENGTH
ROLE_LABELS = {
    DeviceRole.VIEWER: _("Viewer"),
    DeviceRole.OPERATOR: _("Operator"),
    DeviceRole.ADMIN: _("Administrator"),
}
# What the device calls its passphrase policies (systemready 1.5, VAPIX.md §9.5), in words.
POLICY_HINTS = {
    "length": _("This device's passphrase policy asks for at least 15 characters."),
    "complex": _(
        "This device's passphrase policy asks for at least 12 characters with upper- and "
        "lower-case letters, a digit and a special character."
    ),
}
_NOT_IN_ACCOUNT_NAMES = re.compile(r"[^A-Za-z0-9]")


class AccountRefused(DeviceRefusedAction):
    """The device refused an account change (its own words in the message): the request's
    fault, not the device's, so 409 rather than the 502 of other device failures."""

    http_status = 409


@dataclass(frozen=True)
class AccountUse:
    """Who uses an account: the service itself, or an installed application."""

    kind: str  # "service" or "application"
    label: str | Promise

    def __str__(self) -> str:
        return str(self.label)


@dataclass(frozen=True)
class DeviceAccount:
    """One local account of the device, with who uses it (an account in use is protected)."""

    name: str
    role: DeviceRole | None
    ptz: bool
    used_by: tuple[AccountUse, ...] = ()

    @property
    def is_protected(self) -> bool:
        return bool(self.used_by)

    @property
    def is_manageable(self) -> bool:
        """Whether it may be changed here: nobody uses it, and its name is one the device's
        rules allow (a device can list anything; such a name is shown, never sent back)."""
        return not self.is_protected and bool(device_rules.USER_NAME.fullmatch(self.name))

    @property
    def role_label(self) -> str | Promise:
        return ROLE_LABELS[self.role] if self.role else _("No role")

    @property
    def used_by_text(self) -> str:
        return ", ".join(str(use) for use in self.used_by)


@dataclass(frozen=True)
class DeviceAccounts:
    """What the accounts page shows: the accounts and the applications that were looked at."""

    accounts: list[DeviceAccount]
    applications: list[Application] = field(default_factory=list)
    passphrase_policy: str | None = None

    @property
    def policy_hint(self) -> str | Promise:
        return POLICY_HINTS.get(self.passphrase_policy or "", "")


def application_account_name(application: Application) -> str:
    """Return the (lower-case) account name an application uses, by the rule in the docstring."""
    return _NOT_IN_ACCOUNT_NAMES.sub("", application.name)[:NAME_MAX_LENGTH].lower()


def account_uses(
    name: str, *, device: Device, applications: list[Application]
) -> tuple[AccountUse, ...]:
    """Return who uses the account `name` of `device`: the service, applications, or nobody."""
    uses = []
    if name == device.username:
        uses.append(AccountUse("service", _("this service (camfleet signs in with it)")))
    for application in applications:
        if application.name and application_account_name(application) == name.lower():
            label = application.nice_name or application.name
            uses.append(AccountUse("application", _("application %(name)s") % {"name": label}))
    return tuple(uses)


# --- Checks made before anything is sent --------------------------------------------------------


def validate_name(name: str) -> str:
    """Return the account name, or raise Invalid when the device would refuse it."""
    if not device_rules.USER_NAME.fullmatch(name or ""):
        message = _(
            "An account name is 1 to %(max)d letters (A to Z, a to z) and digits, with no "
            "spaces or other characters."
        ) % {"max": NAME_MAX_LENGTH}
        raise Invalid("invalid_account_name", message, {"name": [message]})
    return name


def validate_role(role: str) -> DeviceRole:
    """Return the role, or raise Invalid when it is not viewer, operator or admin."""
    try:
        return DeviceRole(role)
    except ValueError:
        message = _("The role must be viewer, operator or admin.")
        raise Invalid("invalid_role", message, {"role": [message]}) from None


def validate_password(password: str, *, policy: str | None = None) -> str:
    """Return the password, or raise Invalid (field `password`) when the device would refuse it.

    The same rules as `devices.vapix.rules.validate_password`, said in the person's language.
    """
    if not 1 <= len(password or "") <= PASSWORD_MAX_LENGTH:
        message = _("A password is 1 to %(max)d characters.") % {"max": PASSWORD_MAX_LENGTH}
    elif any(not 0x20 <= ord(character) <= 0x7E for character in password):
        message = _(
            "A password uses only printable ASCII characters: letters A to Z and a to z, digits, "
            "spaces and punctuation."
        )
    else:
        try:
            device_rules.validate_password(password, policy=policy)
        except InvalidArgument:
            message = POLICY_HINTS.get(policy or "", _("The device would refuse this password."))
        else:
            return password
    raise Invalid("invalid_password", message, {"password": [message]})


# --- Talking to the device ----------------------------------------------------------------------


def _refusal(error: VapixError) -> Exception:
    """Return the domain error for what the client raised while changing accounts."""
    if isinstance(error, InvalidArgument):
        # The client's own lock-out rules (VAPIX.md §9.2), checked here first; this is the net.
        return Conflict("account_protected", _("The device's rules do not allow this change."))
    domain_error = connection.device_error(error)
    if not isinstance(error, DeviceRefused):
        return domain_error
    fields = {}
    message = domain_error.message
    if error.code == TextErrorCode.INVALID_PASSWORD:
        hint = _(
            "Newer devices may have a passphrase policy asking for a longer or more complex "
            "password."
        )
        message = f"{message} {hint}"
        fields = {"password": [message]}
    elif error.code in (TextErrorCode.USER_EXISTS, TextErrorCode.INVALID_USER):
        fields = {"name": [message]}
    return AccountRefused(message=message, fields=fields)


@contextmanager
def _device_client(device: Device) -> Iterator[VapixClient]:
    """Open the device's client; every VAPIX error inside becomes the matching domain error."""
    try:
        with connection.open_client(device) as client:
            yield client
    except VapixError as error:
        raise _refusal(error) from None


def _applications(client: VapixClient) -> list[Application]:
    try:
        return client.list_applications()
    except ApiNotSupported:
        return []  # firmware without the Application API has no applications


def _passphrase_policy(client: VapixClient) -> str | None:
    try:
        return client.system_ready().passphrase_policy
    except ApiNotSupported:
        return None  # legacy firmware: no systemready, no policy


def _as_account(user: DeviceUser, device: Device, applications: list[Application]) -> DeviceAccount:
    return DeviceAccount(
        name=user.name,
        role=user.role,
        ptz=user.ptz,
        used_by=account_uses(user.name, device=device, applications=applications),
    )


def _manageable_device(actor: Membership, device: Device) -> Device:
    """Return the device fresh from the database, if the actor sees it and manages devices."""
    device = selectors.get_visible_device(actor, device.pk)
    access.require(actor, Action.DEVICE_MANAGE, device)
    return device


def find_account(accounts: list[DeviceAccount], name: str) -> DeviceAccount:
    """Return the account called `name`; NotFound when the device has none."""
    for account in accounts:
        if account.name == name:
            return account
    raise NotFound("account_not_found", _("The device has no account “%(name)s”.") % {"name": name})


def refuse_if_used(account: DeviceAccount) -> None:
    """Raise Conflict when the service or an installed application uses the account."""
    if account.is_protected:
        raise Conflict(
            "account_in_use",
            _("The account “%(name)s” is used by %(users)s; it cannot be changed or deleted here.")
            % {"name": account.name, "users": account.used_by_text},
        )


def _root_is_permanent(device: Device) -> bool:
    """Return whether the stored firmware keeps root forever (unknown: the client checks)."""
    try:
        return bool(device.firmware_version) and device_rules.root_is_permanent(
            device.firmware_version
        )
    except ValueError:
        return False


def _role_state(account: DeviceAccount | DeviceUser | None) -> dict | None:
    if account is None:
        return None
    return {"role": account.role.value if account.role else None, "ptz": account.ptz}


# The device has changed by the time this runs: device I/O stays outside transactions, so the
# audit event follows the device's answer in a transaction of its own.
@transaction.atomic(durable=True)
def _audit(actor: Membership, device: Device, action: str, data: dict) -> None:
    audit.record(actor, device.organization, action, device, data)


# --- Entry points -------------------------------------------------------------------------------


def list_accounts(*, actor: Membership, device: Device) -> DeviceAccounts:
    """Return the device's accounts, each marked with who uses it (admin+)."""
    device = _manageable_device(actor, device)
    with _device_client(device) as client:
        users = client.list_users()
        applications = _applications(client)
        policy = _passphrase_policy(client)
    return DeviceAccounts(
        accounts=[_as_account(user, device, applications) for user in users],
        applications=applications,
        passphrase_policy=policy,
    )


def create_account(
    *,
    actor: Membership,
    device: Device,
    name: str,
    password: str,
    role: str,
    ptz: bool = False,
) -> DeviceAccount:
    """Create an account on the device and return it as the device lists it afterwards."""
    device = _manageable_device(actor, device)
    name = validate_name(name)
    device_role = validate_role(role)
    validate_password(password)
    with _device_client(device) as client:
        validate_password(password, policy=_passphrase_policy(client))
        user = client.add_user(name, password, device_role, ptz=ptz)
        applications = _applications(client)
    _audit(
        actor,
        device,
        "device.account_create",
        {"account": name, "before": None, "after": _role_state(user)},
    )
    return _as_account(user, device, applications)


def change_password(
    *, actor: Membership, device: Device, name: str, password: str
) -> DeviceAccount:
    """Set a new password for an account that nobody else uses; return the account."""
    device = _manageable_device(actor, device)
    name = validate_name(name)
    validate_password(password)
    with _device_client(device) as client:
        applications = _applications(client)
        account = find_account(
            [_as_account(u, device, applications) for u in client.list_users()], name
        )
        refuse_if_used(account)
        validate_password(password, policy=_passphrase_policy(client))
        client.change_password(name, password)
    # The password itself never reaches the log: only that it changed.
    _audit(
        actor,
        device,
        "device.account_password",
        {"account": name, "password": {"before": "set", "after": "changed"}},
    )
    return account


def delete_account(*, actor: Membership, device: Device, name: str) -> None:
    """Delete an account that nobody uses and that is not the device's last administrator."""
    device = _manageable_device(actor, device)
    name = validate_name(name)
    with _device_client(device) as client:
        applications = _applications(client)
        accounts = [_as_account(u, device, applications) for u in client.list_users()]
        account = find_account(accounts, name)
        refuse_if_used(account)
        if name == "root" and _root_is_permanent(device):
            raise Conflict(
                "account_permanent",
                _("Before AXIS OS 11.5 the account “root” is permanent: the device keeps it."),
            )
        admins = [a.name for a in accounts if a.role == DeviceRole.ADMIN]
        if admins == [name]:
            raise Conflict(
                "last_device_admin",
                _(
                    "“%(name)s” is the device's last administrator account; create another "
                    "administrator first."
                )
                % {"name": name},
            )
        client.remove_user(name)
    _audit(
        actor,
        device,
        "device.account_delete",
        {"account": name, "before": _role_state(account), "after": None},
    )
