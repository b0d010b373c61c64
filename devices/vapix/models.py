"""Typed results of VAPIX calls: small frozen dataclasses, no behaviour beyond derived values."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


def parse_version(text: str) -> tuple[int, ...]:
    """Return a dotted version ("12.11.77", "1.10", "8.45.4.5") as an integer tuple.

    Components that are not plain numbers end the tuple, so "1.0-beta" compares as (1,).
    """
    parts: list[int] = []
    for piece in text.strip().split("."):
        if not piece.isdecimal():
            break
        parts.append(int(piece))
    return tuple(parts)


def compare_versions(left: str, right: str) -> int:
    """Return -1, 0 or 1 comparing two dotted versions, padding the shorter one with zeros."""
    a, b = parse_version(left), parse_version(right)
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


@dataclass(frozen=True)
class ApiEntry:
    """One entry of apidiscovery's getApiList: an API id at one major version."""

    id: str
    version: str
    name: str
    doc_link: str = ""
    status: str | None = None

    @property
    def major(self) -> int:
        numbers = parse_version(self.version)
        return numbers[0] if numbers else 0


@dataclass(frozen=True)
class ApiList:
    """The APIs a device announces; the same id may appear once per major version."""

    entries: tuple[ApiEntry, ...]
    api_version: str | None = None

    def versions(self, api_id: str) -> list[str]:
        """Return every announced version of ``api_id``, highest first."""
        found = [entry.version for entry in self.entries if entry.id == api_id]
        return sorted(found, key=parse_version, reverse=True)

    def has(self, api_id: str, major: int | None = None) -> bool:
        """Return whether ``api_id`` is announced (at ``major`` when given)."""
        return any(
            entry.id == api_id and (major is None or entry.major == major) for entry in self.entries
        )


@dataclass(frozen=True)
class DeviceInfo:
    """Properties from basicdeviceinfo.cgi; restricted ones are None when not returned."""

    brand: str
    product_number: str
    product_full_name: str
    product_short_name: str
    product_type: str
    product_variant: str
    serial_number: str
    version: str
    hardware_id: str
    build_date: str
    web_url: str
    architecture: str | None = None
    soc: str | None = None
    soc_serial_number: str | None = None
    api_version: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SystemReady:
    """The answer of systemready.cgi; ``uptime``/``boot_id`` are absent before ~1.4."""

    is_ready: bool
    needs_setup: bool
    uptime: int | None = None
    boot_id: str | None = None
    preview_mode_seconds: int | None = None
    passphrase_policy: str | None = None
    api_version: str | None = None


@dataclass(frozen=True)
class FirmwareStatus:
    """The answer of firmwaremanagement.cgi ``status`` (VAPIX.md §6.2)."""

    active_version: str
    active_part: str
    inactive_version: str | None = None
    is_committed: bool | None = None
    pending_commit: str | None = None
    time_to_rollback: int | None = None
    last_upgrade_at: datetime | None = None
    reset_source: str | None = None
    api_version: str | None = None

    @property
    def is_uncommitted(self) -> bool:
        """Return whether the running image will roll back unless committed."""
        return self.is_committed is False

    @property
    def has_rollback_image(self) -> bool:
        return self.inactive_version is not None


@dataclass(frozen=True)
class UpgradeAccepted:
    """The device accepted an image and will reboot into ``firmware_version``."""

    firmware_version: str
    api_version: str | None = None


@dataclass(frozen=True)
class ParameterList:
    """param.cgi ``action=list``: values keyed without the ``root.`` prefix, plus error lines."""

    values: Mapping[str, str]
    errors: tuple[str, ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return a parameter by name, with or without ``root.``."""
        return self.values.get(name.removeprefix("root."), default)

    def group(self, prefix: str) -> dict[str, str]:
        """Return the parameters below ``prefix`` (e.g. ``"Brand"``), keys relative to it."""
        start = prefix.removeprefix("root.").rstrip(".") + "."
        return {
            name[len(start) :]: value
            for name, value in self.values.items()
            if name.startswith(start)
        }


class DeviceRole(enum.StrEnum):
    """The three access levels of a local account; ``ptz`` is a separate flag."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def groups(self) -> tuple[str, ...]:
        """Return the secondary groups for pwdgrp.cgi ``sgrp``, highest first."""
        return {
            DeviceRole.VIEWER: ("viewer",),
            DeviceRole.OPERATOR: ("operator", "viewer"),
            DeviceRole.ADMIN: ("admin", "operator", "viewer"),
        }[self]


@dataclass(frozen=True)
class DeviceUser:
    """One local account as pwdgrp.cgi ``action=get`` describes it."""

    name: str
    role: DeviceRole | None
    ptz: bool = False


@dataclass(frozen=True)
class WhoAmI:
    """usergroup.cgi: the account the client authenticates as and its groups."""

    name: str
    groups: tuple[str, ...]

    @property
    def role(self) -> DeviceRole | None:
        for role in (DeviceRole.ADMIN, DeviceRole.OPERATOR, DeviceRole.VIEWER):
            if role.value in self.groups:
                return role
        return None


@dataclass(frozen=True)
class MjpegFrame:
    """One JPEG of a multipart/x-mixed-replace stream with its part headers."""

    jpeg: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PtzPreset:
    """A server-side PTZ preset position of one camera (video channel)."""

    number: int
    name: str
    camera: int = 1
    is_home: bool = False


@dataclass(frozen=True)
class Recording:
    """One edge recording from record/list.cgi."""

    recording_id: str
    disk_id: str
    start_time: datetime | None
    stop_time: datetime | None
    recording_type: str = ""
    status: str = ""
    source: str = ""
    event_id: str = ""
    is_locked: bool = False
    video_mime_type: str = ""
    resolution: str = ""
    framerate: str = ""


@dataclass(frozen=True)
class Application:
    """One installed ACAP application from applications/list.cgi."""

    name: str
    nice_name: str
    vendor: str
    version: str
    status: str
    license: str = ""
    application_id: str = ""

    @property
    def is_running(self) -> bool:
        return self.status.lower() == "running"


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge (scheme plus its parameters, keys lower-case)."""

    scheme: str
    params: Mapping[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def is_stale(self) -> bool:
        return self.params.get("stale", "").lower() == "true"

    @property
    def serial_number(self) -> str | None:
        """Return the serial an Axis realm (``AXIS_<serial>``, ``AXIS_WS_<serial>``) carries."""
        realm = self.realm
        if not realm.startswith("AXIS_"):
            return None
        candidate = realm.rsplit("_", 1)[-1]
        if len(candidate) == 12 and all(c in "0123456789ABCDEFabcdef" for c in candidate):
            return candidate.upper()
        return None
