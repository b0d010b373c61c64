"""Run a fleet of simulated cameras: listeners, timers and a thread helper (HTTP: ``http``).

Public API::

    fleet = Fleet(count=20, seed=7, time_scale=0.01, faults="offline=10%")
    await fleet.start()            # every camera listens; fleet.cameras lists them
    ...
    await fleet.stop()

    handle = run_in_thread(count=5, seed=1, time_scale=0.01)   # for synchronous code and tests
    cam = handle.cameras[0]        # CameraInfo: host, port, username, password, serial, ...
    handle.set_fault(cam.serial, "slow-link", 20000)
    handle.clear_faults()
    handle.stop()
"""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from .activity import Activity
from .applications import parse_applications
from .auth import NonceFactory
from .camera import Camera, Timing, make_identities
from .faults import assign, parse_spec
from .http import build_app, build_control_app
from .tls import make_certificate

FLEET_FILE_KEYS = (
    "host",
    "port",
    "username",
    "password",
    "serial",
    "product_number",
    "model",
    "version",
)


class Fleet:
    """N simulated cameras served by one aiohttp application in the running event loop."""

    def __init__(
        self,
        count: int,
        *,
        seed: int = 0,
        time_scale: float = 1.0,
        faults: str | None = None,
        first_port: int | None = None,
        host: str = "127.0.0.1",
        control_port: int | None = None,
        products: list[str] | None = None,
        timing: Timing | None = None,
        nonce_lifetime: float = 300.0,
        https: bool = False,
    ) -> None:
        """Describe a fleet; nothing listens before `start`.

        `first_port` None gives every camera a free port from the OS; otherwise cameras use
        consecutive ports. `control_port` None disables the control API, 0 picks a free port.
        `products` pins product numbers (cycled) instead of a seeded mix of the catalog.
        `faults` is a spec such as ``"offline=5%,never-returns=1"`` (see faults.py).
        `host` may also be a loopback network (``"127.1.0.0/22"``): every camera then gets its
        own address and all use `first_port` (HTTPS: `first_port` + 1).
        `https` adds a TLS listener per camera with its own self-signed certificate, on the
        port after the HTTP ports (``first_port + count + i``) or a free one.
        """
        if count < 1:
            raise ValueError("a fleet needs at least one camera")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.count = count
        self.seed = seed
        self.time_scale = time_scale
        self.timing = timing or Timing()
        self.host = host
        self.first_port = first_port
        self.control_port = control_port
        self.nonces = NonceFactory(os.urandom(16), lifetime=nonce_lifetime)
        self.activity = Activity()
        self.epoch = datetime.now(UTC)
        self._fault_rules = parse_spec(faults)
        hosts, spread = loopback_hosts(host, count)
        # One address for all: consecutive ports. One address each: the same port everywhere,
        # like a real site where every camera answers on port 80.
        if spread:
            ports = [first_port or 0] * count
        else:
            ports = [first_port + i if first_port else 0 for i in range(count)]
        identities = make_identities(count, seed, hosts, ports, products)
        self.host = hosts[0]  # where the control API listens
        self.https = https
        for index, ident in enumerate(identities):
            if https and first_port:
                ident.https_port = first_port + 1 if spread else first_port + count + index
            elif https:
                ident.https_port = 0
        self._tls_folder: Path | None = None
        self.cameras: list[Camera] = [Camera(identity=ident, host=self) for ident in identities]
        for camera, initial in zip(
            self.cameras, assign(self._fault_rules, count, seed), strict=True
        ):
            camera.initial_faults = initial
        self._by_address: dict[tuple[str, int], Camera] = {}
        self._by_serial = {camera.serial: camera for camera in self.cameras}
        self._servers: dict[int, list[asyncio.AbstractServer]] = {}
        self._sync_tasks: dict[int, asyncio.Task[None]] = {}
        self._sync_dirty: set[int] = set()
        self._runner: web.AppRunner | None = None
        self._control_runner: web.AppRunner | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = False
        self.running = False
        self.listen_errors: list[str] = []

    # ----- CameraHost protocol --------------------------------------------------------------

    def schedule(self, seconds: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Call `callback` after `seconds` simulated seconds."""
        assert self.loop is not None  # noqa: S101 - cameras only schedule once started
        return self.loop.call_later(max(0.0, seconds * self.time_scale), callback)

    def monotonic(self) -> float:
        """Return the event loop's clock (real seconds)."""
        return self.loop.time() if self.loop is not None else time.monotonic()

    def after(self, camera: Camera, seconds: float, callback: Callable[[], None]) -> None:
        """Run `callback` after `seconds` simulated seconds, cancelled by a camera reset."""
        camera._later(seconds, callback)

    def sync_listener(self, camera: Camera) -> None:
        """Bring the camera's listening socket in line with its state, asynchronously."""
        if not self.started or self.loop is None:
            return
        index = camera.identity.index
        self._sync_dirty.add(index)
        if index not in self._sync_tasks:
            self._sync_tasks[index] = self.loop.create_task(self._sync(camera))

    async def _sync(self, camera: Camera) -> None:
        # One task per camera at a time, looping while state keeps changing, so an open and a
        # close requested in quick succession can never interleave.
        index = camera.identity.index
        try:
            while index in self._sync_dirty:
                self._sync_dirty.discard(index)
                server = self._servers.get(index)
                if camera.should_listen() and server is None:
                    try:
                        await self._open(camera)
                    except OSError as exc:
                        # e.g. the port is taken: the camera stays unreachable; start() reports it.
                        camera.record("listen-failed", error=str(exc))
                        self.listen_errors.append(f"{camera.serial}: {exc}")
                elif not camera.should_listen() and server is not None:
                    self._close(camera)
        finally:
            del self._sync_tasks[index]

    async def _open(self, camera: Camera) -> None:
        assert self.loop is not None  # noqa: S101 - only called after start()
        assert self._runner is not None  # noqa: S101
        index = camera.identity.index
        protocol = self._runner.server
        assert protocol is not None  # noqa: S101
        ident = camera.identity
        server = await self.loop.create_server(
            protocol, ident.host, ident.port, reuse_address=True, backlog=256
        )
        if ident.port == 0:
            ident.port = server.sockets[0].getsockname()[1]
        servers = [server]
        self._by_address[(ident.host, ident.port)] = camera
        if self.https and camera.certificate is not None:
            secure = await self.loop.create_server(
                protocol,
                ident.host,
                ident.https_port,
                reuse_address=True,
                backlog=256,
                ssl=camera.certificate.context,
            )
            if not ident.https_port:
                ident.https_port = secure.sockets[0].getsockname()[1]
            servers.append(secure)
            self._by_address[(ident.host, ident.https_port)] = camera
        self._servers[index] = servers

    def _close(self, camera: Camera) -> None:
        index = camera.identity.index
        for server in self._servers.pop(index):
            server.close()
        # Established keep-alive connections die too, as they would on a real reboot. The
        # application's handler list is shared by all cameras: pick ours by local address.
        ident = camera.identity
        addresses = {(ident.host, ident.port), (ident.host, ident.https_port)}
        handlers = self._runner.server.connections if self._runner and self._runner.server else []
        for handler in list(handlers):
            transport = handler.transport
            if transport is not None and transport.get_extra_info("sockname")[:2] in addresses:
                transport.abort()

    async def settle(self) -> None:
        """Wait until every pending listener change has happened."""
        while self._sync_tasks:
            await asyncio.gather(*list(self._sync_tasks.values()), return_exceptions=True)

    # ----- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Open every camera's listener (and the control API) in the running loop."""
        self.loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(
            build_app(self), access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        if self.https:
            self._tls_folder = Path(tempfile.mkdtemp(prefix="camfleet-sim-tls-"))
            for camera in self.cameras:
                camera.certificate = make_certificate(
                    self._tls_folder, camera.identity.hostname, camera.identity.host
                )
        self.started = True
        self.running = True
        for camera in self.cameras:
            camera.reset()
        await self.settle()
        if self.listen_errors:
            await self.stop()
            raise OSError(f"cameras could not listen: {'; '.join(self.listen_errors[:3])}")
        if self.control_port is not None:
            self._control_runner = web.AppRunner(
                build_control_app(self), access_log=None, handle_signals=False, shutdown_timeout=2.0
            )
            await self._control_runner.setup()
            site = web.TCPSite(self._control_runner, self.host, self.control_port)
            try:
                await site.start()
            except OSError:
                await self.stop()
                raise
            server = site._server  # the only way aiohttp exposes the bound port
            if server is not None and server.sockets:
                self.control_port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every listener and connection and cancel all timers."""
        self.running = False  # waiting handlers (hang, stall, long poll) give up now
        for camera in self.cameras:
            camera._cancel_timers()
        self.started = False
        await self.settle()
        for camera in self.cameras:
            if camera.identity.index in self._servers:
                self._close(camera)
        if self._control_runner is not None:
            await self._control_runner.cleanup()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._tls_folder is not None:
            shutil.rmtree(self._tls_folder, ignore_errors=True)
            self._tls_folder = None

    def regenerate_certificate(self, serial: str) -> str:
        """Give a camera a new key and certificate (as after a reset); return the fingerprint."""
        camera = self.camera(serial)
        old = camera.certificate
        if old is None or self._tls_folder is None:
            raise ValueError("the fleet does not serve HTTPS")
        camera.certificate = make_certificate(
            self._tls_folder,
            camera.identity.hostname,
            camera.identity.host,
            generation=old.generation + 1,
            context=old.context,
        )
        camera.record("certificate-regenerated", sha256=camera.certificate.sha256)
        return camera.certificate.sha256

    async def reset(self, serial: str | None = None) -> None:
        """Restore one camera (or all) to its initial state and wait for its listener."""
        for camera in [self.camera(serial)] if serial else self.cameras:
            camera.reset()
        await self.settle()

    async def clear_faults(self, serial: str | None = None) -> None:
        """Remove every fault from one camera (or all) and wait for listeners."""
        for camera in [self.camera(serial)] if serial else self.cameras:
            camera.set_faults(dict.fromkeys(camera.faults))
        await self.settle()

    async def set_faults(self, serial: str, faults: dict[str, object]) -> dict[str, object]:
        """Set or clear (None/False) faults on one camera; return its faults."""
        camera = self.camera(serial)
        camera.set_faults(faults)
        await self.settle()
        return dict(camera.faults)

    async def apply_spec(self, spec: str) -> None:
        """Add the faults of a ``--faults`` spec to the fleet (seeded selection)."""
        for camera, faults in zip(
            self.cameras, assign(parse_spec(spec), self.count, self.seed), strict=True
        ):
            if faults:
                camera.set_faults(faults)
        await self.settle()

    # ----- lookups --------------------------------------------------------------------------

    def camera(self, serial: str) -> Camera:
        """Return the camera with `serial` (original or swapped); raise KeyError if none."""
        camera = self._by_serial.get(serial)
        if camera is None:
            camera = next((c for c in self.cameras if c.serial == serial), None)
        if camera is None:
            raise KeyError(serial)
        return camera

    def camera_for(self, request: web.Request) -> Camera | None:
        """Return the camera a request arrived at (by local address), or None."""
        transport = request.transport
        if transport is None:
            return None
        sockname = transport.get_extra_info("sockname")
        if not sockname:
            return None
        return self._by_address.get((sockname[0], sockname[1]))

    def fleet_entries(self) -> list[dict[str, object]]:
        """Return the ``--fleet-out`` records of every camera."""
        return [camera.fleet_entry() for camera in self.cameras]


def loopback_hosts(host: str, count: int) -> tuple[list[str], bool]:
    """Return the address of each camera and whether they are spread over several.

    `host` is one loopback address (every camera on it) or a loopback network such as
    ``127.1.0.0/22`` (camera i on its i-th host address). Raises ValueError otherwise.
    """
    loopback = ipaddress.ip_network("127.0.0.0/8")
    if "/" not in host:
        if ipaddress.ip_address(host) not in loopback:
            raise ValueError(f"{host} is not a loopback address (127.0.0.0/8)")
        return [host] * count, False
    network = ipaddress.ip_network(host, strict=False)
    if not network.subnet_of(loopback):  # type: ignore[arg-type]
        raise ValueError(f"{host} is not inside 127.0.0.0/8")
    addresses = []
    for address in network.hosts():
        addresses.append(str(address))
        if len(addresses) == count:
            return addresses, True
    raise ValueError(f"{host} has fewer than {count} host addresses")


def write_fleet_file(path: str | Path, entries: Iterable[dict[str, object]]) -> Path:
    """Write fleet records as JSON, or as CSV when `path` ends in ``.csv``."""
    target = Path(path)
    rows = list(entries)
    if target.suffix.lower() == ".csv":
        with target.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=FLEET_FILE_KEYS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    else:
        target.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return target


# ----- thread helper ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraInfo:
    """A synchronous view of one camera for tests and tools (values read live)."""

    _camera: Camera

    @property
    def host(self) -> str:
        """Return the address the camera listens on."""
        return self._camera.identity.host

    @property
    def port(self) -> int:
        """Return the camera's TCP port."""
        return self._camera.identity.port

    @property
    def base_url(self) -> str:
        """Return ``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def https_port(self) -> int | None:
        """Return the HTTPS port, or None when the fleet serves plain HTTP only."""
        return self._camera.identity.https_port

    @property
    def https_url(self) -> str | None:
        """Return ``https://host:port`` when the fleet serves HTTPS."""
        return f"https://{self.host}:{self.https_port}" if self.https_port else None

    @property
    def certificate_sha256(self) -> str | None:
        """Return the SHA-256 fingerprint (hex) of the camera's current certificate."""
        certificate = self._camera.certificate
        return certificate.sha256 if certificate is not None else None

    @property
    def username(self) -> str:
        """Return the admin account's name."""
        return "root"

    @property
    def password(self) -> str:
        """Return the admin account's initial password."""
        return self._camera.identity.admin_password

    @property
    def operator_password(self) -> str:
        """Return the password of the account ``operator`` (operator:viewer)."""
        return self._camera.identity.operator_password

    @property
    def viewer_password(self) -> str:
        """Return the password of the account ``viewer`` (viewer only)."""
        return self._camera.identity.viewer_password

    @property
    def serial(self) -> str:
        """Return the serial number."""
        return self._camera.serial

    @property
    def product_number(self) -> str:
        """Return the ProdNbr, e.g. ``P3265-V``."""
        return self._camera.product.number

    @property
    def model(self) -> str:
        """Return the short model name, e.g. ``AXIS P3265-V``."""
        return self._camera.product.short_name

    @property
    def version(self) -> str:
        """Return the firmware version running right now."""
        return self._camera.active_version

    @property
    def has_ptz(self) -> bool:
        """Return whether the model has PTZ presets."""
        return self._camera.product.has_ptz

    @property
    def applications(self) -> list[dict[str, object]]:
        """Return the installed applications (control API form)."""
        return [app.as_dict() for app in self._camera.applications]

    def state(self) -> dict[str, object]:
        """Return the camera's state as the control API shows it."""
        return {**self._camera.state(), "log": list(self._camera.log)}


class FleetThread:
    """A Fleet running in a background thread with its own event loop."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="camera-simulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        self.cameras = [CameraInfo(camera) for camera in fleet.cameras]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.fleet.start())
        except BaseException as exc:  # handed to the starting thread, which re-raises it
            self._error = exc
            self._loop.close()
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.fleet.stop())
        self._loop.close()

    def _call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _in_loop(self, function: Callable[[], Any]) -> Any:
        async def run() -> Any:
            result = function()
            await self.fleet.settle()
            return result

        return self._call(run())

    @property
    def control_url(self) -> str | None:
        """Return the control API's base URL, if it was started."""
        if self.fleet.control_port is None:
            return None
        return f"http://{self.fleet.host}:{self.fleet.control_port}"

    def camera(self, serial: str) -> CameraInfo:
        """Return the camera with `serial`."""
        return next(c for c in self.cameras if c.serial == serial)

    def by_product(self, product_number: str) -> CameraInfo:
        """Return the first camera of a product number."""
        return next(c for c in self.cameras if c.product_number == product_number)

    def set_fault(self, serial: str, name: str, value: object = True) -> dict[str, object]:
        """Set one fault (value None/False clears it); return the camera's faults."""
        return self._call(self.fleet.set_faults(serial, {name: value}))

    def clear_faults(self, serial: str | None = None) -> None:
        """Clear the faults of one camera, or of every camera."""
        self._call(self.fleet.clear_faults(serial))

    def set_knobs(self, serial: str, **knobs: object) -> None:
        """Change behaviour knobs of one camera (see camera.Knobs)."""
        self._in_loop(lambda: self.fleet.camera(serial).knobs.update(knobs))

    def set_applications(self, serial: str, applications: list[dict[str, object]]) -> None:
        """Replace the installed applications of one camera (see applications.Application)."""
        installed = parse_applications(applications)
        self._in_loop(lambda: self.fleet.camera(serial).set_applications(installed))

    def power_cycle(self, serial: str) -> None:
        """Cut and restore one camera's power."""
        self._in_loop(lambda: self.fleet.camera(serial).power_cycle())

    def regenerate_certificate(self, serial: str) -> str:
        """Give a camera a new self-signed certificate; return its SHA-256 fingerprint."""
        return self._in_loop(lambda: self.fleet.regenerate_certificate(serial))

    def reset(self, serial: str | None = None) -> None:
        """Restore one camera (or all): firmware, users, faults, knobs; listeners reopened."""
        self._call(self.fleet.reset(serial))

    def state(self, serial: str) -> dict[str, object]:
        """Return one camera's state and transition log."""
        return self._in_loop(lambda: self.camera(serial).state())

    def open_streams(self, serial: str | None = None) -> int:
        """Return how many MJPEG/playback answers one camera (or the fleet) is sending now."""
        cameras = [self.fleet.camera(serial)] if serial else self.fleet.cameras
        return self._in_loop(lambda: sum(camera.open_streams for camera in cameras))

    def activity(self) -> dict[str, object]:
        """Return the fleet's upgrade counters: uploads and upgrades now/peak, installs per serial.

        See activity.py; installs are keyed by each camera's original serial.
        """
        return self._in_loop(self.fleet.activity.as_dict)

    def clear_activity(self) -> None:
        """Forget past peaks and install counts (what is in progress stays counted)."""
        self._in_loop(self.fleet.activity.clear)

    def wait_for(
        self, serial: str, predicate: Callable[[dict[str, object]], bool], timeout: float = 10.0
    ) -> dict[str, object]:
        """Poll a camera's state until `predicate` holds; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(serial)
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"camera {serial} never reached the state; last: {state}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the fleet and its thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)


def run_in_thread(count: int = 4, **options: Any) -> FleetThread:
    """Start a Fleet (same options as Fleet) in a background thread and return its handle."""
    return FleetThread(Fleet(count, **options))
