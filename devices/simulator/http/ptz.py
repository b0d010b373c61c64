"""``com/ptz.cgi`` on PTZ models: queries, moves and server presets."""

from __future__ import annotations

from aiohttp import web

from devices.simulator.camera import Camera, PtzPreset
from devices.simulator.params import PTZ_LIMITS

from .authentication import require
from .bodies import form_args
from .replies import not_found_unless, text_response

# The commands this simulated PTZ head carries out, in the format of the recorded info=1 answer.
INFO = "\r\n".join(
    [
        "Available commands",
        ":",
        "{camera=[n]}",
        "move={ home }",
        "pan=[abspos]",
        "tilt=[abspos]",
        "zoom=[n]",
        "rpan=[offset]",
        "rtilt=[offset]",
        "rzoom=[offset]",
        "setserverpresetname=[name]",
        "removeserverpresetname=[name]",
        "gotoserverpresetname=[name]",
        "gotoserverpresetno=[n]",
        "query={ speed | position | limits | mode | presetposcam | presetposall }",
        "",
    ]
)

# Lens values the simulated head reports but never changes (no iris/focus commands).
_LENS = "iris=5000\r\nfocus=7500\r\nbrightness=4999\r\nautofocus=on\r\nautoiris=on\r\n"


def _query(camera: Camera, query: str) -> str | None:
    """Return the text answer of ``query=<query>``, or None for an unknown query."""
    if query in ("presetposall", "presetposcam"):
        presets = sorted(camera.settings.presets.items())
        lines = ["Preset Positions for camera 1"] + [
            f"presetposno{number}={preset.name}" for number, preset in presets
        ]
        return "\r\n".join(lines) + "\r\n"
    if query == "position":
        pan, tilt, zoom = camera.ptz_position
        return f"pan={pan:g}\r\ntilt={tilt:g}\r\nzoom={zoom:g}\r\n" + _LENS
    if query == "limits":
        return "".join(f"{name}={value}\r\n" for name, value in PTZ_LIMITS)
    if query == "speed":
        return "speed=100\r\n"
    if query == "mode":
        return "mode=normal\r\n"
    return None


async def handle_ptz(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``com/ptz.cgi`` queries and preset commands on PTZ models."""
    not_found_unless(camera.product.has_ptz)
    args = dict(await form_args(request, camera))
    presets = camera.settings.presets
    if args.get("info") == "1":
        require(request, camera, "viewer")
        return text_response(INFO)
    query = args.get("query")
    if query is not None:
        require(request, camera, "viewer")
        answer = _query(camera, query)
        return text_response(answer or f"Error: unknown query '{query}'\r\n")
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
    if {"rpan", "rtilt", "rzoom"} & set(args):
        pan, tilt, zoom = camera.ptz_position
        try:
            pan = max(-180.0, min(180.0, pan + float(args.get("rpan", 0))))
            tilt = max(-20.0, min(90.0, tilt + float(args.get("rtilt", 0))))
            zoom = max(1.0, min(9999.0, zoom + float(args.get("rzoom", 0))))
        except ValueError:
            return text_response("Error: invalid position\r\n")
        camera.ptz_position = (pan, tilt, zoom)
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
