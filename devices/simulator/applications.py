"""Installed ACAP applications of a simulated camera, as ``applications/list.cgi`` lists them.

Which applications a camera has is derived from the fleet's seed and the camera's serial (a
hash, so the fleet's other seeded values do not move); about a quarter of the cameras have none.
Names, vendors and optional attributes follow the recorded list answer of a Q1615 Mk II; the
versions and ids here are the simulator's own.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields

STATUSES = ("Running", "Stopped", "Idle")
LICENSES = ("Valid", "Invalid", "Missing", "Custom", "None")


@dataclass(frozen=True)
class Application:
    """One installed application; None attributes are left out of the list, as on devices."""

    name: str  # the package name (Name), unique on a camera
    nice_name: str
    vendor: str
    version: str
    status: str = "Running"
    license: str = "None"
    application_id: str | None = None
    configuration_page: str | None = None
    vendor_home_page: str | None = None
    license_name: str | None = None
    preinstalled: bool = False  # comes back after a factory default (VAPIX.md §6.3)

    def as_dict(self) -> dict[str, object]:
        """Return the control API's form (snake_case keys, None for absent attributes)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Application:
        """Build an application from the control API's form; raise ValueError when invalid."""
        if not isinstance(data, dict):
            raise ValueError("an application is a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown application keys: {', '.join(unknown)}")
        for key in ("name", "nice_name", "vendor", "version"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"application {key} must be a non-empty string")
        for key in ("application_id", "configuration_page", "vendor_home_page", "license_name"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"application {key} must be a string or null")
        if data.get("status", "Running") not in STATUSES:
            raise ValueError(f"application status must be one of {', '.join(STATUSES)}")
        if data.get("license", "None") not in LICENSES:
            raise ValueError(f"application license must be one of {', '.join(LICENSES)}")
        if not isinstance(data.get("preinstalled", False), bool):
            raise ValueError("application preinstalled must be true or false")
        return cls(**data)


def parse_applications(data: object) -> tuple[Application, ...]:
    """Return applications from a JSON list; raise ValueError on bad items or repeated names."""
    if not isinstance(data, list):
        raise ValueError("give a list of applications")
    applications = tuple(Application.from_dict(item) for item in data)
    names = [application.name for application in applications]
    if len(set(names)) != len(names):
        raise ValueError("application names must be unique on a camera")
    return applications


_AXIS = "Axis Communications"
_AXIS_HOME = "http://www.axis.com"

CATALOG: tuple[Application, ...] = (
    Application(
        "vmd",
        "AXIS Video Motion Detection",
        _AXIS,
        "4.6-1",
        application_id="143440",
        configuration_page="local/vmd/config.html",
        vendor_home_page=_AXIS_HOME,
        license_name="Proprietary",
        preinstalled=True,
    ),
    Application(
        "objectanalytics",
        "AXIS Object Analytics",
        _AXIS,
        "1.12.4",
        application_id="415529",
        configuration_page="local/objectanalytics/index.html",
        vendor_home_page=_AXIS_HOME,
        license_name="Proprietary",
        preinstalled=True,
    ),
    Application(
        "fenceguard",
        "AXIS Fence Guard",
        _AXIS,
        "2.3-2",
        application_id="47775",
        configuration_page="local/fenceguard/config.html",
        vendor_home_page=_AXIS_HOME,
        license_name="Proprietary",
    ),
    Application(
        "loiteringguard",
        "AXIS Loitering Guard",
        _AXIS,
        "2.3-2",
        status="Stopped",
        application_id="46775",
        configuration_page="local/loiteringguard/config.html",
        vendor_home_page=_AXIS_HOME,
        license_name="Proprietary",
    ),
    Application(
        "peoplecounter",
        "AXIS People Counter",
        _AXIS,
        "3.4-0",
        license="Valid",
        application_id="127544",
        configuration_page="local/peoplecounter/index.html",
        license_name="AXIS",
    ),
    Application(
        "recorderagent",
        "Example Recorder Agent",
        "Example Video Systems",
        "2.0.7",
        license="Custom",
        configuration_page="local/recorderagent/settings.html",
    ),
)


def initial_applications(seed: int, serial: str, version: str) -> tuple[Application, ...]:
    """Return the applications a camera of the fleet starts with (0-3, deterministic).

    Cameras older than AXIS OS 6 (the legacy profile) have none.
    """
    if int(version.split(".")[0]) < 6:
        return ()
    digest = hashlib.sha256(f"apps:{seed}:{serial}".encode()).digest()
    count = digest[0] % 4
    chosen = sorted({digest[1 + i] % len(CATALOG) for i in range(count)})
    return tuple(CATALOG[index] for index in chosen)
