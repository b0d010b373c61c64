"""The control API on its own port: tests and tools steer the fleet (VAPIX.md §14 item 34).

JSON in, JSON out, no authentication (it listens on loopback only).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from devices.simulator.applications import parse_applications
from devices.simulator.camera import Camera
from devices.simulator.faults import FaultSpecError

from .host import ControlledFleet


def build_control_app(fleet: ControlledFleet) -> web.Application:
    """Return the JSON control API (VAPIX.md §14 item 34) bound to `fleet`.

    GET  /cameras                      every camera's state
    GET  /cameras/{serial}             one camera's state plus its transition log
                                       (with "open_streams": MJPEG/playback answers being sent)
    GET  /streams                      {"total": n, "cameras": {serial: n}}: open streams
    POST /cameras/{serial}/faults      {"slow-link": 20000, "offline": true, "hang": null}
    DELETE /cameras/{serial}/faults    clear that camera's faults
    POST /cameras/{serial}/knobs       {"auth_policy": "basic", "privilege_status": 403, ...}
    POST /cameras/{serial}/applications {"applications": [{"name": "vmd", "nice_name": ...}]}
                                       replaces the installed applications (list.cgi)
    POST /cameras/{serial}/power-cycle uncommitted image rolls back, else plain reboot
    POST /cameras/{serial}/reset       back to the initial state
    POST /cameras/{serial}/certificate new self-signed certificate (HTTPS fleets)
    POST /faults                       {"spec": "offline=5%"} adds faults fleet-wide
    DELETE /faults                     clear every fault
    POST /reset                        every camera back to its initial state
    GET  /activity                     upgrade counters: uploads/upgrades now and peak,
                                       installs per original serial (activity.py)
    DELETE /activity                   forget past peaks and installs
    """
    routes = web.RouteTableDef()

    def find(request: web.Request) -> Camera:
        try:
            return fleet.camera(request.match_info["serial"])
        except KeyError:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such camera"}), content_type="application/json"
            ) from None

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body must be a JSON object"}),
                content_type="application/json",
            )
        return data

    def bad(message: str) -> web.Response:
        return web.json_response({"error": message}, status=400)

    @routes.get("/cameras")
    async def list_cameras(request: web.Request) -> web.Response:
        return web.json_response([camera.state() for camera in fleet.cameras])

    @routes.get("/cameras/{serial}")
    async def show_camera(request: web.Request) -> web.Response:
        camera = find(request)
        return web.json_response({**camera.state(), "log": list(camera.log)})

    @routes.get("/streams")
    async def open_streams(request: web.Request) -> web.Response:
        counts = {camera.serial: camera.open_streams for camera in fleet.cameras}
        return web.json_response({"total": sum(counts.values()), "cameras": counts})

    @routes.post("/cameras/{serial}/faults")
    async def set_faults(request: web.Request) -> web.Response:
        camera = find(request)
        try:
            faults = await fleet.set_faults(camera.serial, await body(request))
        except FaultSpecError as exc:
            return bad(str(exc))
        return web.json_response({"faults": faults})

    @routes.delete("/cameras/{serial}/faults")
    async def clear_camera_faults(request: web.Request) -> web.Response:
        camera = find(request)
        await fleet.clear_faults(camera.serial)
        return web.json_response({"faults": {}})

    @routes.post("/cameras/{serial}/knobs")
    async def set_knobs(request: web.Request) -> web.Response:
        camera = find(request)
        try:
            camera.knobs.update(await body(request))
        except ValueError as exc:
            return bad(str(exc))
        return web.json_response({"knobs": dict(vars(camera.knobs))})

    @routes.post("/cameras/{serial}/applications")
    async def set_applications(request: web.Request) -> web.Response:
        camera = find(request)
        try:
            applications = parse_applications((await body(request)).get("applications"))
        except ValueError as exc:
            return bad(str(exc))
        camera.set_applications(applications)
        return web.json_response({"applications": [app.as_dict() for app in applications]})

    @routes.post("/cameras/{serial}/power-cycle")
    async def power_cycle(request: web.Request) -> web.Response:
        camera = find(request)
        camera.power_cycle()
        await fleet.settle()
        return web.json_response(camera.state())

    @routes.post("/cameras/{serial}/reset")
    async def reset_camera(request: web.Request) -> web.Response:
        camera = find(request)
        await fleet.reset(camera.serial)
        return web.json_response(camera.state())

    @routes.post("/cameras/{serial}/certificate")
    async def regenerate(request: web.Request) -> web.Response:
        camera = find(request)
        try:
            fingerprint = fleet.regenerate_certificate(camera.serial)
        except ValueError as exc:
            return bad(str(exc))
        return web.json_response({"certificate_sha256": fingerprint})

    @routes.post("/faults")
    async def add_faults(request: web.Request) -> web.Response:
        spec = (await body(request)).get("spec")
        if not isinstance(spec, str):
            return bad("give {'spec': '<faults spec>'}")
        try:
            await fleet.apply_spec(spec)
        except FaultSpecError as exc:
            return bad(str(exc))
        return web.json_response({c.serial: c.faults for c in fleet.cameras if c.faults})

    @routes.delete("/faults")
    async def clear_all_faults(request: web.Request) -> web.Response:
        await fleet.clear_faults()
        return web.json_response({})

    @routes.post("/reset")
    async def reset_all(request: web.Request) -> web.Response:
        await fleet.reset()
        return web.json_response({"cameras": len(fleet.cameras)})

    @routes.get("/activity")
    async def activity(request: web.Request) -> web.Response:
        return web.json_response(fleet.activity.as_dict())

    @routes.delete("/activity")
    async def clear_activity(request: web.Request) -> web.Response:
        fleet.activity.clear()
        return web.json_response(fleet.activity.as_dict())

    app = web.Application()
    app.add_routes(routes)
    return app
