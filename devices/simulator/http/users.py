"""Local accounts: ``pwdgrp.cgi`` (add, update, remove, get) and ``usergroup.cgi`` (VAPIX.md §9)."""

from __future__ import annotations

import re

from aiohttp import web

from devices.simulator.camera import Camera, User
from devices.simulator.catalog import parse_version

from .authentication import require
from .bodies import form_args
from .replies import html_body_page, text_response

_USER_RE = re.compile(r"^[A-Za-z0-9]{1,14}$")
_ROLE_COMBOS = {
    frozenset(("viewer",)),
    frozenset(("viewer", "ptz")),
    frozenset(("operator", "viewer")),
    frozenset(("operator", "viewer", "ptz")),
    frozenset(("admin", "operator", "viewer")),
    frozenset(("admin", "operator", "viewer", "ptz")),
}
_ADMIN_ROLE = frozenset(("admin", "operator", "viewer", "ptz"))


def _password_error(camera: Camera, password: str | None, strict: bool) -> bool:
    """Return whether a password breaks the device's rules (VAPIX.md §9.1, §9.5)."""
    if not password or len(password) > 64:
        return True
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in password):
        return True
    if strict and any(ord(c) > 0x7E for c in password):
        return True
    policy = camera.knobs.passphrase_policy
    if policy == "length":
        return len(password) < 15
    if policy == "complex":
        return not (
            len(password) >= 12
            and any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(not c.isalnum() for c in password)
        )
    return False


def _pwdgrp_get(camera: Camera) -> str:
    """Return the ``action=get`` dump: secondary groups newest first, digusers in order."""
    users = list(camera.settings.users.values())
    newest_first = list(reversed(users))

    def members(group: str) -> str:
        return ",".join(u.name for u in newest_first if group in u.groups)

    lines = [
        f'root="{",".join(u.name for u in users if u.primary == "root")}"',
        'anonymous=""',
        f'users="{",".join(u.name for u in users if u.primary == "users")}"',
        f'admin="{members("admin")}"',
        f'operator="{members("operator")}"',
        f'viewer="{members("viewer")}"',
        f'ptz="{members("ptz")}"',
        f'digusers="{",".join(u.name for u in users)}"',
    ]
    return "\r\n".join(lines) + "\r\n"


async def handle_pwdgrp(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``pwdgrp.cgi`` with the device's rules and exact texts (VAPIX.md §9)."""
    args = dict(await form_args(request, camera))
    action = args.get("action")
    title = "User accounts"
    users = camera.settings.users
    if camera.needs_setup:
        if action != "add":
            return html_body_page(
                title, "Error: initial admin user must be created first.", status=401
            )
        name = args.get("user", "")
        groups = frozenset(g for g in args.get("sgrp", "").split(":") if g)
        must_be_root = camera.profile.first_admin_must_be_root
        valid = (
            _USER_RE.match(name) is not None
            and groups == _ADMIN_ROLE
            and (not must_be_root or (name == "root" and args.get("grp") == "root"))
            and (not must_be_root or not args.get("comment"))
        )
        if not valid:
            return html_body_page(title, "Error: not a valid initial admin user.", status=401)
        if _password_error(camera, args.get("pwd"), args.get("strict_pwd") == "1"):
            return html_body_page(title, "Error: invalid password.")
        primary = "root" if name == "root" else "users"
        users[name] = User(name, args["pwd"], groups, args.get("comment", ""), primary)
        camera.record("user-added", user=name, initial=True)
        return html_body_page(title, f"Created account {name}.")
    require(request, camera, "admin")
    if action == "get":
        return text_response(_pwdgrp_get(camera))
    if action not in ("add", "update", "remove"):
        return html_body_page(title, "Error: action operation type.")
    name = args.get("user", "")
    if not _USER_RE.match(name):
        return html_body_page(title, "Error: account user name.")
    strict = args.get("strict_pwd") == "1"
    sgrp = args.get("sgrp")
    groups = frozenset(g for g in (sgrp or "").split(":") if g)
    if action == "add":
        if name in users:
            return html_body_page(
                title, "Error: this user name already exists, consult the system log file."
            )
        if _password_error(camera, args.get("pwd"), strict):
            return html_body_page(title, "Error: invalid password.")
        if groups not in _ROLE_COMBOS or args.get("grp", "users") != "users":
            return html_body_page(title, "Error: consult the system log file.")
        users[name] = User(name, args["pwd"], groups, args.get("comment", ""))
        camera.record("user-added", user=name)
        return html_body_page(title, f"Created account {name}.")
    existing = users.get(name)
    if existing is None:
        return html_body_page(title, "Error: account user name.")
    if action == "remove":
        admins = [u for u in users.values() if u.level == "admin"]
        root_locked = name == "root" and camera.profile.first_admin_must_be_root
        if root_locked or (existing.level == "admin" and len(admins) == 1):
            return html_body_page(title, "Error: malformed action operation, remove.")
        del users[name]
        camera.record("user-removed", user=name)
        return html_body_page(title, f"Removed account {name}.")
    password = args.get("pwd")
    if password is not None and _password_error(camera, password, strict):
        return html_body_page(title, "Error: invalid password.")
    if sgrp is not None and groups not in _ROLE_COMBOS:
        return html_body_page(title, "Error: consult the system log file.")
    if name == "root" and sgrp is not None and groups != _ADMIN_ROLE:
        return html_body_page(title, "Error: malformed action operation, update.")
    users[name] = User(
        name,
        password if password is not None else existing.password,
        groups if sgrp is not None else existing.groups,
        args.get("comment", existing.comment),
        existing.primary,
    )
    camera.record("user-modified", user=name)
    return html_body_page(title, f"Modified account {name}.")


async def handle_usergroup(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``usergroup.cgi``: the account name, then its groups (VAPIX.md §9.3)."""
    user = require(request, camera, "viewer")
    order = ("admin", "operator", "viewer", "ptz")
    if parse_version(camera.active_version) < (10, 0, 0, 0):
        order = ("admin", "operator", "ptz", "viewer")
    groups = [g for g in order if g in user.groups]
    # AXIS OS 12 lists no primary group for root (recorded P3265-V); others lead with it.
    if not (user.primary == "root" and parse_version(camera.active_version) >= (10, 0, 0, 0)):
        groups.insert(0, user.primary)
    return text_response(f"{user.name}\n{' '.join(groups)}\n")
