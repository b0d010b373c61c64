"""The ``param.cgi`` tree of a simulated camera and the list/update text protocol (VAPIX.md §8).

The tree is rebuilt from the camera's identity, running version and overrides on every request:
that costs microseconds and keeps no per-camera copy for 1,000 cameras.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .camera import LEVELS, Camera
from .catalog import build_date

# Read and write levels per top-level group (VAPIX.md §8.2: security per parameter, grouped here).
_ADMIN_READ = {"Network", "HTTPS", "System", "Storage", "SNMP", "WebService", "RemoteService"}
_READ_ONLY = {"Brand", "Properties"}
_OPERATOR_WRITE = {"Image", "ImageSource", "PTZ", "Audio", "AudioSource"}
_SECRET_PARAMS = {"PTZ.BoaProtPTZOperator"}


def read_level(name: str) -> str:
    """Return the least role that may read parameter `name` (without ``root.``)."""
    if name in _SECRET_PARAMS or name.split(".", 1)[0] in _ADMIN_READ:
        return "admin"
    return "viewer"


def write_level(name: str) -> str | None:
    """Return the least role that may change `name`, or None when it is read-only."""
    group = name.split(".", 1)[0]
    if group in _READ_ONLY:
        return None
    return "operator" if group in _OPERATOR_WRITE else "admin"


def build_tree(camera: Camera) -> dict[str, str]:
    """Return the camera's parameters (names without ``root.``) in device order."""
    ident = camera.identity
    product = ident.product
    version = camera.active_version
    profile = camera.profile
    serial = ident.serial
    tree: dict[str, str] = {
        "Audio.DSCP": "0",
        "Audio.MaxListeners": "20",
        "Audio.A0.Enabled": "no",
        "Brand.Brand": "AXIS",
        "Brand.ProdFullName": product.full_name,
        "Brand.ProdNbr": product.number,
        "Brand.ProdShortName": product.short_name,
        "Brand.ProdType": product.product_type,
        "Brand.ProdVariant": product.variant,
        "Brand.WebURL": product.web_url,
        "HTTPS.AllowTLS1": "no",
        "HTTPS.AllowTLS11": "no",
        "HTTPS.Enabled": "yes",
        "HTTPS.Port": "443",
        "Image.DateFormat": "YYYY-MM-DD",
        "Image.MaxViewers": "20",
        "Image.NbrOfConfigs": "1",
        "Image.TimeFormat": "24",
        "Image.I0.Enabled": "yes",
        "Image.I0.Name": "View Area 1",
        "Image.I0.Source": "0",
        "Image.I0.Appearance.Compression": "30",
        "Image.I0.Appearance.Resolution": "640x360",
        "Image.I0.Appearance.Rotation": "0",
        "Image.I0.Text.DateEnabled": "yes",
        "Image.I0.Text.TimeEnabled": "yes",
        "ImageSource.NbrOfSources": "1",
        "ImageSource.I0.Name": "Image source 1",
        "Network.BootProto": "dhcp",
        "Network.DNSServer1": "0.0.0.0",  # noqa: S104 - a parameter value, nothing binds to it
        "Network.DefaultRouter": "0.0.0.0",  # noqa: S104 - a parameter value, nothing binds to it
        "Network.Enabled": "yes",
        "Network.HostName": ident.hostname,
        "Network.IPAddress": ident.host,
        "Network.SubnetMask": "255.0.0.0",
        "Network.Bonjour.Enabled": "yes",
        "Network.Bonjour.FriendlyName": f"{product.short_name} - {serial}",
        "Network.HTTP.AuthenticationPolicy": "recommended",
        "Network.HTTP.AuthenticationWithQop": "yes" if camera.knobs.digest_qop else "no",
        "Network.RTSP.Enabled": "yes",
        "Network.SSH.Enabled": "no",
        "Network.UPnP.Enabled": "yes",
        "Network.UPnP.FriendlyName": f"{product.short_name} - {serial}",
        "Network.VolatileHostName.HostName": ident.hostname,
        "Network.VolatileHostName.ObtainFromDHCP": "yes",
        "Network.ZeroConf.Enabled": "yes",
        "Network.eth0.IPAddress": ident.host,
        "Network.eth0.MACAddress": ident.mac,
        "Network.eth0.SubnetMask": "255.0.0.0",
    }
    if product.has_ptz:
        tree.update(_ptz_params(camera))
    tree.update(
        {
            "Properties.API.HTTP.Version": "3",
            "Properties.API.HTTP.AdminPath": "/",
            "Properties.API.RTSP.Version": "2.01",
            "Properties.API.RTSP.RTSPAuth": "yes",
        }
    )
    if profile.has_json_apis:
        tree["Properties.ApiDiscovery.ApiDiscovery"] = "yes"
        tree["Properties.BasicDeviceInfo.BasicDeviceInfo"] = "yes"
    # The Application API (applications/list.cgi needs 1.20+); 2.16 as recorded on 9.x.
    tree["Properties.EmbeddedDevelopment.EmbeddedDevelopment"] = "yes"
    tree["Properties.EmbeddedDevelopment.Version"] = "2.16" if profile.has_json_apis else "1.20"
    tree.update(
        {
            "Properties.Firmware.BuildDate": build_date(version),
            "Properties.Firmware.BuildNumber": "1",
            "Properties.Firmware.Version": version,
        }
    )
    if profile.has_json_apis:
        # The property lags the CGI on real devices (VAPIX.md §6): list one minor lower.
        major, minor = profile.fwmgr.split(".")
        tree["Properties.FirmwareManagement.Version"] = f"{major}.{max(0, int(minor) - 1)}"
    tree.update(
        {
            "Properties.HTTPS.HTTPS": "yes",
            "Properties.Image.Format": "jpeg,mjpeg,h264",
            "Properties.Image.NbrOfViews": "1",
            "Properties.Image.Resolution": product.resolutions,
            "Properties.Image.Rotation": "0,180",
            "Properties.LocalStorage.ContinuousRecording": "yes",
            "Properties.LocalStorage.ExportRecording": "yes",
            "Properties.LocalStorage.LocalStorage": "yes",
            "Properties.LocalStorage.SDCard": "yes",
            "Properties.PTZ.PTZ": "yes" if product.has_ptz else "no",
            "Properties.System.Architecture": product.architecture,
            "Properties.System.HardwareID": product.hardware_id,
            "Properties.System.Language": "English",
            "Properties.System.LanguageType": "default",
            "Properties.System.SerialNumber": serial,
            "Properties.System.Soc": product.soc,
            "Storage.S0.Enabled": "yes",
            "Storage.S0.DiskID": "SD_DISK",
            "System.AccessLog": "Off",
            "System.BoaGroupPolicy.admin": "both",
            "System.BoaGroupPolicy.operator": "both",
            "System.BoaGroupPolicy.viewer": "both",
            "System.HostName": ident.hostname,
            "System.PreventDoSAttack.ActivatePasswordThrottling": "On",
            "Time.DST.Enabled": "yes",
            "Time.NTP.Server": "0.0.0.0",  # noqa: S104 - a parameter value, nothing binds to it
            "Time.ObtainFromDHCP": "yes",
            "Time.POSIXTimeZone": "UTC0",
            "Time.SyncSource": "NTP",
        }
    )
    tree.update(camera.settings.params)
    return tree


# What ptz.cgi?query=limits answers, in its order; PTZ.Limit.L1 holds the same values.
PTZ_LIMITS: tuple[tuple[str, str], ...] = (
    ("MinPan", "-180"),
    ("MaxPan", "180"),
    ("MinTilt", "-20"),
    ("MaxTilt", "90"),
    ("MinZoom", "1"),
    ("MaxZoom", "9999"),
    ("MinIris", "1"),
    ("MaxIris", "9999"),
    ("MinFocus", "1"),
    ("MaxFocus", "9999"),
    ("MinFieldAngle", "35"),
    ("MaxFieldAngle", "650"),
    ("MinBrightness", "1"),
    ("MaxBrightness", "9999"),
)


def _ptz_params(camera: Camera) -> dict[str, str]:
    """Return the PTZ group, presets included (shape of the recorded PTZ groups)."""
    params = {
        "PTZ.BoaProtPTZOperator": "password",
        "PTZ.CameraDefault": "1",
        "PTZ.NbrOfCameras": "1",
        "PTZ.NbrOfSerPorts": "0",
        "PTZ.ImageSource.I0.PTZEnabled": "true",
        **{f"PTZ.Limit.L1.{name}": value for name, value in sorted(PTZ_LIMITS)},
        "PTZ.Preset.P0.HomePosition": "1",
        "PTZ.Preset.P0.ImageSource": "0",
        "PTZ.Preset.P0.Name": "",
    }
    for number, preset in sorted(camera.settings.presets.items()):
        params[f"PTZ.Preset.P0.Position.P{number}.Data"] = (
            f"tilt={preset.tilt:.6f}:pan={preset.pan:.6f}:zoom={preset.zoom:.6f}"
        )
        params[f"PTZ.Preset.P0.Position.P{number}.Name"] = preset.name
    params["PTZ.Support.S1.AbsolutePan"] = "true"
    params["PTZ.Support.S1.AbsoluteTilt"] = "true"
    params["PTZ.Support.S1.AbsoluteZoom"] = "true"
    params["PTZ.Support.S1.ServerPreset"] = "true"
    return params


def _pattern(group: str) -> re.Pattern[str]:
    """Return a regex for a group argument; ``*`` stands for one name segment."""
    parts = [r"[^.]+" if part == "*" else re.escape(part) for part in group.split(".")]
    return re.compile(r"\.".join(parts) + r"(\..+)?$")


def list_params(camera: Camera, groups: Iterable[str] | None, user_level_allows: set[str]) -> str:
    """Return the text answer of ``action=list`` for a reader allowed `user_level_allows`.

    A whole group comes back with ``root.`` names; a single parameter comes back in the form
    it was asked for; an unknown or unreadable group gives ``# Error: ...`` (HTTP 200).
    On AXIS OS 12 the group right after an error line loses its ``root.`` prefix, as the
    recorded P3265-V does.
    """
    tree = {
        name: value
        for name, value in build_tree(camera).items()
        if read_level(name) in user_level_allows
    }
    if not groups:
        return "".join(f"root.{name}={value}\n" for name, value in tree.items())
    lines: list[str] = []
    drop_prefix = False
    quirk = camera.profile.param_root_prefix_quirk
    for asked in groups:
        bare = asked[5:] if asked.startswith("root.") else asked
        if bare in tree:
            lines.append(f"{asked}={tree[bare]}\n")
            drop_prefix = False
            continue
        pattern = _pattern(bare)
        matched = [(name, value) for name, value in tree.items() if pattern.match(name)]
        if not matched:
            lines.append(f"# Error: Error -1 getting param in group '{bare}'\n")
            drop_prefix = quirk
            continue
        prefix = "" if drop_prefix else "root."
        lines.extend(f"{prefix}{name}={value}\n" for name, value in matched)
        drop_prefix = False
    return "".join(lines)


def update_params(camera: Camera, updates: list[tuple[str, str]], level: str) -> str:
    """Apply ``action=update`` pairs a user of role `level` sent; return the text answer.

    Valid pairs are applied even when others fail; the answer is ``OK`` only if all succeeded,
    otherwise one ``# Error: Error setting '<name>' to '<value>'!`` line per failure.
    """
    tree = build_tree(camera)
    errors: list[str] = []
    for raw_name, value in updates:
        name = raw_name[5:] if raw_name.startswith("root.") else raw_name
        needed = write_level(name)
        if (
            name not in tree
            or needed is None
            or LEVELS.index(level) < LEVELS.index(needed)
            or "\n" in value
        ):
            errors.append(f"# Error: Error setting '{raw_name}' to '{value}'!\n")
            continue
        camera.settings.params[name] = value
    if updates:
        camera.record("params-updated", names=[name for name, _ in updates])
    return "".join(errors) if errors else "OK\n"
