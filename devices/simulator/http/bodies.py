"""Reading request bodies the way the cameras' CGIs do, with the slow-link fault applied."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

from aiohttp import web

from devices.simulator.camera import Camera

MAX_SMALL_BODY = 64 * 1024  # JSON envelopes and forms; uploads stream instead


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
    body = await request.content.read(MAX_SMALL_BODY + 1)
    await throttle(camera, started, len(body))
    return body


async def form_args(request: web.Request, camera: Camera) -> list[tuple[str, str]]:
    """Return query arguments followed by the body's form arguments, in order.

    A camera's CGI reads the form from the body whatever the client calls it: widely used
    clients label it ``text/plain`` or send no Content-Type at all. A line break ending the
    body (a form written with echo or kept in a file) is not part of the last value. Only a
    multipart body is not a form here (no CGI of ours takes one but the uploads).
    """
    pairs = list(request.query.items())
    if request.body_exists and request.content_type != "multipart/form-data":
        body = await read_small_body(request, camera)
        text = body.decode("utf-8", "replace").rstrip("\r\n")
        pairs += parse_qsl(text, keep_blank_values=True)
    return pairs
