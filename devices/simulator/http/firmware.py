"""Firmware and reboots: ``firmwaremanagement.cgi`` (VAPIX.md §6) and the legacy CGIs (§7).

Everything an upgrade touches on the HTTP side is here: the fwmgr methods and error texts, the
``Expect: 100-continue`` gate, the streamed multipart upload with its faults, and the legacy
``firmwareupgrade.cgi``, ``restart.cgi`` and ``(hard)factorydefault.cgi``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import BodyPartReader, web

from devices.simulator.camera import DOWN, RUNNING, Camera, PendingUpgrade
from devices.simulator.catalog import firmware_part
from devices.simulator.firmware import ImageError, ImageHeader, StreamingVerifier

from .ajr import AjrApi, AjrCall, parse_envelope, read_ajr
from .authentication import require
from .bodies import MAX_SMALL_BODY, throttle
from .host import FLEET_KEY
from .replies import Dropped, Reply, error_page, html_body_page, not_found_unless

UPLOAD_CHUNK = 256 * 1024

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
    camera = request.app[FLEET_KEY].camera_for(request)
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
    not_found_unless(camera.profile.has_json_apis)
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
        if len(raw) > MAX_SMALL_BODY:
            await _drain(reader)
            return fw_error(call, 400)
    try:
        parsed = parse_envelope(FWMGR, camera, bytes(raw))
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
    camera.upload_began()
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
        camera.upload_ended(installed=installed)
        if not installed and camera.fwmgr_busy in ("receiving", "verifying", "pre-reboot"):
            camera.fwmgr_busy = None


# ----- legacy CGIs ------------------------------------------------------------------------------


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
    camera.upload_began()
    installed = False
    try:
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
        installed = True
        return html_body_page("Upgrade", "Upgrade successful. Restarting camera.")
    finally:
        camera.upload_ended(installed=installed)
