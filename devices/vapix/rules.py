"""The device's own rules for local accounts, checked before anything is sent (VAPIX.md §9)."""

from __future__ import annotations

import re

from devices.vapix.errors import InvalidArgument
from devices.vapix.models import DeviceRole, compare_versions

USER_NAME = re.compile(r"[A-Za-z0-9]{1,14}")
MAX_PASSWORD_LENGTH = 64
# Before AXIS OS 11.5 the first admin had to be "root", and root can never be removed.
ROOT_RULE_UNTIL = "11.5"


def validate_user_name(name: str) -> None:
    """Raise ``InvalidArgument`` unless ``name`` is 1 to 14 letters and digits."""
    if not USER_NAME.fullmatch(name):
        raise InvalidArgument("a user name is 1 to 14 letters A-Z, a-z and digits")


def validate_password(password: str, *, policy: str | None = None) -> None:
    """Raise ``InvalidArgument`` unless the device would accept ``password``.

    Always: 1 to 64 printable ASCII characters (``strict_pwd=1``). AXIS OS 12 passphrase policies
    (systemready ``passphrasepolicy``): ``length`` needs at least 15 characters; ``complex``
    needs at least 12 with an upper-case letter, a lower-case letter, a digit and a special
    character. Unknown policies only get the basic rule; the device has the last word.
    """
    if not 1 <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidArgument(f"a password is 1 to {MAX_PASSWORD_LENGTH} characters")
    if any(not 0x20 <= ord(character) <= 0x7E for character in password):
        raise InvalidArgument("a password uses printable ASCII characters only")
    if policy == "length" and len(password) < 15:
        raise InvalidArgument("the device's passphrase policy asks for at least 15 characters")
    if policy == "complex" and not (
        len(password) >= 12
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
        and any(not c.isalnum() for c in password)
    ):
        raise InvalidArgument(
            "the device's passphrase policy asks for 12 characters with upper and lower case, "
            "a digit and a special character"
        )


def secondary_groups(role: DeviceRole, *, ptz: bool) -> str:
    """Return the ``sgrp`` value for a role, e.g. ``admin:operator:viewer:ptz``."""
    groups = list(role.groups)
    if ptz:
        groups.append("ptz")
    return ":".join(groups)


def root_is_permanent(firmware_version: str) -> bool:
    """Return whether the account ``root`` cannot be removed on this firmware (< 11.5)."""
    return compare_versions(firmware_version, ROOT_RULE_UNTIL) < 0
