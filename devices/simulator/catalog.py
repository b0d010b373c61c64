"""The simulator's product catalog, firmware tracks and per-version API profiles.

Identity values (hardware ids, SoCs, architectures) follow the recordings summarised in VAPIX.md
§4 and §14.1; version numbers on each track follow §11. Patch numbers of releases we never saw
are invented but keep the real shape.
"""

from __future__ import annotations

from dataclasses import dataclass


def parse_version(version: str) -> tuple[int, ...]:
    """Return a version as an integer tuple padded to four parts (VAPIX.md §11.2)."""
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


@dataclass(frozen=True)
class Track:
    """One firmware line: its name and its releases, oldest first."""

    name: str
    releases: tuple[str, ...]
    is_lts: bool


TRACKS: dict[str, Track] = {
    "active-12": Track("active", ("12.7.61", "12.8.49", "12.9.57"), is_lts=False),
    "lts-2026": Track("LTS 2026", ("12.11.61", "12.11.77", "12.11.86"), is_lts=True),
    "lts-2024": Track("LTS 2024", ("11.11.135", "11.11.160", "11.11.192"), is_lts=True),
    "lts-2022": Track("LTS 2022", ("10.12.299", "10.12.323", "10.12.338"), is_lts=True),
    "lts-2020": Track("LTS 2020", ("9.80.3.12", "9.80.3.19", "9.80.3.23"), is_lts=True),
    "pss-5.51": Track("PSS 5.51", ("5.51.7.4", "5.51.7.6"), is_lts=False),
}


@dataclass(frozen=True)
class Product:
    """One Axis product number and what does not change with its firmware."""

    number: str
    full_name: str
    product_type: str
    variant: str
    hardware_id: str
    architecture: str
    soc: str
    soc_serial_format: str  # "long", "medium", "short" or "" (VAPIX.md §4: three formats seen)
    web_url: str
    track: str
    has_ptz: bool = False
    weight: int = 10  # relative share in a generated fleet
    resolutions: str = (
        "1920x1080,1280x960,1280x720,1024x768,1024x576,800x600,640x480,640x360,352x240,320x240"
    )

    @property
    def short_name(self) -> str:
        """Return e.g. ``AXIS P3265-V``."""
        return f"AXIS {self.number}"


CATALOG: tuple[Product, ...] = (
    Product(
        "P3265-V",
        "AXIS P3265-V Dome Camera",
        "Dome Camera",
        "",
        "931.11",
        "aarch64",
        "Axis Artpec-8",
        "medium",
        "https://www.axis.com",
        "lts-2026",
        weight=20,
    ),
    Product(
        "M1075-L",
        "AXIS M1075-L Box Camera",
        "Box Camera",
        "",
        "92A.1",
        "aarch64",
        "Ambarella CV25",
        "long",
        "http://www.axis.com",
        "lts-2024",
        weight=15,
    ),
    Product(
        "Q1961-TE",
        "AXIS Q1961-TE Thermal Camera",
        "Thermal Camera",
        "13mm",
        "947.2",
        "aarch64",
        "Axis Artpec-8",
        "long",
        "https://www.axis.com",
        "active-12",
        weight=10,
        resolutions="768x576,640x480,384x288,320x240",
    ),
    Product(
        "M3066-V",
        "AXIS M3066-V Dome Camera",
        "Dome Camera",
        "",
        "7AC",
        "aarch64",
        "Ambarella S5L",
        "short",
        "http://www.axis.com",
        "lts-2022",
        weight=15,
    ),
    Product(
        "Q6135-LE",
        "AXIS Q6135-LE PTZ Network Camera",
        "PTZ Network Camera",
        "50 Hz",
        "7A1",
        "armv7hf",
        "Axis Artpec-7",
        "medium",
        "https://www.axis.com",
        "active-12",
        has_ptz=True,
        weight=10,
    ),
    Product(
        "M5075",
        "AXIS M5075 PTZ Camera",
        "PTZ Network Camera",
        "",
        "932",
        "aarch64",
        "Axis Artpec-8",
        "long",
        "https://www.axis.com",
        "lts-2024",
        has_ptz=True,
        weight=5,
    ),
    Product(
        "M1065-LW",
        "AXIS M1065-LW Network Camera",
        "Network Camera",
        "",
        "70E",
        "armv7hf",
        "Ambarella S2L (Flattened Device Tree)",
        "",
        "http://www.axis.com",
        "lts-2020",
        weight=15,
    ),
    Product(
        "M3024-L",
        "AXIS M3024-L Network Camera",
        "Network Camera",
        "",
        "1B2",
        "armv6l",
        "Axis Artpec-4",
        "",
        "http://www.axis.com/",
        "pss-5.51",
        weight=10,
        resolutions="1280x800,1280x720,800x600,800x450,640x480,640x400,640x360,320x240",
    ),
)

PRODUCTS: dict[str, Product] = {product.number: product for product in CATALOG}


@dataclass(frozen=True)
class ApiProfile:
    """Which CGIs a firmware version has and which minor versions they answer."""

    has_json_apis: bool  # apidiscovery, basicdeviceinfo, fwmgr (7.40+/8.40+)
    has_systemready: bool  # 9.50+
    fwmgr: str
    basic_device_info: str
    systemready: str
    api_discovery: str
    user_management: str
    apidiscovery_needs_auth: bool
    has_unrestricted_properties: bool
    systemready_has_bootid: bool
    systemready_has_passphrase_policy: bool
    has_reset_source: bool
    first_admin_must_be_root: bool  # AXIS OS < 11.5 (VAPIX.md §9.2)
    param_root_prefix_quirk: bool  # AXIS OS 12: group after '# Error' loses 'root.'


def api_profile(version: str) -> ApiProfile:
    """Return the API profile a device on `version` presents (VAPIX.md §1.2, §3, §5, §14.1)."""
    v = parse_version(version)
    modern = v >= (9, 0, 0, 0)
    if v >= (12, 11, 0, 0):
        fwmgr, systemready, user_management = "1.10", "1.5", "1.2"
    elif v >= (12, 9, 0, 0):
        fwmgr, systemready, user_management = "1.8", "1.5", "1.2"
    elif v >= (12, 0, 0, 0):
        fwmgr, systemready, user_management = "1.7", "1.5", "1.2"
    elif v >= (11, 0, 0, 0):
        fwmgr, systemready, user_management = "1.5", "1.4", "1.2"
    elif v >= (10, 0, 0, 0):
        fwmgr, systemready, user_management = "1.4", "1.2", "1.1"
    else:
        fwmgr, systemready, user_management = "1.3", "1.1", "1.1"
    return ApiProfile(
        has_json_apis=modern,
        has_systemready=modern,
        fwmgr=fwmgr,
        basic_device_info="1.3" if v >= (10, 0, 0, 0) else "1.1",
        systemready=systemready,
        api_discovery="1.1" if v >= (10, 0, 0, 0) else "1.0",
        user_management=user_management,
        apidiscovery_needs_auth=(9, 80) <= v[:2] <= (10, 12),
        has_unrestricted_properties=v >= (10, 0, 0, 0),
        systemready_has_bootid=v >= (11, 0, 0, 0),
        systemready_has_passphrase_policy=v >= (12, 0, 0, 0),
        has_reset_source=v >= (12, 11, 0, 0),
        first_admin_must_be_root=v < (11, 5, 0, 0),
        param_root_prefix_quirk=v >= (12, 0, 0, 0),
    )


def build_date(version: str) -> str:
    """Return a stable, plausible ``Mon DD YYYY HH:MM`` build date for a version."""
    v = parse_version(version)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    year = 2014 + v[0] if v[0] >= 9 else 2014
    return (
        f"{months[(v[1] + v[2]) % 12]} {1 + v[2] % 28:02d} {year} {v[2] % 24:02d}:{v[1] % 60:02d}"
    )


def firmware_part(version: str) -> str:
    """Return a stable digit string for ``activeFirmwarePart`` (VAPIX.md §6.2)."""
    v = parse_version(version)
    return str(7454650000 + v[0] * 1000 + v[1] * 10 + v[2] % 10)
