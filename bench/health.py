"""Benchmark health polling: polls per second of ONE worker process against 1,000 cameras.

The simulator runs in its own process (1,000 cameras on loopback, 5% offline by fault). This
process is the worker: it stores 1,000 devices in a throwaway PostgreSQL database and polls
them through the task's own code (`devices.tasks.poll_devices` → `health.poll_many`: real
threads, real Digest-authenticated VAPIX calls, real database writes):
  (a) every device in one batch, DEVICE_POLL_CONCURRENCY threads;
  (b) the dispatcher's batches (DEVICE_POLL_BATCH_SIZE) one after another, as one worker
      process that runs one task at a time would.
Reports polls/s, the statuses found, and how many such processes 100,000 devices every
5 minutes (333 polls/s) need. Writes bench/results/health.json.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench health
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "health.json"
# 100,000 devices every 5 minutes.
TARGET_POLLS_PER_SECOND = 100_000 / 300


def start_simulator(count: int, offline: str, fleet_file: Path) -> subprocess.Popen[str]:
    """Start the simulator in its own process and wait until every camera listens."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [
            sys.executable,
            "-m",
            "devices.simulator",
            "--count",
            str(count),
            # One loopback address per camera, all on one port, so the cameras that are offline
            # from the start have a known address too.
            "--host",
            "127.77.0.0/22",
            "--first-port",
            "18080",
            "--seed",
            "11",
            "--faults",
            f"offline={offline}",
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


def store_devices(cameras: list[dict]) -> list[str]:
    """Store one device per camera in a new organization; return their ids."""
    from accounts.models import User
    from devices.models import Device
    from organizations import services
    from organizations.models import Folder

    owner = User.objects.create_user(email="owner@bench.invalid", password="x" * 12)
    organization = services.create_organization(user=owner, name="Bench fleet", notes="")
    folder = Folder.objects.get(organization=organization, parent=None)
    devices = []
    for camera in cameras:
        device = Device(
            organization=organization,
            folder=folder,
            name=camera["serial"],
            serial_number=camera["serial"],
            product_number=camera["product_number"],
            firmware_version=camera["version"],
            scheme=Device.Scheme.HTTP,
            host=camera["host"],
            port=camera["port"],
            username=camera["username"],
            status=Device.Status.UNKNOWN,
        )
        device.password = camera["password"]
        devices.append(device)
    Device.objects.bulk_create(devices, batch_size=500)
    return [str(device.pk) for device in devices]


def timed(function) -> tuple[float, float]:
    """Return the wall-clock and the CPU seconds (all threads of this process) of a call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - started, time.process_time() - cpu_started


def _run(options: argparse.Namespace, cameras: list[dict]) -> dict:
    from django.conf import settings

    from devices import health, tasks
    from devices.models import Device

    device_ids = store_devices(cameras)
    rounds = []
    for label, run in [
        ("warm-up: every device, one batch", lambda: tasks.poll_devices.apply(args=[device_ids])),
        ("(a) every device, one batch", lambda: tasks.poll_devices.apply(args=[device_ids])),
        (
            f"(b) batches of {settings.DEVICE_POLL_BATCH_SIZE}, one after another",
            lambda: [
                tasks.poll_devices.apply(args=[batch])
                for batch in health.batches(device_ids, settings.DEVICE_POLL_BATCH_SIZE)
            ],
        ),
    ]:
        seconds, cpu_seconds = timed(run)
        rounds.append(
            {
                "round": label,
                "polls": len(device_ids),
                "seconds": round(seconds, 2),
                "polls_per_second": round(len(device_ids) / seconds, 1),
                # Load-independent: what this process does with one core to itself (the GIL
                # lets one process use about one core).
                "worker_cpu_seconds": round(cpu_seconds, 2),
                "polls_per_worker_cpu_second": round(len(device_ids) / cpu_seconds, 1),
            }
        )
    statuses = Counter(Device.objects.values_list("status", flat=True))
    measured = [entry["polls_per_second"] for entry in rounds[1:]]
    slowest = min(measured)
    return {
        "cameras": len(cameras),
        "offline_by_fault": options.offline,
        "concurrency_threads": settings.DEVICE_POLL_CONCURRENCY,
        "batch_size": settings.DEVICE_POLL_BATCH_SIZE,
        "timeouts": {
            "connect_seconds": settings.DEVICE_POLL_CONNECT_TIMEOUT,
            "read_seconds": settings.DEVICE_POLL_READ_TIMEOUT,
        },
        "rounds": rounds,
        "statuses_after": dict(statuses),
        "goal_polls_per_second": 200,
        "meets_goal": slowest >= 200,
        "for_100k_devices_every_5_minutes": {
            "polls_per_second_needed": round(TARGET_POLLS_PER_SECOND, 1),
            "worker_processes_needed_at_the_slowest_rate": math.ceil(
                TARGET_POLLS_PER_SECOND / slowest
            ),
        },
    }


def run(options: argparse.Namespace) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from config.celery import app

    if options.concurrency:
        settings.DEVICE_POLL_CONCURRENCY = options.concurrency
    setup_test_environment()
    app.conf.task_always_eager = True  # the task's code runs here, in this process
    load_before = os.getloadavg()[0]
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            fleet_file = Path(folder) / "fleet.json"
            simulator = start_simulator(options.count, options.offline, fleet_file)
            try:
                results = _run(options, json.loads(fleet_file.read_text()))
            finally:
                simulator.send_signal(2)
                simulator.wait(timeout=60)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            # The machine is shared: a high load average means other work competed with the run.
            "load_average_1min_before": round(load_before, 2),
        },
        **results,
    }


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--offline", default="5%")
    parser.add_argument("--concurrency", type=int, default=0, help="default: the setting")
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
