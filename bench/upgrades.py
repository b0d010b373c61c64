"""Benchmark upgrade jobs: 1,000 simulated cameras, a 20 MB image, concurrency 100, real workers.

Everything is real but the cameras: a throwaway PostgreSQL database, a private redis-server on a
free port (never the machine's shared one), Celery worker processes (thread pool) and beat
running the upgrade tick every UPGRADE_TICK seconds, and the camera simulator in its own process
(one P3265-V model, AXIS OS 12.11.61/77, upgraded to a 12.11.86 catalog release whose 20 MB test
image is stored through the catalog service). Simulated time is scaled (--time-scale, default
0.1) and the reboot is 20 simulated seconds (down 10 + boot 10), so a camera reboots in 2 real
seconds; the engine's waits (re-check interval, restart timeout, offline retry, stale
heartbeat) are scaled by the same factor.

Phases, each reported:
  0. capacity: 100 concurrent 20 MB uploads straight to the simulator (no product code).
  1. single: one camera upgraded alone (three cameras, one after another; the median counts).
  2. fleet: all cameras in one job. Wall time from the job's creation to its last task's end;
     the wave limit ceil(N / concurrency) x single; their ratio (goal <= 1.3); tasks per
     minute; database queries per upgrade (every query of the workers, tick included, divided
     by the devices); duplicates and the most simultaneous upgrades, counted by the SIMULATOR
     (images installed per camera, cameras mid-upgrade at once); unverified successes (a task
     reported succeeded whose camera does not run the target, committed, on a new boot).
  3. faults: the fleet reset, 10% of the cameras given one fault each (refuse-image,
     wrong-credentials, comes-back-old, upload-reset, swapped-serial, in equal shares); the
     failed tasks must be exactly the faulty cameras, each with the reason its fault implies.
     Should the job pause itself at its failure threshold (failures end sooner than successes,
     so they come first), the pause is recorded and the job resumed, as an administrator would.
  4. tick: the scheduler tick's queries and milliseconds with 1,000 and with 100,000 tasks
     waiting for a window (must not grow with the number of tasks).

Writes bench/results/upgrades.json and prints it.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench upgrades
    .venv/bin/python bench/upgrades.py --count 200 --tick-tasks 10000   (a quicker look)
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench_upgrades")

RESULTS = REPO / "bench" / "results" / "upgrades.json"
PRODUCT = "P3265-V"
TARGET_VERSION = "12.11.86"  # the newest release of the simulator's LTS 2026 track
# One fault per faulty camera, in equal shares, and what the task must end as.
FAULTS: dict[str, tuple[str, str]] = {
    "refuse-image": ("failed", "refused"),
    "wrong-credentials": ("failed", "auth_failed"),
    "comes-back-old": ("rolled_back", "rolled_back"),
    "upload-reset": ("failed", "upload_interrupted"),
    "swapped-serial": ("failed", "other_device"),
}
# Simulated seconds of the camera's upgrade cycle: a 20 s reboot (VAPIX.md §14.6 has 90 s).
TIMING = "verify=10,pre_reboot=5,down=10,boot=10"
# The engine's waits in real seconds at time scale 1 (scaled with the simulator).
ENGINE_SECONDS = {
    "UPGRADE_RECHECK_INTERVAL": 5.0,
    "UPGRADE_STALE_AFTER": 300.0,
    "UPGRADE_RESTART_TIMEOUT": 15 * 60.0,
    "UPGRADE_OFFLINE_RETRY": 60.0,
    "UPGRADE_IDLE_GRACE": 60.0,
}


# ----- processes --------------------------------------------------------------------------------


def start_simulator(options: argparse.Namespace, fleet_file: Path) -> tuple[subprocess.Popen, str]:
    """Start the simulator process; return it and its control API URL."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [
            sys.executable,
            "-m",
            "devices.simulator",
            "--count",
            str(options.count),
            # One loopback address per camera on one port: a camera that goes down gets its
            # address back, whatever else the machine opened meanwhile.
            "--host",
            "127.79.0.0/22",
            "--first-port",
            str(options.camera_port),
            "--seed",
            "13",
            "--products",
            PRODUCT,
            "--time-scale",
            str(options.time_scale),
            "--timing",
            TIMING,
            "--control-port",
            "0",
            "--fleet-out",
            str(fleet_file),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONDEVMODE"},  # any value sets it
            "PYTHONPATH": str(REPO),
        },
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening" not in line:
        process.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return process, line.rsplit("control API on ", 1)[1].strip()


class Control:
    """The simulator's control API (JSON over loopback)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return json.loads(answer.read())

    def cameras(self) -> dict[str, dict]:
        """Return every camera's state by ORIGINAL serial (a swapped camera reports another)."""
        return {camera["original_serial"]: camera for camera in self.call("GET", "/cameras")}


def read_counts(path: Path) -> Counter:
    """Return the counted worker's totals (queries, tasks by name) from its file."""
    try:
        return Counter(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return Counter()


class Workers:
    """The worker processes and beat of one benchmark, with their query counts."""

    def __init__(self, options: argparse.Namespace, env: dict[str, str], folder: Path) -> None:
        from tests.support.processes import CeleryProcess

        self.count_files = [folder / f"counts-{index}.json" for index in range(options.workers)]
        self.processes = [
            CeleryProcess.worker(
                {**env, "BENCH_COUNTS_FILE": str(path)},
                folder,
                queues="upgrades,default",
                concurrency=options.threads,
                name=f"worker{index}",
                program=[sys.executable, "-m", "bench.support.counted_worker"],
            )
            for index, path in enumerate(self.count_files)
        ]
        self.beat = CeleryProcess.beat(env, folder)

    def counts(self) -> Counter:
        total: Counter = Counter()
        for path in self.count_files:
            total.update(read_counts(path))
        return total

    def stop(self) -> None:
        self.beat.stop()
        for process in self.processes:
            process.stop()


# ----- the world: organization, devices, release ----------------------------------------------


def build_world(cameras: list[dict], image_path: Path, image_sha256: str) -> dict[str, Any]:
    """Store an organization with one device per camera (10 folders) and the target release."""
    from django.utils import timezone

    from accounts.models import User
    from devices.models import Device
    from organizations import services
    from organizations.models import Folder, Membership
    from upgrades.services.catalog import ReleaseSpec, add_release

    owner = User.objects.create_user(email="owner@bench.invalid", password="x" * 12)
    organization = services.create_organization(user=owner, name="Upgrade bench", notes="")
    membership = Membership.objects.get(organization=organization, user=owner)
    root = Folder.objects.get(organization=organization, parent=None)
    folders = [
        services.create_folder(actor=membership, parent_id=root.pk, name=f"Site {index:02d}")
        for index in range(10)
    ]
    now = timezone.now()
    devices = []
    for index, camera in enumerate(cameras):
        device = Device(
            organization=organization,
            folder=folders[index * len(folders) // len(cameras)],
            name=f"cam {index:04d}",
            serial_number=camera["serial"],
            mac_address=camera["mac"],
            product_number=camera["product_number"],
            product_name=camera["model"],
            firmware_version=camera["version"],
            scheme=Device.Scheme.HTTP,
            host=camera["host"],
            port=camera["port"],
            username=camera["username"],
            status=Device.Status.ONLINE,
            last_seen_at=now,
        )
        device.password = camera["password"]
        devices.append(device)
    Device.objects.bulk_create(devices, batch_size=500)
    with image_path.open("rb") as image:
        stored = add_release(
            spec=ReleaseSpec(
                version=TARGET_VERSION,
                product_numbers=(PRODUCT,),
                release_date=now.date(),
                file_name=image_path.name,
                sha256=image_sha256,
            ),
            image=image,
        )
    return {"membership": membership, "release": stored.release, "organization": organization}


def reset_fleet(control: Control, cameras: list[dict]) -> None:
    """Every camera back to its first firmware and no faults; the devices' rows to match."""
    from devices.models import Device

    control.call("POST", "/reset")
    control.call("DELETE", "/activity")
    by_version: dict[str, list[str]] = {}
    for camera in cameras:
        by_version.setdefault(camera["version"], []).append(camera["serial"])
    for version, serials in by_version.items():
        Device.objects.filter(serial_number__in=serials).update(firmware_version=version)


# ----- one job, start to finish -----------------------------------------------------------------


def run_job(world: dict, device_ids: list, timeout: float) -> dict[str, Any]:
    """Create one job for `device_ids`, wait until every task is final; return its figures."""
    from devices.models import Device
    from upgrades.models import FINAL_STATES, UpgradeJob, UpgradeTask
    from upgrades.services.jobs import create_job, resume_job

    started = time.perf_counter()
    job, _review = create_job(
        membership=world["membership"],
        devices=Device.objects.filter(pk__in=device_ids),
        release=world["release"],
    )
    created = time.perf_counter() - started
    tasks = UpgradeTask.objects.filter(job=job)
    deadline = time.monotonic() + timeout
    pauses = []
    while tasks.exclude(state__in=FINAL_STATES).exists():
        if time.monotonic() > deadline:
            break
        job.refresh_from_db(fields=["status", "paused_reason"])
        if job.status == UpgradeJob.Status.PAUSED:
            # The failure threshold stopped the job: note why and when, and resume it as an
            # administrator would, so the run still tells how each device ends.
            pauses.append(
                {
                    "after_seconds": round(time.perf_counter() - started, 1),
                    "reason": job.paused_reason,
                }
            )
            resume_job(membership=world["membership"], job=job)
        time.sleep(0.25)
    rows = list(
        tasks.values(
            "device__serial_number", "state", "reason_code", "reason", "to_version", "finished_at"
        )
    )
    finished = [row["finished_at"] for row in rows if row["finished_at"]]
    job.refresh_from_db()
    return {
        "job": job,
        "review_and_create_seconds": round(created, 3),
        "wall_seconds": (max(finished) - job.created_at).total_seconds() if finished else None,
        "timed_out": len(finished) < len(rows),
        "paused_by_itself": pauses,
        "rows": rows,
    }


def device_side(control: Control, rows: list[dict], concurrency: int) -> dict[str, Any]:
    """What the simulator saw: installs per camera, peak concurrency, unverified successes."""
    activity = control.call("GET", "/activity")
    cameras = control.cameras()
    installs = activity["installs"]
    duplicates = {serial: n for serial, n in installs.items() if n > 1}
    unverified = []
    for row in rows:
        if row["state"] != "succeeded":
            continue
        camera = cameras[row["device__serial_number"]]
        if (
            camera["active_version"] != row["to_version"]
            or not camera["is_committed"]
            or installs.get(row["device__serial_number"], 0) < 1
        ):
            unverified.append(row["device__serial_number"])
    return {
        "installs_total": sum(installs.values()),
        "duplicates": sum(n - 1 for n in duplicates.values()),
        "cameras_installed_twice": sorted(duplicates),
        "unverified_successes": len(unverified),
        "unverified_cameras": unverified[:20],
        "peak_simultaneous_uploads": activity["uploads"]["peak"],
        "peak_simultaneous_upgrades": activity["upgrades"]["peak"],
        "concurrency_limit_respected": activity["upgrades"]["peak"] <= concurrency,
    }


# ----- phases -----------------------------------------------------------------------------------


def capacity_phase(
    options: argparse.Namespace, cameras: list[dict], image: bytes, pid: int
) -> dict:
    """100 concurrent uploads of the image straight to the simulator (bench/simulator.py's)."""
    from bench.simulator import upload_phase

    return asyncio.run(upload_phase(cameras[: options.concurrency], image, pid))


def wait_idle(control: Control, timeout: float) -> None:
    """Wait until no camera is mid-upgrade (reboots after the capacity check)."""
    deadline = time.monotonic() + timeout
    while control.call("GET", "/activity")["upgrades"]["now"] and time.monotonic() < deadline:
        time.sleep(0.2)


def single_phase(world: dict, devices: list, options) -> dict[str, Any]:
    """Upgrade three cameras one at a time, after a fourth to warm up; return the times."""
    times = []
    for device in devices[:4]:
        result = run_job(world, [device.pk], timeout=120)
        if result["timed_out"] or result["rows"][0]["state"] != "succeeded":
            raise RuntimeError(f"the single-camera upgrade did not succeed: {result['rows']}")
        times.append(result["wall_seconds"])
    # The first waits for the fresh workers' first tick and warms their connections.
    warm_up, times = times[0], times[1:]
    return {
        "warm_up_seconds": round(warm_up, 2),
        "seconds": [round(t, 2) for t in times],
        "median_seconds": round(statistics.median(times), 2),
    }


def fleet_phase(world, control, workers, device_ids, single, options) -> dict[str, Any]:
    """All cameras in one job; the figures the issue asks for."""
    before = workers.counts()
    wave_limit = math.ceil(len(device_ids) / options.concurrency) * single
    result = run_job(world, device_ids, timeout=max(600, 20 * wave_limit))
    after = workers.counts()
    rows = result["rows"]
    wall = result["wall_seconds"]
    states = Counter(row["state"] for row in rows)
    steps = sum(n for name, n in (after - before).items() if name.startswith("task:upgrades."))
    queries = (after - before)["queries"]
    return {
        "devices": len(rows),
        "states": dict(states),
        "timed_out": result["timed_out"],
        "review_and_create_seconds": result["review_and_create_seconds"],
        "paused_by_itself": result["paused_by_itself"],
        "wall_seconds": round(wall, 1) if wall else None,
        "wave_limit_seconds": round(wave_limit, 1),
        "ratio": round(wall / wave_limit, 2) if wall else None,
        "goal_ratio": 1.3,
        "meets_goal": bool(wall) and wall / wave_limit <= 1.3,
        "tasks_per_minute": round(len(rows) / wall * 60, 1) if wall else None,
        "celery_steps": steps,
        "celery_steps_per_minute": round(steps / wall * 60, 1) if wall else None,
        "db_queries_per_task": round(queries / len(rows), 1),
        "db_queries_per_celery_step": round(queries / steps, 1) if steps else None,
        **device_side(control, rows, options.concurrency),
    }


def faults_phase(world, control, cameras, device_ids, options) -> dict[str, Any]:
    """10% of the cameras faulty (one fault each): exactly they fail, each for its reason."""
    faulty_count = round(len(cameras) * options.fault_share / 100)
    names = list(FAULTS)
    # Spread over the fleet (every tenth camera), so faulty cameras meet healthy ones in waves.
    step = max(1, len(cameras) // max(1, faulty_count))
    chosen = {
        cameras[index]["serial"]: names[n % len(names)]
        for n, index in enumerate(range(0, len(cameras), step))
        if n < faulty_count
    }
    for serial, fault in chosen.items():
        control.call("POST", f"/cameras/{serial}/faults", {fault: True})
    control.call("DELETE", "/activity")
    result = run_job(world, device_ids, timeout=900)
    rows = result["rows"]
    by_serial = {row["device__serial_number"]: row for row in rows}
    not_succeeded = {serial for serial, row in by_serial.items() if row["state"] != "succeeded"}
    wrong = []
    for serial, fault in chosen.items():
        state, code = FAULTS[fault]
        row = by_serial[serial]
        if (row["state"], row["reason_code"]) != (state, code):
            wrong.append(
                {
                    "serial": serial,
                    "fault": fault,
                    "expected": [state, code],
                    "got": [row["state"], row["reason_code"], row["reason"]],
                }
            )
    reasons = Counter(
        (chosen[s], by_serial[s]["state"], by_serial[s]["reason_code"]) for s in chosen
    )
    result["job"].refresh_from_db()
    return {
        "devices": len(rows),
        "faulty_cameras": len(chosen),
        "faults": dict(Counter(chosen.values())),
        "timed_out": result["timed_out"],
        "wall_seconds": round(result["wall_seconds"], 1) if result["wall_seconds"] else None,
        "states": dict(Counter(row["state"] for row in rows)),
        "exactly_the_faulty_failed": not_succeeded == set(chosen),
        "healthy_not_succeeded": sorted(not_succeeded - set(chosen))[:20],
        "faulty_with_wrong_outcome": wrong[:20],
        "outcomes": [
            {"fault": fault, "state": state, "reason_code": code, "cameras": n}
            for (fault, state, code), n in sorted(reasons.items())
        ],
        "example_reasons": {
            fault: next(by_serial[s]["reason"] for s in chosen if chosen[s] == fault)
            for fault in sorted(set(chosen.values()))
        },
        "job_status": result["job"].status,
        "paused_by_itself": result["paused_by_itself"],
        **device_side(control, rows, options.concurrency),
    }


def tick_phase(world: dict, sizes: list[int]) -> list[dict[str, Any]]:
    """The tick's cost with `sizes` tasks waiting for a window (devices stored in bulk)."""
    import uuid
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from devices.credentials import encrypt_secret
    from devices.models import Device
    from organizations.models import Folder
    from upgrades.engine import tick  # the tick's work, without sending the steps it hands over
    from upgrades.models import TaskState, UpgradeJob, UpgradeTask

    organization = world["organization"]
    folder = Folder.objects.filter(organization=organization).exclude(parent=None).first()
    job = UpgradeJob.objects.create(
        organization=organization,
        origin=UpgradeJob.Origin.SCHEDULE,
        release=world["release"],
        created_by_label="schedule",
    )
    encrypted = encrypt_secret("bench-password-0123")  # one token for all: speed, not realism
    now = timezone.now()
    window = now + timedelta(days=1)
    results, waiting = [], 0
    for size in sizes:
        while waiting < size:
            batch = min(5000, size - waiting)
            devices = [
                Device(
                    id=uuid.uuid4(),
                    organization=organization,
                    folder=folder,
                    name=f"waiting {waiting + i:06d}",
                    serial_number=f"E82725{waiting + i:06X}",
                    product_number=PRODUCT,
                    firmware_version="12.11.61",
                    scheme=Device.Scheme.HTTP,
                    host=f"10.9.{(waiting + i) // 256 % 256}.{(waiting + i) % 256}",
                    port=80,
                    username="root",
                    encrypted_password=encrypted,
                    status=Device.Status.ONLINE,
                )
                for i in range(batch)
            ]
            Device.objects.bulk_create(devices)
            UpgradeTask.objects.bulk_create(
                UpgradeTask(
                    job=job,
                    organization=organization,
                    device=device,
                    release=world["release"],
                    from_version="12.11.61",
                    to_version=TARGET_VERSION,
                    state=TaskState.WAITING_WINDOW,
                    not_before=window,
                    window_ends_at=window + timedelta(hours=2),
                    created_at=now,
                    state_changed_at=now,
                )
                for device in devices
            )
            waiting += batch
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE upgrades_upgradetask")
        tick()  # warm up
        timings, queries = [], []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                tick()
                timings.append(time.perf_counter() - started)
            queries.append(len(captured))
        results.append(
            {
                "waiting_tasks": size,
                "queries": max(queries),
                "ms_median": round(statistics.median(timings) * 1000, 2),
                "ms_max": round(max(timings) * 1000, 2),
            }
        )
    return results


# ----- the run ----------------------------------------------------------------------------------


def engine_environment(options: argparse.Namespace) -> dict[str, str]:
    """The settings (environment variables) of workers and beat for this run."""
    return {
        "UPGRADE_TICK": str(options.tick),
        "UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION": str(options.concurrency),
        # Ten folders of a hundred: the folder limit is not what this benchmark measures.
        "UPGRADE_MAX_CONCURRENT_PER_FOLDER": str(options.concurrency),
        **{name: str(seconds * options.time_scale) for name, seconds in ENGINE_SECONDS.items()},
        "UPGRADE_FAILURE_THRESHOLD_PERCENT": str(options.failure_threshold),
        "LOG_LEVEL": "WARNING",
    }


def _run(options: argparse.Namespace, folder: Path, database: str) -> dict[str, Any]:
    import hashlib

    from devices.models import Device
    from devices.simulator.firmware import image_filename, write_image
    from tests.support.processes import RedisServer, celery_environment

    fleet_file = folder / "fleet.json"
    started = time.perf_counter()
    simulator, control_url = start_simulator(options, fleet_file)
    startup = time.perf_counter() - started
    control = Control(control_url)
    results: dict[str, Any] = {"simulator_startup_seconds": round(startup, 2)}
    redis = RedisServer().start()
    workers = None
    try:
        cameras = json.loads(fleet_file.read_text())
        image_path = folder / image_filename(PRODUCT, TARGET_VERSION)
        write_image(image_path, PRODUCT, TARGET_VERSION, options.image_mb * 1_000_000)
        image_bytes = image_path.read_bytes()
        sha256 = hashlib.sha256(image_bytes).hexdigest()
        results["image_bytes"] = len(image_bytes)
        print("capacity check…", flush=True)
        results["capacity"] = capacity_phase(options, cameras, image_bytes, simulator.pid)
        del image_bytes
        wait_idle(control, 60)
        world = build_world(cameras, image_path, sha256)
        reset_fleet(control, cameras)
        env = celery_environment(database=database, broker=redis.url, **engine_environment(options))
        workers = Workers(options, env, folder)
        devices = list(Device.objects.filter(organization=world["organization"]).order_by("name"))
        print("single-camera upgrades…", flush=True)
        single = single_phase(world, devices, options)
        results["single"] = single
        reset_fleet(control, cameras)
        print(f"{len(devices)} cameras…", flush=True)
        device_ids = [device.pk for device in devices]
        results["fleet"] = fleet_phase(
            world, control, workers, device_ids, single["median_seconds"], options
        )
        reset_fleet(control, cameras)
        print("with faults…", flush=True)
        results["faults"] = faults_phase(world, control, cameras, device_ids, options)
        workers.stop()
        workers = None
        print("tick cost…", flush=True)
        results["tick"] = tick_phase(world, [1000, options.tick_tasks])
    finally:
        if workers is not None:
            workers.stop()
        redis.stop()
        simulator.send_signal(2)
        simulator.wait(timeout=60)
    return results


def run(options: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    load_before = os.getloadavg()[0]
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory(prefix="camfleet-bench-upgrades-") as folder:
            results = _run(options, Path(folder), database)
    finally:
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            # The machine is shared: a high load average means other work competed with the run.
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
        "settings": {
            "cameras": options.count,
            "image_mb": options.image_mb,
            "concurrency": options.concurrency,
            "time_scale": options.time_scale,
            "simulated_timing_seconds": TIMING,
            "real_reboot_seconds": 20 * options.time_scale,
            "worker_processes": options.workers,
            "threads_per_worker": options.threads,
            "tick_seconds": options.tick,
        },
        **results,
    }


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--image-mb", type=int, default=20)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--fault-share", type=float, default=10.0, help="percent of cameras")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=64, help="threads per worker process")
    parser.add_argument("--tick", type=float, default=1.0, help="UPGRADE_TICK, seconds")
    parser.add_argument("--failure-threshold", type=int, default=20, help="percent")
    parser.add_argument("--tick-tasks", type=int, default=100_000)
    parser.add_argument("--camera-port", type=int, default=18480)
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
