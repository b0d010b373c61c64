"""Controlling a device and reading its media lists: restart, PTZ presets, edge recordings.

Each entry point takes the acting member and a device they can see (`selectors`), checks the
action on the device's folder (`organizations.access`: DEVICE_CONTROL for restart and PTZ,
RECORDING_PLAY for recordings), talks to the device outside any transaction, and — for a
change — writes its audit event afterwards in a transaction of its own: the device accepted
the command, so there is something to record. A device's refusal comes back as
`DeviceRefusedAction` with the device's own words; every other device failure as the domain
error `devices.connection.device_error` gives it.

Audit actions: device.restart, device.ptz_goto (labels registered in DevicesConfig.ready).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid, NotFound
from common.text import has_control_characters
from devices.connection import device_error, open_client
from devices.models import Device
from devices.vapix import PtzPreset, Recording, VapixClient, VapixError
from organizations import access, audit
from organizations.models import Membership
from organizations.roles import Action

CONTROL_EVENT_TYPES = {
    "device.restart": _("Device restarted"),
    "device.ptz_goto": _("PTZ moved to a preset"),
}

PRESET_NAME_MAX_LENGTH = 64
# What a recording id may look like (devices use letters, digits and _ - . :): anything else is
# no recording of theirs, and could not be put in a URL path segment.
RECORDING_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@contextmanager
def connected(device: Device) -> Iterator[VapixClient]:
    """Yield a client for the device; VAPIX failures leave as domain errors; always closed."""
    client = open_client(device)
    try:
        yield client
    except VapixError as error:
        raise device_error(error) from None
    finally:
        client.close()


@transaction.atomic(durable=True)
def _record(actor: Membership, device: Device, action: str, data: dict) -> None:
    audit.record(actor, actor.organization, action, device, data)


def restart_device(*, actor: Membership, device: Device) -> None:
    """Restart the device (operator+ in its folder); audited once the device accepted it."""
    access.require(actor, Action.DEVICE_CONTROL, device)
    with connected(device) as client:
        client.reboot()
    _record(actor, device, "device.restart", {"name": device.name})


def _require_ptz(device: Device) -> None:
    if not device.has_ptz:
        raise Invalid("no_ptz", _("This device has no PTZ: it cannot move to presets."))


def ptz_presets(*, actor: Membership, device: Device) -> list[PtzPreset]:
    """Return the device's PTZ presets in the device's order (operator+ in its folder)."""
    access.require(actor, Action.DEVICE_CONTROL, device)
    _require_ptz(device)
    with connected(device) as client:
        presets = client.list_ptz_presets()
    return sorted(presets, key=lambda preset: (not preset.is_home, preset.number))


def clean_preset_name(name: str) -> str:
    """Return a preset name as sent to the device, or raise Invalid with what is wrong."""
    name = (name or "").strip()
    if not name or len(name) > PRESET_NAME_MAX_LENGTH or has_control_characters(name):
        message = _("Choose one of the device's presets.")
        raise Invalid("invalid_preset", message, {"preset": [message]})
    return name


def goto_ptz_preset(*, actor: Membership, device: Device, preset: str) -> None:
    """Move the device's camera to a preset by name; the device's refusal is shown as is."""
    access.require(actor, Action.DEVICE_CONTROL, device)
    _require_ptz(device)
    name = clean_preset_name(preset)
    with connected(device) as client:
        client.goto_ptz_preset(name)
    _record(actor, device, "device.ptz_goto", {"preset": name})


# ----- edge recordings ---------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _aware(moment: datetime | None) -> datetime | None:
    """Return a device time as aware; devices that omit the zone mean UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def list_recordings(
    *,
    actor: Membership,
    device: Device,
    start: datetime | None = None,
    stop: datetime | None = None,
) -> list[Recording]:
    """Return the device's recordings overlapping [start, stop], newest first (operator+).

    The window is also applied here: not every firmware honours starttime/stoptime.
    """
    access.require(actor, Action.RECORDING_PLAY, device)
    with connected(device) as client:
        recordings = client.list_recordings(start_time=_iso(start), stop_time=_iso(stop))
    if start is not None:
        recordings = [r for r in recordings if (_aware(r.stop_time) or start) >= start]
    if stop is not None:
        recordings = [r for r in recordings if (_aware(r.start_time) or stop) <= stop]
    # Newest first; a recording without a start time (never seen in practice) last.
    return sorted(
        recordings,
        key=lambda r: r.start_time.timestamp() if r.start_time else float("-inf"),
        reverse=True,
    )


def is_recording_id(value: str) -> bool:
    """Tell whether `value` can be a device's recording id."""
    return bool(RECORDING_ID.match(value or ""))


def find_recording(client: VapixClient, recording_id: str) -> Recording:
    """Return one recording of the device by its id, or raise NotFound."""
    if not is_recording_id(recording_id):
        raise NotFound("recording_not_found", _("Recording not found."))
    for recording in client.list_recordings():
        if recording.recording_id == recording_id:
            return recording
    raise NotFound("recording_not_found", _("Recording not found."))
