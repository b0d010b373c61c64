"""Static answers of the JSON APIs: API discovery lists and basic device information."""

from __future__ import annotations

import fnmatch

from .camera import Camera
from .catalog import build_date

_DOC = "https://www.axis.com/partner_pages/vapix_library/#/"


def api_list(camera: Camera) -> list[dict[str, str]]:
    """Return the ``getApiList`` entries of the running firmware (VAPIX.md §3).

    Like real devices: one id may appear twice with different majors (privacy-mask), and
    some entries have no ``status`` (packagemanager) or an empty ``docLink``.
    """
    profile = camera.profile
    modern = profile.api_discovery == "1.1"
    entries: list[tuple[str, str, str, str | None]] = [
        ("api-discovery", profile.api_discovery, "API Discovery Service", "official"),
        ("basic-device-info", profile.basic_device_info, "Basic Device Information", "official"),
        ("fwmgr", profile.fwmgr, "Firmware Management", "official"),
        ("systemready", profile.systemready, "Systemready", "official"),
        ("user-management", profile.user_management, "User Management", "official"),
        ("param-cgi", "1.0", "Legacy Parameter Handling", "official"),
        ("media-cgi", "1.0", "Media stream over HTTP", "official"),
        ("recording", "1.0", "Edge Recording", "official"),
        ("disk-management", "1.0", "Edge storage Disk management", "official"),
        ("io-port-management", "1.1", "IO Port Management", "official"),
        ("stream-profiles", "1.0", "Stream Profiles", "official"),
        ("time-service", "1.1", "Time API", "official"),
        ("packagemanager", "1.4", "Package Manager", None),
        ("privacy-mask", "2.4", "Privacy Masking", "official"),
        ("privacy-mask", "3.0", "Privacy Masking", "official"),
    ]
    if modern:
        entries += [
            ("ssh", "1.0", "SSH", "official"),
            ("custom-firmware-certificate", "1.0", "Custom Firmware Certificate", "official"),
            ("device-config", "1.0", "Device Configuration", "official"),
            ("straightenimage", "1.0", "Straighten Image", "official"),
        ]
    if camera.product.has_ptz:
        entries.append(("ptz-control", "2.1" if modern else "1.0", "PTZ Control", "official"))
        entries.append(("guard-tour", "1.1", "Guard Tour", "official"))
    result = []
    for api_id, version, name, status in entries:
        entry = {
            "id": api_id,
            "version": version,
            "name": name,
            "docLink": "" if api_id == "straightenimage" else _DOC,
        }
        if status is not None and modern:
            entry["status"] = status
        result.append(entry)
    return result


def filter_api_list(
    entries: list[dict[str, str]], id_glob: str | None, version_glob: str | None
) -> list[dict[str, str]]:
    """Keep entries whose id/version match the glob filters (``*`` and ``?``)."""
    return [
        entry
        for entry in entries
        if (id_glob is None or fnmatch.fnmatchcase(entry["id"], id_glob))
        and (version_glob is None or fnmatch.fnmatchcase(entry["version"], version_glob))
    ]


RESTRICTED_PROPERTIES = ("Architecture", "Soc", "SocSerialNumber")


def device_properties(camera: Camera) -> dict[str, str]:
    """Return every basic-device-info property in the recorded key order (VAPIX.md §4)."""
    ident = camera.identity
    product = ident.product
    return {
        "Architecture": product.architecture,
        "ProdNbr": product.number,
        "HardwareID": product.hardware_id,
        "ProdFullName": product.full_name,
        "Version": camera.active_version,
        "ProdType": product.product_type,
        "SocSerialNumber": ident.soc_serial,
        "Soc": product.soc,
        "Brand": "AXIS",
        "WebURL": product.web_url,
        "ProdVariant": product.variant,
        "SerialNumber": ident.serial,
        "ProdShortName": product.short_name,
        "BuildDate": build_date(camera.active_version),
    }


def unrestricted_properties(camera: Camera) -> dict[str, str]:
    """Return the properties anonymous callers may read."""
    return {
        key: value
        for key, value in device_properties(camera).items()
        if key not in RESTRICTED_PROPERTIES
    }
