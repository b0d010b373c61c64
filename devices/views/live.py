"""Live view of one device: the page, and the snapshot and MJPEG proxied through the service.

The browser asks the service; the service asks the device with the stored credentials and
copies the answer through (`devices.streams`). Neither the credentials nor the device's
address ever reach the browser. When the device cannot give a picture, an image request gets
a placeholder image with the reason and any other request the reason as text — never a stack
trace. A stream counts against the person's concurrent stream limit (429 beyond it).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from uuid import UUID

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.errors import DomainError, NotFound
from common.forms import BootstrapForm
from devices import selectors, streams
from devices.connection import device_error, open_client
from devices.models import Device
from devices.vapix import MjpegFrame, Timeouts, VapixClient, VapixError
from organizations import access
from organizations.models import Membership
from organizations.roles import Action
from organizations.tenancy import organization_view

# Frame rates offered; every Axis device accepts 1-30 (a device with a lower maximum sends
# what it can).
FPS_CHOICES = (1, 2, 5, 10, 15, 25, 30)
DEFAULT_FPS = 10
RESOLUTION = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
# The device's resolutions change with firmware only: ask again after an hour.
RESOLUTIONS_CACHE_SECONDS = 60 * 60
RESOLUTIONS_CACHE_KEY = "camfleet:device-resolutions:{device_id}"
RESOLUTIONS_FAILURE_CACHE_SECONDS = 60
RESOLUTIONS_TIMEOUTS = Timeouts(connect=2.0, read=3.0, probe=2.0, total=5.0)


class LiveOptionsForm(BootstrapForm):
    """The picture size and frame rate of the live view, within what the device offers."""

    resolution = forms.ChoiceField(label=_("Resolution"), required=False)
    fps = forms.TypedChoiceField(
        label=_("Frames per second"),
        choices=[(value, str(value)) for value in FPS_CHOICES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_FPS,
    )

    def __init__(self, *args, resolutions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resolution"].choices = [("", _("Device default"))] + [
            (value, value) for value in resolutions
        ]


def device_resolutions(device: Device) -> list[str]:
    """Return the resolutions the device offers; [] when it cannot say (the device default).

    Asked while the page renders, so with short timeouts and no retry; the answer is kept an
    hour, a failure a minute (a silent device must not make every page load wait).
    """
    key = RESOLUTIONS_CACHE_KEY.format(device_id=device.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached
    resolutions: list[str] = []
    try:
        client = open_client(device, retries=0, timeouts=RESOLUTIONS_TIMEOUTS)
    except DomainError:
        cache.set(key, resolutions, RESOLUTIONS_FAILURE_CACHE_SECONDS)
        return resolutions
    try:
        parameters = client.list_parameters("Properties.Image.Resolution")
    except VapixError:
        cache.set(key, resolutions, RESOLUTIONS_FAILURE_CACHE_SECONDS)
        return resolutions
    finally:
        client.close()
    text = parameters.get("Properties.Image.Resolution") or ""
    resolutions = [value.strip() for value in text.split(",") if RESOLUTION.match(value.strip())]
    cache.set(key, resolutions, RESOLUTIONS_CACHE_SECONDS)
    return resolutions


def stream_options(query) -> tuple[str | None, int]:
    """Return (resolution, fps) from a stream URL's query, or raise InvalidOptions."""
    resolution = query.get("resolution") or None
    if resolution is not None and not RESOLUTION.match(resolution):
        raise InvalidOptions(_("The resolution must look like 640x360."))
    fps_text = query.get("fps") or str(DEFAULT_FPS)
    if not fps_text.isdecimal() or int(fps_text) not in FPS_CHOICES:
        raise InvalidOptions(_("Choose a frame rate from the list."))
    return resolution, int(fps_text)


class InvalidOptions(DomainError):
    http_status = 400
    default_code = "invalid_stream_options"

    def __init__(self, message) -> None:
        super().__init__(self.default_code, message)


def _viewable_device(membership: Membership, device_id: UUID) -> Device:
    device = selectors.get_visible_device(membership, device_id)
    access.require(membership, Action.DEVICE_VIEW, device)
    return device


def _placeholder_svg(message: str) -> str:
    lines = textwrap.wrap(message, width=56) or [""]
    top = 180 - 14 * len(lines)
    text = "".join(
        f'<tspan x="320" y="{top + 28 * index}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">'
        '<rect width="640" height="360" fill="#343a40"/>'
        '<text fill="#f8f9fa" font-family="sans-serif" font-size="18" text-anchor="middle">'
        f"{text}</text></svg>"
    )


def media_refusal(request: HttpRequest, error: DomainError) -> HttpResponse:
    """Answer a picture request that cannot be served: the reason, never a stack trace.

    An `<img>` (it asks for images) gets a placeholder image with the reason, so the page shows
    it where the picture would be; anything else the reason as plain text.
    """
    message = str(error.message)
    accept = request.headers.get("Accept", "")
    if "image/" in accept and "text/html" not in accept:
        response = HttpResponse(
            _placeholder_svg(message), content_type="image/svg+xml", status=error.http_status
        )
    else:
        response = HttpResponse(
            message, content_type="text/plain; charset=utf-8", status=error.http_status
        )
    response["Cache-Control"] = "no-store"
    response["X-Camfleet-Error"] = error.code
    return response


def mjpeg_response(stream: streams.ProxiedStream) -> StreamingHttpResponse:
    """Return the streaming answer for a proxied MJPEG body (never cached, never buffered)."""
    response = StreamingHttpResponse(stream, content_type=streams.MJPEG_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    # Reverse proxies (nginx) must pass each frame on at once instead of collecting the body.
    response["X-Accel-Buffering"] = "no"
    return response


@organization_view
@require_GET
def device_live(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """The live view tab: the stream, a snapshot download, size and frame rate, controls."""
    membership = request.membership
    device = _viewable_device(membership, device_id)
    resolutions = device_resolutions(device)
    form = LiveOptionsForm(request.GET or None, resolutions=resolutions)
    resolution, fps = "", DEFAULT_FPS
    if form.is_bound and form.is_valid():
        resolution, fps = form.cleaned_data["resolution"], form.cleaned_data["fps"]
    query = f"fps={fps}" + (f"&resolution={resolution}" if resolution else "")
    can_control = access.can(membership, Action.DEVICE_CONTROL, device)
    context = {
        "device": device,
        "active_tab": "live",
        "form": form,
        "stream_query": query,
        "device_can": {
            "control": can_control,
            "ptz": can_control and device.has_ptz,
            "recordings": access.can(membership, Action.RECORDING_PLAY, device),
        },
    }
    return render(request, "devices/device_live.html", context)


@organization_view
@require_GET
@never_cache
def device_snapshot(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """One JPEG from the device (`?download=1`: as a file named after the device and time)."""
    device = _viewable_device(request.membership, device_id)
    try:
        resolution, _fps = stream_options(request.GET)
        client = open_client(device)
    except NotFound:
        raise
    except DomainError as error:
        return media_refusal(request, error)
    try:
        jpeg = client.snapshot(resolution=resolution)
    except VapixError as error:
        return media_refusal(request, device_error(error))
    finally:
        client.close()
    response = HttpResponse(jpeg, content_type="image/jpeg")
    if request.GET.get("download"):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", device.name).strip("-") or "snapshot"
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.jpg"'
    return response


def proxy_stream(
    request: HttpRequest,
    device: Device,
    open_frames: Callable[[VapixClient], Iterator[MjpegFrame]],
    *,
    label: str,
) -> HttpResponse:
    """Answer with the frames `open_frames(client)` yields, holding one of the user's slots.

    Everything that fails before the first frame is an answer with the reason (placeholder
    image or text); the client is closed and the slot freed on every path.
    """
    try:
        slot = streams.acquire_slot(request.user.pk)
    except DomainError as error:
        return media_refusal(request, error)
    try:
        client = open_client(device)
    except DomainError as error:
        slot.release()
        return media_refusal(request, error)
    try:
        frames = open_frames(client)
    except (VapixError, DomainError) as error:
        client.close()
        slot.release()
        return media_refusal(request, _domain_error(error))
    try:
        stream = streams.open_proxied_stream(client, frames, slot, label=label)
    except (VapixError, DomainError) as error:
        return media_refusal(request, _domain_error(error))
    return mjpeg_response(stream)


def _domain_error(error: VapixError | DomainError) -> DomainError:
    return device_error(error) if isinstance(error, VapixError) else error


@organization_view
@require_GET
def device_mjpeg(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """The device's live MJPEG, frame by frame, while the viewer stays (one stream slot)."""
    device = _viewable_device(request.membership, device_id)
    try:
        resolution, fps = stream_options(request.GET)
    except DomainError as error:
        return media_refusal(request, error)
    return proxy_stream(
        request,
        device,
        lambda client: client.mjpeg_frames(resolution=resolution, fps=fps),
        label=f"live {device.pk}",
    )
