"""The read-only JSON CGIs: API discovery, basic device information, system ready (§3-§5)."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from devices.simulator import apis
from devices.simulator.camera import BOOTING, RUNNING, Camera

from .ajr import AjrApi, read_ajr
from .authentication import authenticate, challenge, require
from .replies import Reply, not_found_unless

_BDI_STYLE = {
    "invalid_json": (4000, "JSON syntax error"),
    "http_method": (2002, "HTTP request type not supported. Only POST is supported"),
    "bad_version": (2003, "The requested API version is not supported"),
    "unknown_method": (2004, "JSON semantic error: Unknown method"),
    "missing_param": (4002, "JSON semantic error: Required parameter missing or invalid"),
}
API_DISCOVERY = AjrApi("api_discovery", True, True, False, True, **_BDI_STYLE)
BASIC_DEVICE_INFO = AjrApi("basic_device_info", False, False, False, True, **_BDI_STYLE)
SYSTEMREADY = AjrApi("systemready", True, False, True, False, **_BDI_STYLE)


async def handle_apidiscovery(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``/axis-cgi/apidiscovery.cgi`` (VAPIX.md §3)."""
    not_found_unless(camera.profile.has_json_apis)
    call = await read_ajr(request, camera, API_DISCOVERY)
    if camera.profile.apidiscovery_needs_auth:
        require(request, camera, "viewer")
    if call.method == "getSupportedVersions":
        return call.data({"apiVersions": [camera.profile.api_discovery]})
    if call.method != "getApiList":
        return call.error(*API_DISCOVERY.unknown_method)
    id_glob = call.params.get("id")
    version_glob = call.params.get("version")
    if not isinstance(id_glob, str | None) or not isinstance(version_glob, str | None):
        return call.error(1000, "Invalid parameter value")
    entries = apis.filter_api_list(apis.api_list(camera), id_glob, version_glob)
    return call.data({"apiList": entries})


async def handle_basicdeviceinfo(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``/axis-cgi/basicdeviceinfo.cgi`` (VAPIX.md §4)."""
    not_found_unless(camera.profile.has_json_apis)
    call = await read_ajr(request, camera, BASIC_DEVICE_INFO)
    method = call.method
    if method == "getSupportedVersions":
        return call.data({"apiVersions": [camera.profile.basic_device_info]})
    if method == "getAllUnrestrictedProperties":
        if not camera.profile.has_unrestricted_properties:
            return call.error(2004, f"JSON semantic error: Unknown method '{method}'")
        return call.data({"propertyList": apis.unrestricted_properties(camera)})
    if method not in ("getAllProperties", "getProperties"):
        return call.error(2004, f"JSON semantic error: Unknown method '{method}'")
    user, stale = authenticate(request, camera)
    if user is None:
        raise Reply(challenge(request, camera, stale=stale))
    if not user.has_level("operator"):
        return call.error(2001, "Access forbidden")
    everything = apis.device_properties(camera)
    if method == "getAllProperties":
        return call.data({"propertyList": everything})
    wanted = call.params.get("propertyList")
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        return call.error(*BASIC_DEVICE_INFO.missing_param)
    for name in wanted:
        if name not in everything:
            return call.error(1000, f"Property not supported: {name}")
    return call.data({"propertyList": {name: everything[name] for name in wanted}})


def systemready_data(camera: Camera) -> dict[str, str]:
    """Return the ``systemready`` fields the running firmware has (VAPIX.md §5)."""
    profile = camera.profile
    data = {
        "systemready": "yes" if camera.phase == RUNNING else "no",
        "needsetup": "yes" if camera.needs_setup else "no",
    }
    if profile.systemready_has_bootid:
        data["uptime"] = str(camera.uptime())
        data["bootid"] = camera.boot_id
        if camera.needs_setup:
            data["previewmode"] = str(max(0, 7200 - camera.uptime()))
    if profile.systemready_has_passphrase_policy:
        data["passphrasepolicy"] = camera.knobs.passphrase_policy
    return data


async def handle_systemready(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``/axis-cgi/systemready.cgi``; honours ``params.timeout`` as a long poll."""
    not_found_unless(camera.profile.has_systemready)
    call = await read_ajr(request, camera, SYSTEMREADY)
    if call.method == "getSupportedVersions":
        return call.data({"apiVersions": [camera.profile.systemready]})
    if call.method != "systemready":
        return call.error(*SYSTEMREADY.unknown_method)
    timeout = call.params.get("timeout", 0)
    if not isinstance(timeout, int | float | str) or not str(timeout).isdigit():
        return call.error(*SYSTEMREADY.missing_param)
    # Long poll in real seconds: the client's read timeout is what bounds it.
    deadline = time.monotonic() + min(int(str(timeout)), 60)
    while camera.phase == BOOTING and time.monotonic() < deadline and camera.is_served():
        await asyncio.sleep(0.05)
    return call.data(systemready_data(camera))
