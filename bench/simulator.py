"""Benchmark the camera simulator: 1,000 cameras in one process.

(a) 1,000 basicdeviceinfo ``getAllProperties`` calls (Digest-authenticated, one per camera) at
    concurrency 50 -> calls/s and latency percentiles.
(b) 100 concurrent firmware uploads of a 30 MB image to 100 cameras -> MB/s and the simulator
    process's CPU share.

The simulator runs in its own process (``python -m devices.simulator``) so its CPU time can be
read from /proc apart from the load generator's. All traffic stays on 127.0.0.1. Results go to
bench/results/simulator.json and are printed.

    .venv/bin/python bench/simulator.py [--count 1000] [--uploads 100] [--image-mb 30]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devices.simulator.catalog import CATALOG  # noqa: E402 - after the path tweak
from devices.simulator.firmware import build_image  # noqa: E402

RESULTS = REPO / "bench" / "results" / "simulator.json"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Return the resident memory of process `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    """Return the `share` percentile (0..1) of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Digest:
    """Precomputed Digest credentials for one camera (the bench primes one nonce per camera)."""

    def __init__(self, username: str, password: str, challenge: str) -> None:
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
        self.username = username
        self.realm = fields["realm"]
        self.nonce = fields["nonce"]
        self.ha1 = hashlib.md5(  # noqa: S324 - HTTP Digest is MD5 by definition
            f"{username}:{self.realm}:{password}".encode()
        ).hexdigest()
        self.count = 0

    def header(self, method: str, uri: str) -> str:
        """Return an Authorization header for the next request."""
        self.count += 1
        nc = f"{self.count:08x}"
        ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()  # noqa: S324
        response = hashlib.md5(  # noqa: S324
            f"{self.ha1}:{self.nonce}:{nc}:bench:auth:{ha2}".encode()
        ).hexdigest()
        return (
            f'Digest username="{self.username}", realm="{self.realm}", nonce="{self.nonce}", '
            f'uri="{uri}", algorithm=MD5, qop=auth, nc={nc}, cnonce="bench", '
            f'response="{response}"'
        )


async def prime(
    session: aiohttp.ClientSession,
    cameras: list[dict[str, Any]],
    path: str,
    body: dict[str, Any],
) -> list[Digest]:
    """Fetch one challenge per camera (not timed) and return ready Digest helpers."""
    semaphore = asyncio.Semaphore(100)

    async def one(camera: dict[str, Any]) -> Digest:
        async with semaphore:
            url = f"http://{camera['host']}:{camera['port']}{path}"
            async with session.post(url, json=body) as response:
                await response.read()
                challenge = response.headers["WWW-Authenticate"]
        return Digest(camera["username"], camera["password"], challenge)

    return await asyncio.gather(*(one(camera) for camera in cameras))


async def device_info_phase(
    cameras: list[dict[str, Any]], calls: int, concurrency: int, pid: int
) -> dict[str, Any]:
    """Make `calls` authenticated getAllProperties calls spread over `cameras`; return figures."""
    path = "/axis-cgi/basicdeviceinfo.cgi"
    body = {"apiVersion": "1.0", "context": "bench", "method": "getAllProperties"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        digests = await prime(session, cameras, path, body)
        latencies: list[float] = []
        failures = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for call in range(calls):
            queue.put_nowait(call % len(cameras))

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                index = queue.get_nowait()
                camera = cameras[index]
                url = f"http://{camera['host']}:{camera['port']}{path}"
                headers = {"Authorization": digests[index].header("POST", path)}
                started = time.perf_counter()
                async with session.post(url, json=body, headers=headers) as response:
                    payload = await response.json()
                latencies.append(time.perf_counter() - started)
                if response.status != 200 or "data" not in payload:
                    failures += 1

        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    return {
        "calls": len(latencies),
        "cameras_called": len(cameras),
        "failures": failures,
        "concurrency": concurrency,
        "wall_seconds": round(wall, 3),
        "calls_per_second": round(len(latencies) / wall, 1),
        "latency_ms_p50": round(percentile(latencies, 0.50) * 1000, 2),
        "latency_ms_p95": round(percentile(latencies, 0.95) * 1000, 2),
        "latency_ms_max": round(max(latencies) * 1000, 2),
        "simulator_cpu_seconds": round(cpu, 3),
        "simulator_cpu_share_of_one_core": round(cpu / wall, 3),
        # Load-independent capacity: what one fully used core of the simulator would serve.
        "simulator_calls_per_cpu_second": round(len(latencies) / cpu, 1) if cpu else None,
    }


async def upload_phase(cameras: list[dict[str, Any]], image: bytes, pid: int) -> dict[str, Any]:
    """Upload `image` to every camera at once; return throughput and CPU figures."""
    path = "/axis-cgi/firmwaremanagement.cgi"
    envelope = json.dumps(
        {
            "apiVersion": "1.0",
            "method": "upgrade",
            "params": {"autoCommit": "never", "autoRollback": "30"},
        }
    )
    connector = aiohttp.TCPConnector(limit=len(cameras))
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        status = {"apiVersion": "1.0", "method": "status"}
        digests = await prime(session, cameras, path, status)
        results: list[tuple[int, dict[str, Any], float]] = []

        async def one(index: int) -> None:
            camera = cameras[index]
            form = aiohttp.FormData()
            form.add_field("json", envelope, content_type="application/json")
            form.add_field(
                "file", image, filename="image.bin", content_type="application/octet-stream"
            )
            headers = {"Authorization": digests[index].header("POST", path)}
            url = f"http://{camera['host']}:{camera['port']}{path}"
            started = time.perf_counter()
            async with session.post(url, data=form, headers=headers) as response:
                payload = await response.json()
            results.append((response.status, payload, time.perf_counter() - started))

        cpu_before = cpu_seconds(pid)
        client_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(index) for index in range(len(cameras))))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        client_cpu = time.process_time() - client_before
    accepted = sum(1 for status, payload, _ in results if status == 200 and "data" in payload)
    total_mb = len(image) * len(cameras) / 1e6
    return {
        "uploads": len(cameras),
        "accepted": accepted,
        "image_mb": round(len(image) / 1e6, 1),
        "wall_seconds": round(wall, 3),
        "throughput_mb_per_second": round(total_mb / wall, 1),
        "upload_seconds_p95": round(percentile([r[2] for r in results], 0.95), 3),
        "simulator_cpu_seconds": round(cpu, 3),
        "simulator_cpu_share_of_one_core": round(cpu / wall, 3),
        "simulator_cpu_share_of_machine": round(cpu / wall / (os.cpu_count() or 1), 3),
        "simulator_mb_per_cpu_second": round(total_mb / cpu, 1) if cpu else None,
        "load_generator_cpu_seconds": round(client_cpu, 3),
    }


def start_simulator(count: int, fleet_file: Path) -> subprocess.Popen[str]:
    """Start the simulator process and wait for its 'listening' line."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [
            sys.executable,
            "-m",
            "devices.simulator",
            "--count",
            str(count),
            "--seed",
            "1",
            "--time-scale",
            "0.01",
            "--fleet-out",
            str(fleet_file),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening" not in line:
        process.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return process


async def run(options: argparse.Namespace) -> dict[str, Any]:
    """Run both phases against a fresh simulator process and return the results."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        fleet_file = Path(folder) / "fleet.json"
        started = time.perf_counter()
        process = start_simulator(options.count, fleet_file)
        startup = time.perf_counter() - started
        try:
            cameras = json.loads(fleet_file.read_text())
            idle_rss = rss_mb(process.pid)
            # basicdeviceinfo and fwmgr exist from AXIS OS 8.40/7.40: skip the legacy 5.51
            # cameras (they answer 404); the calls are spread over all the others.
            modern = [c for c in cameras if int(c["version"].split(".")[0]) >= 9]
            info = await device_info_phase(modern, options.calls, options.concurrency, process.pid)
            targets = modern[: options.uploads]
            image = build_image(
                [product.number for product in CATALOG], "13.0.1", options.image_mb * 1_000_000
            )
            uploads = await upload_phase(targets, image, process.pid)
            peak_rss = rss_mb(process.pid)
        finally:
            process.send_signal(2)
            process.wait(timeout=60)
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            # The machine is shared: a high load average means other work competed with the run.
            "load_average_1min_before": round(load_before, 2),
        },
        "cameras": options.count,
        "simulator_startup_seconds": round(startup, 2),
        "simulator_rss_mb_idle": round(idle_rss, 1),
        "simulator_rss_mb_after_uploads": round(peak_rss, 1),
        "device_info": info,
        "firmware_uploads": uploads,
    }


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--image-mb", type=int, default=30)
    options = parser.parse_args()
    results = asyncio.run(run(options))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
