"""Run a simulated fleet until interrupted: shared by ``python -m devices.simulator`` and the
``simulate_cameras`` management command."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from dataclasses import fields

from .camera import Timing
from .catalog import PRODUCTS
from .faults import FaultSpecError, parse_spec
from .fleet import Fleet, loopback_hosts, write_fleet_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to an argument parser."""
    parser.add_argument("--count", type=int, required=True, help="number of cameras")
    parser.add_argument("--first-port", type=int, default=None, help="default: free ports")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address for all cameras, or a loopback network (127.1.0.0/22) "
        "to give each camera its own address on the same port",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="real seconds per simulated second"
    )
    parser.add_argument("--faults", default="", help='e.g. "offline=5%%,never-returns=1%%"')
    parser.add_argument("--control-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--fleet-out", default=None, help="write the fleet as JSON or .csv")
    parser.add_argument(
        "--products",
        default="",
        help="comma-separated product numbers every camera cycles through "
        "(default: a seeded mix of the catalog)",
    )
    parser.add_argument(
        "--timing",
        default="",
        help="simulated seconds of the upgrade cycle, e.g. 'down=10,boot=10' "
        "(names: verify, pre_reboot, down, boot; defaults 10, 5, 60, 30)",
    )
    parser.add_argument(
        "--https",
        action="store_true",
        help="also serve HTTPS per camera (self-signed; ports after the HTTP ones)",
    )


def parse_timing(spec: str) -> Timing:
    """Parse ``name=seconds,...`` into a Timing; raise ValueError naming what is wrong."""
    values: dict[str, float] = {}
    known = {item.name for item in fields(Timing)}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, number = item.partition("=")
        if name not in known:
            raise ValueError(f"unknown timing {name!r}; known: {', '.join(sorted(known))}")
        try:
            values[name] = float(number)
        except ValueError:
            raise ValueError(f"timing {name!r} needs a number of seconds, got {number!r}") from None
        if values[name] < 0:
            raise ValueError(f"timing {name!r} cannot be negative")
    return Timing(**values)


def product_numbers(options: argparse.Namespace) -> list[str]:
    """Return the --products option as a list (empty: a seeded mix)."""
    return [number.strip() for number in options.products.split(",") if number.strip()]


def validate(options: argparse.Namespace) -> str | None:
    """Return an error message for unusable options, or None."""
    try:
        parse_timing(options.timing)
    except ValueError as exc:
        return f"--timing: {exc}"
    if options.count < 1:
        return "--count must be at least 1"
    unknown = sorted(set(product_numbers(options)) - set(PRODUCTS))
    if unknown:
        return f"--products: unknown {', '.join(unknown)}; known: {', '.join(sorted(PRODUCTS))}"
    if options.time_scale <= 0:
        return "--time-scale must be positive"
    try:
        _, spread = loopback_hosts(options.host, options.count)
    except ValueError as exc:
        return f"--host: {exc}"
    needed = (2 if options.https else 1) * (1 if spread else options.count)
    if options.first_port is not None and not 1 <= options.first_port <= 65535 - needed:
        return "--first-port leaves no room for --count cameras"
    try:
        parse_spec(options.faults)
    except FaultSpecError as exc:
        return str(exc)
    return None


async def serve(options: argparse.Namespace, say: Callable[[str], None]) -> None:
    """Start the fleet, announce it, and run until SIGINT/SIGTERM."""
    fleet = Fleet(
        options.count,
        seed=options.seed,
        time_scale=options.time_scale,
        faults=options.faults or None,
        first_port=options.first_port,
        host=options.host,
        control_port=options.control_port,
        https=options.https,
        timing=parse_timing(options.timing),
        products=product_numbers(options) or None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await fleet.start()
    try:
        if options.fleet_out:
            write_fleet_file(options.fleet_out, fleet.fleet_entries())
        ports = sorted(camera.identity.port for camera in fleet.cameras)
        offline = sum(not camera.should_listen() for camera in fleet.cameras)
        span = f"ports {ports[0]}-{ports[-1]}" if ports[0] != ports[-1] else f"port {ports[0]}"
        say(
            f"{options.count} cameras listening on {options.host} {span}"
            + (f" ({offline} offline by fault)" if offline else "")
            + (" plus HTTPS" if options.https else "")
            + f"; control API on http://{fleet.host}:{fleet.control_port}"
        )
        await stop.wait()
    finally:
        await fleet.stop()


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m devices.simulator``; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m devices.simulator")
    add_arguments(parser)
    options = parser.parse_args(argv)
    error = validate(options)
    if error:
        parser.error(error)
    try:
        asyncio.run(serve(options, lambda line: print(line, flush=True)))  # noqa: T201
    except OSError as exc:
        parser.exit(1, f"error: {exc}\n")
    return 0
