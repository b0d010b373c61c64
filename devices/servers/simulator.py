"""Simulated AXIS Camera Station Pro servers: many in one asyncio process, over real HTTP.

Each simulated server registers with a registration token (or starts from a server token it
already holds), then checks in as the answers say: version, status, cameras, storage that fills
up, health, and the progress of an upgrade it was handed — "installing", then away for the
install, then back on the new version. Faults, per server (`parse_faults`):

    never-back@I       after reporting "installing", never checks in again
    install-fails@I    reports the upgrade as failed, with the installer's reason
    stops@I[:N]        stops checking in after N check-ins (default 1)
    clock-skew@I[:S]   its clock is S seconds off (default +7200)

`time_scale` shortens every wait (answers' intervals, download and install times) for tests
and demos. Nothing here touches the database: it talks to the service like a real server.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

FAULT_KINDS = ("never-back", "install-fails", "stops", "clock-skew")
DEFAULT_FAULT_VALUES = {"stops": 1, "clock-skew": 7200}
INSTALL_FAILURE = "Installer exited with code 1603 (simulated failure)."
TB = 10**12
UNREACHABLE_RETRY_SECONDS = 5.0


class FaultSpecError(ValueError):
    """The --faults text is not understood; the message says what is expected."""


def parse_faults(spec: str, count: int) -> dict[int, dict[str, int]]:
    """Return {server index: {fault kind: value}} from "kind@index[:value],…"."""
    faults: dict[int, dict[str, int]] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        kind, _at, rest = item.partition("@")
        index_text, _colon, value_text = rest.partition(":")
        if kind not in FAULT_KINDS or not index_text.isdigit():
            raise FaultSpecError(
                f"Fault {item!r} not understood: write KIND@INDEX[:VALUE], KIND one of "
                f"{', '.join(FAULT_KINDS)}, e.g. never-back@0,clock-skew@2:-3600."
            )
        index = int(index_text)
        if index >= count:
            raise FaultSpecError(
                f"Fault {item!r}: there are only {count} servers (0 to {count - 1})."
            )
        try:
            value = int(value_text) if value_text else DEFAULT_FAULT_VALUES.get(kind, 0)
        except ValueError:
            raise FaultSpecError(f"Fault {item!r}: the value must be a whole number.") from None
        faults.setdefault(index, {})[kind] = value
    return faults


@dataclass
class SimulatedServer:
    """One simulated camera-station server and what happened to it (`log`)."""

    name: str
    software_version: str = "6.8.0"
    registration_token: str = ""
    server_token: str = ""
    faults: dict[str, int] = field(default_factory=dict)
    camera_count: int = 16
    storage_total_bytes: int = 8 * TB
    storage_used_bytes: int = 2 * TB
    server_id: str = ""
    check_ins: int = 0
    stopped_because: str = ""
    log: list[str] = field(default_factory=list)
    handled_upgrades: set[str] = field(default_factory=set)
    pending_report: dict | None = None

    def note(self, message: str) -> None:
        self.log.append(message)

    @property
    def serials(self) -> list[str]:
        base = sum(map(ord, self.name)) % 0xFFFF
        return [f"B8A44F{base:04X}{index:02X}" for index in range(self.camera_count)]

    def report(self) -> dict[str, Any]:
        """Return the body of the next check-in."""
        skew = timedelta(seconds=self.faults.get("clock-skew", 0))
        used_share = self.storage_used_bytes / self.storage_total_bytes
        body: dict[str, Any] = {
            "software_version": self.software_version,
            "status": "running",
            "cameras": {"count": self.camera_count, "serials": self.serials},
            "storage": {
                "used_bytes": self.storage_used_bytes,
                "total_bytes": self.storage_total_bytes,
            },
            "health": {
                "status": "warning" if used_share > 0.9 else "ok",
                "messages": ["Recording storage over 90 % full"] if used_share > 0.9 else [],
            },
            "sent_at": (datetime.now(UTC) + skew).isoformat(),
        }
        if self.pending_report is not None:
            body["upgrade"], self.pending_report = self.pending_report, None
        return body


class Fleet:
    """Run simulated servers against one camfleet until `stop()` or each one stopped itself."""

    def __init__(
        self,
        base_url: str,
        servers: list[SimulatedServer],
        *,
        time_scale: float = 1.0,
        install_seconds: float = 30.0,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.servers = servers
        self.time_scale = time_scale
        self.install_seconds = install_seconds
        self.echo = echo
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def _say(self, server: SimulatedServer, message: str) -> None:
        server.note(message)
        if self.echo:
            self.echo(f"{server.name}: {message}")

    async def _sleep(self, seconds: float) -> bool:
        """Wait (scaled); return False when the fleet is stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds * self.time_scale)
        except TimeoutError:
            return True
        return False

    async def run(self, duration: float | None = None) -> list[SimulatedServer]:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks = [asyncio.create_task(self._live(session, server)) for server in self.servers]
            if duration is not None:
                await asyncio.wait(tasks, timeout=duration)
                self.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.servers

    async def _register(self, session: aiohttp.ClientSession, server: SimulatedServer) -> bool:
        body = {
            "registration_token": server.registration_token,
            "name": server.name,
            "software_version": server.software_version,
        }
        async with session.post(f"{self.base_url}/api/v1/servers/register", json=body) as answer:
            data = await answer.json()
            if answer.status != 201:
                error = data.get("error", {})
                server.stopped_because = error.get("code", str(answer.status))
                self._say(server, f"registration refused: {error.get('message', answer.status)}")
                return False
        server.server_id, server.server_token = data["server_id"], data["server_token"]
        self._say(server, f"registered as {server.server_id}")
        return True

    async def _live(self, session: aiohttp.ClientSession, server: SimulatedServer) -> None:
        # Servers start spread over the first interval, like a fleet that booted at random.
        if not await self._sleep(random.random()):  # noqa: S311 - not cryptography
            return
        while not self._stopping.is_set():
            try:
                if not server.server_token and not await self._register(session, server):
                    return
                wait = await self._check_in(session, server)
            except (aiohttp.ClientError, TimeoutError) as error:
                # camfleet is starting or restarting: a real server keeps trying.
                self._say(server, f"camfleet unreachable ({type(error).__name__}), retrying")
                wait = UNREACHABLE_RETRY_SECONDS
            if wait is None:
                return
            if not await self._sleep(wait):
                return

    async def _check_in(
        self, session: aiohttp.ClientSession, server: SimulatedServer
    ) -> float | None:
        """Check in once; return seconds until the next one, or None when this server stops."""
        stops_after = server.faults.get("stops")
        if stops_after is not None and server.check_ins >= stops_after:
            server.stopped_because = "stops"
            self._say(server, f"stops checking in after {server.check_ins} check-ins (fault)")
            return None
        headers = {"Authorization": f"Server {server.server_token}"}
        url = f"{self.base_url}/api/v1/servers/check-in"
        async with session.post(url, json=server.report(), headers=headers) as answer:
            data = await answer.json()
            if answer.status == 429:
                return float(answer.headers.get("Retry-After", "1"))
            if answer.status != 200:
                error = data.get("error", {})
                server.stopped_because = error.get("code", str(answer.status))
                self._say(server, f"check-in refused: {error.get('message', answer.status)}")
                return None
        server.check_ins += 1
        server.storage_used_bytes = min(
            server.storage_total_bytes,
            server.storage_used_bytes + server.storage_total_bytes // 500,
        )
        interval = float(data["next_check_in_seconds"])
        upgrade = data.get("upgrade")
        if upgrade and upgrade["id"] not in server.handled_upgrades:
            return await self._upgrade(session, server, upgrade, interval)
        return interval

    async def _upgrade(
        self,
        session: aiohttp.ClientSession,
        server: SimulatedServer,
        upgrade: dict,
        interval: float,
    ) -> float | None:
        """Take an upgrade: download until the next check-in, then report and install."""
        server.handled_upgrades.add(upgrade["id"])
        self._say(server, f"picked up upgrade to {upgrade['version']}")
        if "install-fails" in server.faults:
            server.pending_report = {
                "id": upgrade["id"],
                "state": "failed",
                "reason": INSTALL_FAILURE,
            }
            return interval
        server.pending_report = {"id": upgrade["id"], "state": "installing"}
        # The next check-in reports "installing"; then the server is away while it installs.
        if not await self._sleep(interval):
            return None
        if await self._check_in(session, server) is None:
            return None
        if "never-back" in server.faults:
            server.stopped_because = "never-back"
            self._say(server, "went to install and never came back (fault)")
            return None
        self._say(server, f"installing {upgrade['version']}")
        if not await self._sleep(self.install_seconds):
            return None
        server.software_version = upgrade["version"]
        self._say(server, f"back on {server.software_version}")
        return 0.0


def build_servers(
    count: int,
    *,
    registration_tokens: list[str] = (),
    server_tokens: list[str] = (),
    faults: dict[int, dict[str, int]] | None = None,
    name_prefix: str = "Simulated recorder",
    software_version: str = "6.8.0",
) -> list[SimulatedServer]:
    """Return `count` servers: the first ones use the server tokens given, the next register."""
    faults = faults or {}
    servers = []
    rng = random.Random(count)  # noqa: S311 - repeatable demo data, not cryptography
    for index in range(count):
        server = SimulatedServer(
            name=f"{name_prefix} {index + 1}",
            software_version=software_version,
            faults=faults.get(index, {}),
            camera_count=rng.randint(4, 64),
            storage_used_bytes=rng.randint(1, 7) * TB,
        )
        if index < len(server_tokens):
            server.server_token = server_tokens[index]
        elif index - len(server_tokens) < len(registration_tokens):
            server.registration_token = registration_tokens[index - len(server_tokens)]
        else:
            server.registration_token = f"missing_{secrets.token_hex(4)}"
        servers.append(server)
    return servers
