"""The one aiohttp application that serves every camera: routing, faults, the boot window.

Each request is mapped to its camera by the local address it arrived on, so one application and
one handler set serve the whole fleet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from devices.simulator.camera import BOOTING, DOWN, Camera

from .applications import handle_list
from .bodies import throttle
from .firmware import (
    fwmgr_expect,
    handle_factorydefault,
    handle_firmwareupgrade,
    handle_fwmgr,
    handle_restart,
)
from .host import FLEET_KEY, FleetHost
from .json_apis import handle_apidiscovery, handle_basicdeviceinfo, handle_systemready
from .media import handle_mjpeg, handle_record_export, handle_record_list, handle_snapshot
from .parameters import handle_param
from .ptz import handle_ptz
from .replies import JSON_TYPE, Dropped, Reply, error_page, set_device_headers
from .users import handle_pwdgrp, handle_usergroup

Handler = Callable[[web.Request, Camera], Awaitable[web.StreamResponse]]

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
    "/axis-cgi/applications/list.cgi": handle_list,
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
    fleet = request.app[FLEET_KEY]
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


def build_app(fleet: FleetHost) -> web.Application:
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
