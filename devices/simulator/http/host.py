"""What the HTTP layer needs from the fleet that serves it, as protocols (no import of fleet.py).

The fleet builds the applications (``build_app``, ``build_control_app``) and hands itself in;
the handlers only see these protocols, the way a camera only sees ``camera.CameraHost``. That
keeps the import graph one-way: ``fleet`` imports ``http``, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from aiohttp import web

from devices.simulator.activity import Activity
from devices.simulator.auth import NonceFactory
from devices.simulator.camera import Camera


class FleetHost(Protocol):
    """What the cameras' HTTP face needs: request routing, nonces, the clock and timers."""

    nonces: NonceFactory
    epoch: datetime  # when the fleet was created; recordings are dated before it
    time_scale: float  # real seconds per simulated second

    def camera_for(self, request: web.Request) -> Camera | None:
        """Return the camera a request arrived at (by local address), or None."""

    def after(self, camera: Camera, seconds: float, callback: Callable[[], None]) -> None:
        """Run `callback` after `seconds` simulated seconds, cancelled by a camera reset."""

    def monotonic(self) -> float:
        """Return the event loop's clock (real seconds)."""


class ControlledFleet(Protocol):
    """What the control API needs: the cameras and the fleet-wide operations."""

    cameras: list[Camera]
    activity: Activity

    def camera(self, serial: str) -> Camera:
        """Return the camera with `serial`; raise KeyError if none."""

    async def settle(self) -> None:
        """Wait until every pending listener change has happened."""

    async def reset(self, serial: str | None = None) -> None:
        """Restore one camera (or all) to its initial state."""

    async def set_faults(self, serial: str, faults: dict[str, object]) -> dict[str, object]:
        """Set or clear faults on one camera; return its faults."""

    async def clear_faults(self, serial: str | None = None) -> None:
        """Remove every fault from one camera (or all)."""

    async def apply_spec(self, spec: str) -> None:
        """Add the faults of a ``--faults`` spec to the fleet."""

    def regenerate_certificate(self, serial: str) -> str:
        """Give a camera a new certificate; return its fingerprint (ValueError without HTTPS)."""


FLEET_KEY: web.AppKey[FleetHost] = web.AppKey("fleet")
