"""Pictures: snapshots, MJPEG streams and edge recordings (VAPIX.md §10)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import quoteattr

from aiohttp import web

from devices.simulator import params
from devices.simulator.camera import RUNNING, Camera
from devices.simulator.imaging import quality_from_compression, render_jpeg

from .authentication import require
from .bodies import form_args, throttle
from .host import FLEET_KEY
from .replies import error_page, text_response

BOUNDARY = "myboundary"


def _image_args(query: Mapping[str, str], camera: Camera) -> tuple[int, int, int] | str:
    """Return (width, height, quality) from snapshot arguments, or an error text."""
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
    parsed = _image_args(dict(await form_args(request, camera)), camera)
    if isinstance(parsed, str):
        return text_response(parsed)
    jpeg = _frame(camera, *parsed, datetime.now(UTC))
    return web.Response(body=jpeg, content_type="image/jpeg")


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
    camera.open_streams += 1
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
    finally:
        camera.open_streams -= 1
    return response


async def handle_mjpeg(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``mjpg/video.cgi``: frames with fps/nbrofframes/duration (VAPIX.md §10.2)."""
    require(request, camera, "viewer")
    query = dict(await form_args(request, camera))
    parsed = _image_args(query, camera)
    if isinstance(parsed, str):
        return text_response(parsed)
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


# ----- edge recordings --------------------------------------------------------------------------


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
    query = dict(await form_args(request, camera))
    all_recordings = recordings(camera, request.app[FLEET_KEY].epoch)
    wanted = query.get("recordingid", "all")
    selected = [r for r in all_recordings if wanted in ("all", r.recording_id)]
    limit = query.get("maxnumberofresults")
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
    query = dict(await form_args(request, camera))
    wanted = query.get("recordingid")
    recording = next(
        (r for r in recordings(camera, request.app[FLEET_KEY].epoch) if r.recording_id == wanted),
        None,
    )
    if recording is None:
        return error_page(404)
    seconds = int((recording.stop - recording.start).total_seconds())
    limit = query.get("nbrofframes", "10")
    count = min(seconds, int(limit) if limit.isdigit() and int(limit) > 0 else 10)

    def frames(index: int) -> bytes | None:
        if index >= count:
            return None
        moment = recording.start + timedelta(seconds=index * seconds / max(count, 1))
        return _frame(camera, 640, 360, 70, moment)

    return await _stream_frames(request, camera, frames, 0.0)
