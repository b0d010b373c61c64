"""The HTTP face of the simulated cameras: one aiohttp application serving every camera.

Each request is mapped to its camera by the local address it arrived on, so one application and
one handler set serve the whole fleet. Responses imitate an Axis camera's Apache: headers, HTML
error pages, AJR JSON envelopes (VAPIX.md §1) and the text formats of the legacy CGIs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import quoteattr

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict

from . import apis, params
from .auth import basic_challenge, check_basic, check_digest, digest_challenge
from .camera import BOOTING, DOWN, LEVELS, RUNNING, Camera, PendingUpgrade, PtzPreset, User
from .catalog import firmware_part, parse_version
from .firmware import ImageError, ImageHeader, StreamingVerifier
from .imaging import quality_from_compression, render_jpeg

if TYPE_CHECKING:
    from .fleet import Fleet

Handler = Callable[[web.Request, Camera], Awaitable[web.StreamResponse]]

FLEET_KEY: web.AppKey[Fleet] = web.AppKey("fleet")
JSON_TYPE = "application/json"
UPLOAD_CHUNK = 256 * 1024
MAX_JSON_BODY = 64 * 1024
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


class Dropped(Exception):
    """Raised by helpers when the camera must kill the connection without any answer."""


class Reply(Exception):
    """Raised by helpers to answer the request immediately with `response`."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


# ----- generic pages and headers -------------------------------------------------------------

_REASONS = {
    400: ("Bad Request", "Your browser sent a request that this server could not understand."),
    401: (
        "Unauthorized",
        "This server could not verify that you\nare authorized to access the document\n"
        "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\n"
        "browser doesn't understand how to supply\nthe credentials required.",
    ),
    403: ("Forbidden", "You don't have permission to access this resource."),
    404: ("Not Found", "The requested URL was not found on this server."),
    405: ("Method Not Allowed", "The requested method is not allowed for this URL."),
    500: (
        "Internal Server Error",
        "The server encountered an internal error or\nmisconfiguration and was unable to "
        "complete\nyour request.",
    ),
    502: ("Bad Gateway", "The proxy server received an invalid\nresponse from an upstream server."),
    503: (
        "Service Unavailable",
        "The server is temporarily unable to service your\nrequest due to maintenance downtime "
        "or capacity\nproblems. Please try again later.",
    ),
}


def error_page(status: int, headers: CIMultiDict[str] | None = None) -> web.Response:
    """Return Apache's HTML error page for `status`."""
    title, text = _REASONS.get(status, ("Error", "An error occurred."))
    body = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{status} {title}</title>\n</head><body>\n<h1>{title}</h1>\n<p>{text}</p>\n"
        "</body></html>\n"
    )
    return web.Response(
        status=status, text=body, content_type="text/html", charset="iso-8859-1", headers=headers
    )


def text_response(text: str, *, status: int = 200) -> web.Response:
    """Return a ``text/plain`` answer as param.cgi and friends send it."""
    return web.Response(status=status, text=text, content_type="text/plain")


def html_body_page(title: str, message: str, *, status: int = 200) -> web.Response:
    """Return the one-line HTML page pwdgrp.cgi and the legacy CGIs answer (VAPIX.md §9.1)."""
    body = (
        f"<html><head><title>{title}</title></head><body bgcolor=#ffffff>{message}\n"
        "</body>\n\n</html>\n"
    )
    return web.Response(status=status, text=body, content_type="text/html")


async def set_device_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Give every answer the Server and hardening headers of the recorded device."""
    camera: Camera | None = request.get("camera")
    if camera is not None and parse_version(camera.active_version) < (6, 0, 0, 0):
        response.headers["Server"] = "Boa/0.94.14rc21"
        return
    response.headers["Server"] = "Apache/2.4.68 (Unix) OpenSSL/3.5.7"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-XSS-Protection", "1; mode=block")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")


# ----- authentication -----------------------------------------------------------------------


def _schemes(request: web.Request, camera: Camera) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (offered, accepted) authentication schemes for this request.

    ``recommended`` offers Digest on HTTP and Basic on HTTPS (VAPIX.md §2.1); over HTTPS it
    still accepts Digest from a client that insists.
    """
    policy = camera.knobs.auth_policy
    if policy == "recommended":
        return (("basic",), ("basic", "digest")) if request.secure else (("digest",), ("digest",))
    if policy == "both":
        return ("digest", "basic"), ("digest", "basic")
    return (policy,), (policy,)


def _authenticate(request: web.Request, camera: Camera) -> tuple[User | None, bool]:
    """Return (user, stale) for the request's credentials; user is None if absent or wrong.

    Failed attempts count towards the lockout knob; while locked, every credential fails.
    """
    header = request.headers.get("Authorization")
    if not header:
        return None, False
    fleet = request.app[FLEET_KEY]
    now = fleet.monotonic()
    if "wrong-credentials" in camera.faults or camera.locked_until > now:
        return None, False
    scheme, _, rest = header.partition(" ")
    users = camera.settings.users
    password_of = {name: user.password for name, user in users.items()}
    accepted = _schemes(request, camera)[1]
    scheme = scheme.lower()
    name: str | None = None
    stale = False
    if scheme == "digest" and "digest" in accepted:
        outcome = check_digest(
            rest,
            method=request.method,
            raw_uri=request.raw_path,
            realm=camera.identity.realm,
            nonces=fleet.nonces,
            password_of=password_of,
            max_uses=camera.knobs.nonce_max_uses,
        )
        name, stale = outcome.username, outcome.stale
    elif scheme == "basic" and "basic" in accepted:
        name = check_basic(rest, password_of)
    if name is None:
        if not stale and camera.knobs.lockout_after:
            camera.failed_logins += 1
            if camera.failed_logins >= camera.knobs.lockout_after:
                camera.failed_logins = 0
                camera.locked_until = now + camera.knobs.lockout_seconds * fleet.time_scale
                camera.record("locked-out")
        return None, stale
    camera.failed_logins = 0
    return users.get(name), False


def challenge(request: web.Request, camera: Camera, *, stale: bool = False) -> web.Response:
    """Return the 401 a real camera sends: the challenge(s) and Apache's page.

    JSON CGIs answer with ``application/json`` and no body, as recorded on the P3265-V.
    """
    headers: CIMultiDict[str] = CIMultiDict()
    realm = camera.identity.realm
    offered = _schemes(request, camera)[0]
    if "digest" in offered:
        nonce = request.app[FLEET_KEY].nonces.make(realm)
        headers.add(
            "WWW-Authenticate",
            digest_challenge(realm, nonce, qop=camera.knobs.digest_qop, stale=stale),
        )
    if "basic" in offered:
        headers.add("WWW-Authenticate", basic_challenge(realm))
    if request.get("json_cgi"):
        return web.Response(
            status=401, body=b"", content_type=JSON_TYPE, charset="utf-8", headers=headers
        )
    return error_page(401, headers)


def require(request: web.Request, camera: Camera, level: str, *, ptz: bool = False) -> User:
    """Return the authenticated user holding `level` (and ptz); otherwise raise Reply.

    Missing or wrong credentials get a 401 challenge. A valid but weaker user gets the
    camera's privilege answer: 401 (older firmware, the default) or 403 (knob).
    """
    user, stale = _authenticate(request, camera)
    if user is None:
        raise Reply(challenge(request, camera, stale=stale))
    if not user.has_level(level) or (ptz and "ptz" not in user.groups):
        if camera.knobs.privilege_status == 403:
            raise Reply(error_page(403))
        raise Reply(challenge(request, camera))
    return user


# ----- request body helpers -----------------------------------------------------------------


async def throttle(camera: Camera, started: float, transferred: int) -> None:
    """Sleep so that `transferred` bytes since `started` keep to the slow-link rate."""
    rate = camera.faults.get("slow-link")
    if rate:
        delay = started + transferred / float(rate) - time.monotonic()  # type: ignore[arg-type]
        if delay > 0:
            await asyncio.sleep(delay)


async def read_small_body(request: web.Request, camera: Camera) -> bytes:
    """Read a non-upload body (capped at 64 KiB), honouring the slow-link fault."""
    started = time.monotonic()
    body = await request.content.read(MAX_JSON_BODY + 1)
    await throttle(camera, started, len(body))
    return body


async def form_args(request: web.Request, camera: Camera) -> list[tuple[str, str]]:
    """Return query arguments followed by url-encoded form arguments, in order."""
    pairs = list(request.query.items())
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        body = await read_small_body(request, camera)
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return pairs


# ----- AJR (JSON) APIs ----------------------------------------------------------------------


@dataclass(frozen=True)
class AjrApi:
    """How one JSON CGI frames answers and which codes it uses for generic errors."""

    name: str
    echo_method: bool
    method_first: bool  # apidiscovery puts "method" before "apiVersion"
    version_in_supported: bool  # getSupportedVersions answer carries apiVersion
    reject_version_in_supported: bool  # 4002 when a client sends apiVersion there
    invalid_json: tuple[int, str]
    http_method: tuple[int, str]
    bad_version: tuple[int, str]
    unknown_method: tuple[int, str]
    missing_param: tuple[int, str]


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
FWMGR = AjrApi(
    "fwmgr",
    True,
    False,
    True,
    False,
    invalid_json=(400, "Could not parse request."),
    http_method=(405, "Only POST is supported."),
    bad_version=(417, "Unsupported API version."),
    unknown_method=(405, "Unknown method in request."),
    missing_param=(400, "Invalid parameter."),
)


@dataclass
class AjrCall:
    """A parsed JSON request and how to answer it."""

    api: AjrApi
    camera: Camera
    method: str | None
    params: dict[str, Any]
    context: object

    def _frame(self, *, success: bool = False) -> dict[str, Any]:
        frame: dict[str, Any] = {}
        version = getattr(self.camera.profile, self.api.name)
        show_method = self.method is not None and (
            self.api.echo_method or self.method == "getSupportedVersions"
        )
        if self.api.method_first and show_method:
            frame["method"] = self.method
        # Recorded: apidiscovery/basicdeviceinfo answer getSupportedVersions without apiVersion.
        if not (success and self.method == "getSupportedVersions") or self.api.version_in_supported:
            frame["apiVersion"] = version
        if self.context is not None:
            frame["context"] = self.context
        if show_method and not self.api.method_first:
            frame["method"] = self.method
        return frame

    def data(self, data: dict[str, Any]) -> web.Response:
        """Return a success envelope."""
        return _json({**self._frame(success=True), "data": data})

    def error(self, code: int, message: str) -> web.Response:
        """Return an error envelope (HTTP 200, VAPIX.md §1.2)."""
        return _json({**self._frame(), "error": {"code": code, "message": message}})


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(payload), content_type=JSON_TYPE)


def parse_envelope(api: AjrApi, camera: Camera, raw: bytes, *, content_type: str) -> AjrCall:
    """Parse an AJR request body; raise Reply with the CGI's error envelope when invalid."""
    call = AjrCall(api, camera, None, {}, None)
    if content_type != JSON_TYPE:
        raise Reply(call.error(*api.invalid_json))
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Reply(call.error(*api.invalid_json)) from None
    if not isinstance(payload, dict):
        raise Reply(call.error(*api.invalid_json))
    call.context = payload.get("context")
    method = payload.get("method")
    if not isinstance(method, str):
        raise Reply(call.error(*api.missing_param))
    call.method = method
    params_value = payload.get("params", {})
    if not isinstance(params_value, dict):
        raise Reply(call.error(*api.missing_param))
    call.params = params_value
    version = payload.get("apiVersion")
    if method == "getSupportedVersions":
        if version is not None and api.reject_version_in_supported:
            raise Reply(
                call.error(
                    api.missing_param[0],
                    "'apiVersion' must not be provided for method 'getSupportedVersions'",
                )
            )
        return call
    if not isinstance(version, str):
        raise Reply(call.error(*api.missing_param))
    major, _, minor = version.partition(".")
    if major != "1" or (minor and not minor.isdigit()):
        raise Reply(call.error(*api.bad_version))
    return call


async def read_ajr(request: web.Request, camera: Camera, api: AjrApi) -> AjrCall:
    """Enforce POST + JSON, read the body and parse the envelope (VAPIX.md §14 item 8)."""
    request["json_cgi"] = True
    if request.method != "POST":
        raise Reply(AjrCall(api, camera, None, {}, None).error(*api.http_method))
    body = await read_small_body(request, camera)
    return parse_envelope(api, camera, body, content_type=request.content_type)


def _not_found_unless(condition: bool) -> None:
    if not condition:
        raise Reply(error_page(404))


async def handle_apidiscovery(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``/axis-cgi/apidiscovery.cgi`` (VAPIX.md §3)."""
    _not_found_unless(camera.profile.has_json_apis)
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
    _not_found_unless(camera.profile.has_json_apis)
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
    user, stale = _authenticate(request, camera)
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
    _not_found_unless(camera.profile.has_systemready)
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


# ----- firmware management ------------------------------------------------------------------

_FW_MESSAGES = {
    400: "Invalid parameter.",
    404: "No old firmware exists.",
    409: "Downgrade is only allowed if factoryDefault=hard is set.",
    410: "Firmware version has been revoked.",
    412: "Active firmware is not committed.",
    415: "Invalid firmware image.",
    421: "Firmware image does not match this device.",
    422: "Firmware image is not signed.",
    423: "Device is busy with another firmware management request.",
    424: "Firmware image is signed with an unknown custom certificate.",
    500: "Unexpected internal error.",
}


def fw_error(call: AjrCall, code: int) -> web.Response:
    """Return a fwmgr error envelope with the device's message for `code`."""
    return call.error(code, _FW_MESSAGES.get(code, "Unexpected internal error."))


async def fwmgr_expect(request: web.Request) -> web.StreamResponse | None:
    """Answer ``Expect: 100-continue`` only for an admin, so a 401 costs no upload."""
    fleet: Fleet = request.app[FLEET_KEY]
    camera = fleet.camera_for(request)
    if camera is None or camera.phase == DOWN or not camera.profile.has_json_apis:
        return None  # the handler gives the real answer (or drops the connection)
    request["camera"] = camera
    request["json_cgi"] = True
    try:
        require(request, camera, "admin")
    except Reply as reply:
        return reply.response
    if request.version == (1, 1) and request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    return None


def firmware_status(camera: Camera) -> dict[str, Any]:
    """Return ``status`` data with the field presence rules of VAPIX.md §6.2."""
    data: dict[str, Any] = {
        "activeFirmwareVersion": camera.active_version,
        "activeFirmwarePart": firmware_part(camera.active_version),
    }
    if camera.inactive_version is not None:
        data["inactiveFirmwareVersion"] = camera.inactive_version
        data["isCommited"] = camera.is_committed
        if camera.pending_commit:
            data["pendingCommit"] = "started"
        left = camera.time_to_rollback()
        if left is not None and not camera.is_committed:
            data["timeToRollback"] = left
        if camera.last_upgrade_at is not None:
            data["lastUpgradeAt"] = camera.last_upgrade_at
    if camera.profile.has_reset_source:
        data["resetSource"] = camera.reset_source
    return data


async def handle_fwmgr(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``/axis-cgi/firmwaremanagement.cgi`` (VAPIX.md §6); every method needs admin."""
    _not_found_unless(camera.profile.has_json_apis)
    request["json_cgi"] = True
    require(request, camera, "admin")
    if request.method == "POST" and request.content_type == "multipart/form-data":
        return await fwmgr_upgrade(request, camera)
    call = await read_ajr(request, camera, FWMGR)
    method = call.method
    if method == "getSupportedVersions":
        return call.data({"apiVersions": [camera.profile.fwmgr]})
    known = {
        "status",
        "upgrade",
        "commit",
        "rollback",
        "purge",
        "factoryDefault",
        "stopAuto",
        "reboot",
    }
    if method not in known:
        return call.error(*FWMGR.unknown_method)
    if camera.fwmgr_busy is not None:
        return fw_error(call, 423)
    if method == "status":
        return call.data(firmware_status(camera))
    if method == "upgrade":
        # The image always travels in a multipart body (VAPIX.md §6.3).
        return fw_error(call, 400)
    if method == "commit":
        camera.commit()
        return call.data({"firmwareVersion": camera.active_version})
    if method == "rollback":
        if camera.inactive_version is None:
            return fw_error(call, 404)
        camera.fwmgr_busy = "pre-reboot"
        camera.record("rollback-requested")
        request.app[FLEET_KEY].after(camera, camera.host.timing.pre_reboot, camera.rollback)
        return call.data({})
    if method == "purge":
        if not camera.is_committed:
            return fw_error(call, 412)
        camera.purge()
        return call.data({})
    if method == "factoryDefault":
        mode = call.params.get("factoryDefaultMode", "soft")
        if mode not in ("soft", "hard") or set(call.params) - {"factoryDefaultMode"}:
            return fw_error(call, 400)
        camera.fwmgr_busy = "pre-reboot"
        camera.factory_default(mode)
        return call.data({})
    if method == "stopAuto":
        camera.stop_auto()
        return call.data({})
    camera.fwmgr_busy = "pre-reboot"
    camera.reboot("reboot", delay=camera.host.timing.pre_reboot)
    return call.data({})


def resolve_upgrade_params(raw: dict[str, Any]) -> PendingUpgrade | None:
    """Resolve autoCommit/autoRollback/factoryDefaultMode per VAPIX.md §6.3; None if invalid."""
    if set(raw) - {"factoryDefaultMode", "autoCommit", "autoRollback"}:
        return None
    mode = raw.get("factoryDefaultMode", "none")
    commit = raw.get("autoCommit", "default")
    rollback = raw.get("autoRollback", "default")
    if mode not in ("none", "soft", "hard"):
        return None
    if commit not in ("never", "boot", "started", "default"):
        return None
    if not isinstance(rollback, str) or not (
        rollback in ("never", "default") or (rollback.isdigit() and int(rollback) > 0)
    ):
        return None
    if commit == "default":
        # VAPIX.md §6.3: "default" means never when a rollback time is given, else boot/started.
        commit = "never" if rollback != "default" else ("boot" if mode != "none" else "started")
    if rollback == "default":
        minutes: int | None = 10 if raw.get("autoCommit", "default") == "default" else None
    elif rollback == "never":
        minutes = None
    else:
        minutes = int(rollback)
    return PendingUpgrade(commit, minutes, boots=True, factory_default=mode)


async def _drain(reader: Any) -> None:
    """Read and discard the rest of a multipart body so the client can read our answer."""
    while True:
        part = await reader.next()
        if part is None:
            return
        while await part.read_chunk(UPLOAD_CHUNK):
            pass


def _check_image(camera: Camera, header: ImageHeader, pending: PendingUpgrade | None) -> int | None:
    """Return the fwmgr error code for a verified image, or None to install it (§14 item 18)."""
    if camera.product.number not in header.products:
        return 421
    if not header.signed:
        return 422
    if header.cert == "unknown":
        return 424
    if header.revoked:
        return 410
    if pending is None:
        return 400
    if camera.is_downgrade(header.version) and pending.factory_default != "hard":
        return 409
    return None


async def _upload_faults(request: web.Request, camera: Camera, received: int, total: int) -> None:
    """Apply upload-reset / upload-stall once `received` of `total` bytes have arrived."""
    if not total:
        return
    done = received * 100 / total
    reset_at = camera.faults.get("upload-reset")
    if reset_at is not None and done >= int(reset_at):  # type: ignore[call-overload]
        camera.record("upload-reset", received=received)
        raise Dropped("upload reset by fault")
    stall_at = camera.faults.get("upload-stall")
    if stall_at is not None and done >= int(stall_at) and not request.get("stalled"):  # type: ignore[call-overload]
        request["stalled"] = True
        camera.record("upload-stalled", received=received)
        seconds = camera.knobs.upload_stall_seconds * camera.host.time_scale
        until = time.monotonic() + seconds if seconds else None
        while "upload-stall" in camera.faults and camera.is_served():
            if until is not None and time.monotonic() >= until:
                break
            await asyncio.sleep(0.05)


async def fwmgr_upgrade(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Receive, verify and install an image from a multipart upgrade request.

    The image is hashed while it streams in and never stored: memory per upload is one chunk.
    """
    reader = await request.multipart()
    call = AjrCall(FWMGR, camera, "upgrade", {}, None)
    first = await reader.next()
    if not isinstance(first, BodyPartReader):
        return fw_error(call, 400)
    if first.filename is not None and camera.knobs.reject_json_filename:
        await _drain(reader)
        return call.error(400, "Only string objects allowed.")
    raw = bytearray()
    while chunk := await first.read_chunk(8192):
        raw += chunk
        if len(raw) > MAX_JSON_BODY:
            await _drain(reader)
            return fw_error(call, 400)
    try:
        parsed = parse_envelope(FWMGR, camera, bytes(raw), content_type=JSON_TYPE)
    except Reply as reply:
        await _drain(reader)
        return reply.response
    call = parsed
    if call.method != "upgrade":
        await _drain(reader)
        return fw_error(call, 400)
    image = await reader.next()
    if not isinstance(image, BodyPartReader):
        return fw_error(call, 400)
    refusal: int | None = None
    if camera.fwmgr_busy is not None:
        refusal = 423
    elif not camera.is_committed:
        refusal = 412
    if refusal is not None:
        await image.release()
        await _drain(reader)
        return fw_error(call, refusal)
    camera.fwmgr_busy = "receiving"
    camera.record("upload-started")
    installed = False
    try:
        if camera.knobs.purge_before_validation and camera.inactive_version is not None:
            camera.purge()
        verifier = StreamingVerifier()
        started = time.monotonic()
        total = request.content_length or 0
        while chunk := await image.read_chunk(UPLOAD_CHUNK):
            verifier.feed(chunk)
            await throttle(camera, started, verifier.size)
            await _upload_faults(request, camera, verifier.size, total)
        await _drain(reader)
        camera.fwmgr_busy = "verifying"
        camera.record("verifying", size=verifier.size)
        await asyncio.sleep(camera.host.timing.verify * camera.host.time_scale)
        if camera.phase != RUNNING:
            raise Dropped("camera went down while verifying")
        code: int | None = None
        header: ImageHeader | None = None
        if "refuse-image" in camera.faults:
            code = int(camera.faults["refuse-image"])  # type: ignore[call-overload]
        else:
            try:
                header = verifier.finish()
            except ImageError as exc:
                code = 421 if exc.reason == ImageError.GARBLED else 415
        pending = resolve_upgrade_params(call.params)
        if code is None and header is not None:
            code = _check_image(camera, header, pending)
        if code is not None or header is None or pending is None:
            camera.record("upgrade-refused", code=code)
            return fw_error(call, code or 400)
        pending.boots = header.boots
        answer = call.data({"firmwareVersion": header.version})
        if camera.knobs.answer_after_flash and "answer-lost" not in camera.faults:
            # VAPIX.md §14 item 25 knob: flash first, answer, then reboot at once.
            camera.fwmgr_busy = "pre-reboot"
            camera.record("flashing", version=header.version)
            await asyncio.sleep(camera.host.timing.pre_reboot * camera.host.time_scale)
            if camera.phase != RUNNING:
                raise Dropped("camera went down while flashing")
            await answer.prepare(request)
            await answer.write_eof()
            camera.install(header.version, pending, now=True)
            installed = True
            return answer
        camera.install(header.version, pending)
        installed = True
        if "answer-lost" in camera.faults:
            # The device reboots without ever sending the answer (VAPIX.md §14 item 29).
            raise Dropped("answer lost")
        return answer
    finally:
        if not installed and camera.fwmgr_busy in ("receiving", "verifying", "pre-reboot"):
            camera.fwmgr_busy = None


# ----- legacy CGIs --------------------------------------------------------------------------


async def handle_restart(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``restart.cgi``: an HTML page, then a reboot."""
    require(request, camera, "admin")
    camera.reboot("restart.cgi", delay=camera.host.timing.pre_reboot)
    return html_body_page("Restarting", "Restarting camera. Please wait.")


async def handle_factorydefault(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``factorydefault.cgi`` / ``hardfactorydefault.cgi``: reset users, reboot."""
    require(request, camera, "admin")
    hard = request.path.endswith("hardfactorydefault.cgi")
    camera.factory_default("hard" if hard else "soft")
    return html_body_page("Factory default", "Restoring factory defaults. Restarting camera.")


async def handle_firmwareupgrade(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer legacy ``firmwareupgrade.cgi``: one file part, HTML answer, no error codes."""
    require(request, camera, "admin")
    if request.method != "POST" or request.content_type != "multipart/form-data":
        return error_page(400)
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader):
        return error_page(400)
    verifier = StreamingVerifier()
    started = time.monotonic()
    while chunk := await part.read_chunk(UPLOAD_CHUNK):
        verifier.feed(chunk)
        await throttle(camera, started, verifier.size)
    await _drain(reader)
    try:
        header = verifier.finish()
    except ImageError:
        return html_body_page("Upgrade", "Upgrade failed: invalid firmware file.")
    refused = "refuse-image" in camera.faults or _check_image(
        camera, header, PendingUpgrade("never", None, True, "none")
    ) not in (None, 409)
    if refused:
        return html_body_page("Upgrade", "Upgrade failed: the file does not fit this product.")
    camera.legacy_upgrade(header.version, request.query.get("type") == "factorydefault")
    return html_body_page("Upgrade", "Upgrade successful. Restarting camera.")


# ----- parameters, users --------------------------------------------------------------------


def _allowed_levels(user: User) -> set[str]:
    """Return every role level up to the user's own (what the user may read)."""
    return set(LEVELS[: LEVELS.index(user.level) + 1])


async def handle_param(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``param.cgi`` ``list`` and ``update`` (VAPIX.md §8)."""
    user = require(request, camera, "viewer")
    args = await form_args(request, camera)
    action = next((value for key, value in args if key == "action"), None)
    if action == "list":
        group_arg = next((value for key, value in args if key == "group"), "")
        groups = [g.strip() for g in group_arg.split(",") if g.strip()] or None
        text = params.list_params(camera, groups, _allowed_levels(user))
        return web.Response(text=text, content_type="text/plain", charset="iso-8859-1")
    if action == "update":
        if not user.has_level("operator"):
            require(request, camera, "operator")
        updates = [(k, v) for k, v in args if k not in ("action", "usergroup")]
        return text_response(params.update_params(camera, updates, user.level))
    return text_response(f"# Error: Unknown action '{action or ''}'\n")


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


# ----- media --------------------------------------------------------------------------------


def _image_args(request: web.Request, camera: Camera) -> tuple[int, int, int] | str:
    """Return (width, height, quality) from snapshot arguments, or an error text."""
    query = request.query
    resolution = (
        query.get("resolution") or params.build_tree(camera)["Image.I0.Appearance.Resolution"]
    )
    if resolution not in camera.product.resolutions.split(","):
        return f"Error: resolution {resolution} is not supported.\n"
    if query.get("camera", "1") not in ("1", "quad"):
        return f"Error: camera {query.get('camera')} is not available.\n"
    compression = query.get("compression", "30")
    if not compression.isdigit() or int(compression) > 100:
        return f"Error: compression {compression} is out of range.\n"
    width, height = (int(x) for x in resolution.split("x"))
    return width, height, quality_from_compression(int(compression))


def _frame(camera: Camera, width: int, height: int, quality: int, moment: datetime) -> bytes:
    return render_jpeg(
        camera.serial, camera.product.short_name, width, height, quality, moment=moment
    )


async def handle_snapshot(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``jpg/image.cgi`` with a generated JPEG (VAPIX.md §10.1)."""
    require(request, camera, "viewer")
    parsed = _image_args(request, camera)
    if isinstance(parsed, str):
        return text_response(parsed)
    jpeg = _frame(camera, *parsed, datetime.now(UTC))
    return web.Response(body=jpeg, content_type="image/jpeg")


BOUNDARY = "myboundary"


async def _stream_frames(
    request: web.Request,
    camera: Camera,
    frames: Callable[[int], bytes | None],
    interval: float,
) -> web.StreamResponse:
    """Send JPEG frames as ``multipart/x-mixed-replace`` until `frames` returns None."""
    response = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
    )
    await response.prepare(request)
    started = time.monotonic()
    sent = 0
    index = 0
    try:
        while (jpeg := frames(index)) is not None:
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            ).encode("ascii")
            await response.write(head + jpeg + b"\r\n")
            sent += len(head) + len(jpeg) + 2
            await throttle(camera, started, sent)
            index += 1
            if camera.phase != RUNNING:
                break
            if interval:
                await asyncio.sleep(interval)
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


async def handle_mjpeg(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``mjpg/video.cgi``: frames with fps/nbrofframes/duration (VAPIX.md §10.2)."""
    require(request, camera, "viewer")
    parsed = _image_args(request, camera)
    if isinstance(parsed, str):
        return text_response(parsed)
    query = request.query
    try:
        fps = int(query.get("fps", "0"))
        count = int(query.get("nbrofframes", "0"))
        duration = float(query.get("duration", "0"))
    except ValueError:
        return text_response("Error: invalid stream argument.\n")
    # "Unlimited" fps is capped at 10: frames only change once a second anyway.
    interval = 1.0 / min(fps, 10) if fps > 0 else 0.1
    deadline = time.monotonic() + duration if duration > 0 else None

    def frames(index: int) -> bytes | None:
        if (count and index >= count) or (deadline and time.monotonic() >= deadline):
            return None
        return _frame(camera, *parsed, datetime.now(UTC))

    return await _stream_frames(request, camera, frames, interval)


async def handle_ptz(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``com/ptz.cgi`` queries and preset commands on PTZ models."""
    _not_found_unless(camera.product.has_ptz)
    args = dict(await form_args(request, camera))
    presets = camera.settings.presets
    query = args.get("query")
    if query is not None:
        require(request, camera, "viewer")
        pan, tilt, zoom = camera.ptz_position
        if query == "presetposall":
            lines = ["Preset Positions for camera 1"] + [
                f"presetposno{number}={preset.name}" for number, preset in sorted(presets.items())
            ]
            return text_response("\r\n".join(lines) + "\r\n")
        if query == "position":
            return text_response(f"pan={pan:g}\r\ntilt={tilt:g}\r\nzoom={zoom:g}\r\n")
        if query == "limits":
            return text_response(
                "MinPan=-180\r\nMaxPan=180\r\nMinTilt=-20\r\nMaxTilt=90\r\n"
                "MinZoom=1\r\nMaxZoom=9999\r\n"
            )
        if query == "speed":
            return text_response("speed=100\r\n")
        return text_response(f"Error: unknown query '{query}'\r\n")
    if "setserverpresetname" in args or "removeserverpresetname" in args:
        require(request, camera, "operator", ptz=True)
        if "setserverpresetname" in args:
            name = args["setserverpresetname"]
            if not name or len(name) > 31:
                return text_response("Error: invalid preset name\r\n")
            number = next((n for n, p in presets.items() if p.name == name), None)
            number = number or max(presets, default=0) + 1
            presets[number] = PtzPreset(name, *camera.ptz_position)
            camera.record("ptz-preset-set", name=name)
            return web.Response(status=204)
        name = args["removeserverpresetname"]
        number = next((n for n, p in presets.items() if p.name == name), None)
        if number is None:
            return text_response(f"Error: preset '{name}' not found\r\n")
        del presets[number]
        return web.Response(status=204)
    require(request, camera, "viewer", ptz=True)
    if "gotoserverpresetname" in args or "gotoserverpresetno" in args:
        if "gotoserverpresetno" in args:
            wanted = presets.get(int(args["gotoserverpresetno"] or 0))
        else:
            wanted = next(
                (p for p in presets.values() if p.name == args["gotoserverpresetname"]), None
            )
        if wanted is None:
            return text_response("Error: preset not found\r\n")
        camera.ptz_position = (wanted.pan, wanted.tilt, wanted.zoom)
        return web.Response(status=204)
    if args.get("move") == "home":
        home = presets.get(1, PtzPreset("Home", 0.0, 0.0, 1.0))
        camera.ptz_position = (home.pan, home.tilt, home.zoom)
        return web.Response(status=204)
    if {"pan", "tilt", "zoom"} & set(args):
        pan, tilt, zoom = camera.ptz_position
        try:
            pan = max(-180.0, min(180.0, float(args.get("pan", pan))))
            tilt = max(-20.0, min(90.0, float(args.get("tilt", tilt))))
            zoom = max(1.0, min(9999.0, float(args.get("zoom", zoom))))
        except ValueError:
            return text_response("Error: invalid position\r\n")
        camera.ptz_position = (pan, tilt, zoom)
        return web.Response(status=204)
    return text_response("Error: no valid PTZ command\r\n")


# ----- edge recordings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """One edge recording on the camera's SD card."""

    recording_id: str
    start: datetime
    stop: datetime


def recordings(camera: Camera, epoch: datetime) -> list[Recording]:
    """Return the camera's recordings: 3-5 per camera, derived from its serial and `epoch`."""
    digest = hashlib.sha256(f"rec:{camera.serial}".encode()).digest()
    result = []
    day = epoch.replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(3 + digest[0] % 3):
        start = day - timedelta(days=i + 1, minutes=-(digest[i + 1] * 5))
        stop = start + timedelta(minutes=5 + digest[i + 6] % 55)
        code = f"{digest[i + 10]:02X}{digest[i + 11]:02X}"
        recording_id = f"{start:%Y%m%d_%H%M%S}_{code}_{camera.serial}"
        result.append(Recording(recording_id, start, stop))
    return sorted(result, key=lambda r: r.start)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def handle_record_list(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``record/list.cgi`` with the recordings XML (list1.xsd shape)."""
    require(request, camera, "viewer")
    all_recordings = recordings(camera, request.app[FLEET_KEY].epoch)
    wanted = request.query.get("recordingid", "all")
    selected = [r for r in all_recordings if wanted in ("all", r.recording_id)]
    limit = request.query.get("maxnumberofresults")
    if limit and limit.isdigit():
        selected = selected[: int(limit)]
    width, height = camera.product.resolutions.split(",")[0].split("x")
    items = "".join(
        f'    <recording diskid="SD_DISK" recordingid={quoteattr(r.recording_id)} '
        f'starttime="{_iso(r.start)}" stoptime="{_iso(r.stop)}" recordingtype="continuous" '
        'eventid="continuous" eventtrigger="continuous" recordingstatus="completed" '
        'source="1" locked="No">\n'
        f'      <video mimetype="image/jpeg" width="{width}" height="{height}" '
        f'framerate="1:1" resolution="{width}x{height}"/>\n'
        "    </recording>\n"
        for r in selected
    )
    body = (
        '<?xml version="1.0"?>\n<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/recording/list1.xsd">\n'
        f'  <recordings totalnumberofrecordings="{len(all_recordings)}" '
        f'numberofrecordings="{len(selected)}">\n{items}  </recordings>\n</root>\n'
    )
    return web.Response(text=body, content_type="text/xml")


async def handle_record_export(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Play back one recording as MJPEG frames stamped with the recording's own times."""
    require(request, camera, "viewer")
    wanted = request.query.get("recordingid")
    recording = next(
        (r for r in recordings(camera, request.app[FLEET_KEY].epoch) if r.recording_id == wanted),
        None,
    )
    if recording is None:
        return error_page(404)
    seconds = int((recording.stop - recording.start).total_seconds())
    limit = request.query.get("nbrofframes", "10")
    count = min(seconds, int(limit) if limit.isdigit() and int(limit) > 0 else 10)

    def frames(index: int) -> bytes | None:
        if index >= count:
            return None
        moment = recording.start + timedelta(seconds=index * seconds / max(count, 1))
        return _frame(camera, 640, 360, 70, moment)

    return await _stream_frames(request, camera, frames, 0.0)


# ----- application --------------------------------------------------------------------------

ROUTES: dict[str, Handler] = {
    "/axis-cgi/apidiscovery.cgi": handle_apidiscovery,
    "/axis-cgi/basicdeviceinfo.cgi": handle_basicdeviceinfo,
    "/axis-cgi/systemready.cgi": handle_systemready,
    "/axis-cgi/firmwaremanagement.cgi": handle_fwmgr,
    "/axis-cgi/param.cgi": handle_param,
    "/axis-cgi/admin/param.cgi": handle_param,
    "/axis-cgi/pwdgrp.cgi": handle_pwdgrp,
    "/axis-cgi/usergroup.cgi": handle_usergroup,
    "/axis-cgi/jpg/image.cgi": handle_snapshot,
    "/axis-cgi/mjpg/video.cgi": handle_mjpeg,
    "/axis-cgi/com/ptz.cgi": handle_ptz,
    "/axis-cgi/record/list.cgi": handle_record_list,
    "/axis-cgi/record/export/exportrecording.cgi": handle_record_export,
    "/axis-cgi/restart.cgi": handle_restart,
    "/axis-cgi/factorydefault.cgi": handle_factorydefault,
    "/axis-cgi/hardfactorydefault.cgi": handle_factorydefault,
    "/axis-cgi/firmwareupgrade.cgi": handle_firmwareupgrade,
}


def _drop(request: web.Request) -> web.Response:
    """Kill the connection without an answer (the camera is not there).

    The returned response is never delivered: aiohttp finds the transport closed and drops
    it quietly, where raising would log a server error for what is a simulated fault.
    """
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=204)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Route a request to its camera and CGI, applying faults and the boot window first."""
    fleet: Fleet = request.app[FLEET_KEY]
    camera = request.get("camera") or fleet.camera_for(request)
    if camera is None:
        return _drop(request)
    request["camera"] = camera
    blackholed = camera.phase == DOWN
    while ("hang" in camera.faults or camera.phase == DOWN) and camera.is_served():
        # "hang" fault, or a reboot in blackhole mode: accepted, never answered.
        await asyncio.sleep(0.05)
    if blackholed or not camera.is_served():
        return _drop(request)
    faults = camera.faults
    if "latency" in faults:
        await asyncio.sleep(int(faults["latency"]) / 1000)  # type: ignore[call-overload]
    if "html-errors" in faults:
        return error_page(int(faults["html-errors"]))  # type: ignore[call-overload]
    if "flaky-errors" in faults and camera.chance(int(faults["flaky-errors"])):  # type: ignore[call-overload]
        return error_page(500)
    handler = ROUTES.get(request.path)
    if handler is None:
        return error_page(404)
    if camera.phase == BOOTING and handler is not handle_systemready:
        return error_page(503)
    try:
        response = await handler(request, camera)
    except Reply as reply:
        response = reply.response
    except (Dropped, ConnectionError):
        # Dropped on purpose, or the client went away (e.g. timed out on a hung camera) while
        # we read its body: nothing to answer, and nothing worth a server error log.
        return _drop(request)
    if (
        "bad-json" in faults
        and isinstance(response, web.Response)
        and response.content_type == JSON_TYPE
        and response.body
    ):
        # 200 with a cut-off JSON document (VAPIX.md §14 item 33).
        body = bytes(response.body)  # type: ignore[arg-type]
        response = web.Response(
            status=response.status, body=body[: len(body) // 2], content_type=JSON_TYPE
        )
    rate = faults.get("slow-link")
    if rate and isinstance(response, web.Response) and response.body:
        return await _slow_send(request, camera, response)
    return response


async def _slow_send(
    request: web.Request, camera: Camera, response: web.Response
) -> web.StreamResponse:
    """Send a finished response at the slow-link rate."""
    body = bytes(response.body)  # type: ignore[arg-type]
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    started = time.monotonic()
    step = max(512, int(camera.faults["slow-link"]) // 10)  # type: ignore[call-overload]
    for offset in range(0, len(body), step):
        await stream.write(body[offset : offset + step])
        await throttle(camera, started, offset + step)
    await stream.write_eof()
    return stream


def build_app(fleet: Fleet) -> web.Application:
    """Return the one application that serves every camera of `fleet`."""
    # No client_max_size cap matters: uploads are streamed, other bodies are read capped.
    app = web.Application(client_max_size=1 << 40)
    app[FLEET_KEY] = fleet
    app.on_response_prepare.append(set_device_headers)
    app.router.add_route(
        "*", "/axis-cgi/firmwaremanagement.cgi", dispatch, expect_handler=fwmgr_expect
    )
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
