"""Edge recordings of one device: the list (time range, pages) and playback through the service.

Operators in the device's folder and admins (Action.RECORDING_PLAY). Playback is a proxied
MJPEG stream like the live view: same per-user limit, same closing rules, same placeholders.
"""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from common.errors import DomainError, Forbidden, NotFound
from common.forms import BootstrapForm
from devices import control, selectors
from devices.models import Device
from devices.views.live import media_refusal, proxy_stream
from organizations import access
from organizations.models import Membership
from organizations.roles import Action
from organizations.tenancy import organization_view

RECORDINGS_PER_PAGE = 20


class RecordingRangeForm(BootstrapForm):
    """The time range of the recordings list (either end may stay open)."""

    start = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    stop = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, stop = cleaned.get("start"), cleaned.get("stop")
        if start and stop and stop < start:
            self.add_error("stop", _("The end comes before the start."))
        return cleaned


def _playable_device(membership: Membership, device_id: UUID) -> Device:
    device = selectors.get_visible_device(membership, device_id)
    access.require(membership, Action.RECORDING_PLAY, device)
    return device


@organization_view
@require_GET
def device_recordings(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """The device's recordings in a time range, newest first, 20 a page; `?play=` plays one."""
    membership = request.membership
    device = _playable_device(membership, device_id)
    form = RecordingRangeForm(request.GET or None)
    recordings, refusal = [], ""
    if not form.is_bound or form.is_valid():
        window = form.cleaned_data if form.is_bound else {}
        try:
            recordings = control.list_recordings(
                actor=membership,
                device=device,
                start=window.get("start"),
                stop=window.get("stop"),
            )
        except DomainError as error:
            if isinstance(error, NotFound | Forbidden):
                raise
            refusal = str(error.message)
    page = Paginator(recordings, RECORDINGS_PER_PAGE).get_page(request.GET.get("page"))
    playing = request.GET.get("play", "")
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("play", None)
    context = {
        "device": device,
        "active_tab": "recordings",
        "form": form,
        "page": page,
        "refusal": refusal,
        "playing": playing if control.is_recording_id(playing) else "",
        "filter_query": query.urlencode(),
    }
    return render(request, "devices/device_recordings.html", context)


@organization_view
@require_GET
def device_recording_play(
    request: HttpRequest, organization_id: UUID, device_id: UUID, recording_id: str
) -> HttpResponse:
    """One recording played back as MJPEG through the service (one stream slot)."""
    device = _playable_device(request.membership, device_id)
    if not control.is_recording_id(recording_id):
        return media_refusal(request, NotFound("recording_not_found", _("Recording not found.")))

    def open_frames(client):
        return client.play_recording(control.find_recording(client, recording_id))

    return proxy_stream(request, device, open_frames, label=f"playback {device.pk}")
