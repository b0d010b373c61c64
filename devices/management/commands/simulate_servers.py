"""``manage.py simulate_servers``: run simulated camera-station servers against camfleet."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.servers.simulator import FaultSpecError, Fleet, build_servers, parse_faults


class Command(BaseCommand):
    """Register N simulated servers and check them in until Ctrl-C (see the simulator module)."""

    help = (
        "Run N simulated AXIS Camera Station Pro servers (asyncio, one process) that register, "
        "check in, report cameras and storage, and perform upgrades, with optional faults."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=1, help="How many servers to run.")
        parser.add_argument(
            "--registration-token",
            action="append",
            default=[],
            help="A registration token (one per server: repeat it, or separate with commas).",
        )
        parser.add_argument(
            "--faults",
            default="",
            help="KIND@INDEX[:VALUE],… with KIND never-back, install-fails, stops, clock-skew.",
        )
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="camfleet's address.")
        parser.add_argument(
            "--state",
            default="",
            help="A JSON file that keeps the servers' tokens, so a restart checks in again "
            "instead of registering.",
        )
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="Multiply every wait (0.1: ten times faster).",
        )
        parser.add_argument(
            "--install-seconds", type=float, default=30.0, help="How long an install takes."
        )
        parser.add_argument(
            "--duration", type=float, default=None, help="Stop after this many seconds."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if count < 1:
            raise CommandError("--count must be at least 1.")
        registration_tokens = [
            token.strip()
            for value in options["registration_token"]
            for token in value.split(",")
            if token.strip()
        ]
        state_path = Path(options["state"]) if options["state"] else None
        server_tokens: list[str] = []
        if state_path and state_path.exists():
            server_tokens = json.loads(state_path.read_text()).get("server_tokens", [])[:count]
        if len(server_tokens) + len(registration_tokens) < count:
            raise CommandError(
                f"{count} servers need {count - len(server_tokens)} registration tokens (each "
                f"registers one server); {len(registration_tokens)} given."
            )
        try:
            faults = parse_faults(options["faults"], count)
        except FaultSpecError as error:
            raise CommandError(str(error)) from error

        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        servers = build_servers(
            count,
            registration_tokens=registration_tokens,
            server_tokens=server_tokens,
            faults=faults,
        )
        fleet = Fleet(
            options["url"],
            servers,
            time_scale=options["time_scale"],
            install_seconds=options["install_seconds"],
            echo=say,
        )

        async def run() -> None:
            task = asyncio.create_task(fleet.run(options["duration"]))
            # Save tokens as soon as the servers registered, not only at the end.
            while not task.done():
                await asyncio.sleep(1)
                self._save(state_path, servers)
            await task

        try:
            asyncio.run(run())
        except KeyboardInterrupt:
            pass
        finally:
            self._save(state_path, servers)
        for server in servers:
            outcome = server.stopped_because or "running"
            say(f"{server.name}: {server.check_ins} check-ins, {outcome}")

    @staticmethod
    def _save(path: Path | None, servers: list) -> None:
        if path is None:
            return
        tokens = [server.server_token for server in servers if server.server_token]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"server_tokens": tokens}))
        path.chmod(0o600)
