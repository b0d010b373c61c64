"""Crash tests: upgrade jobs survive dead workers, a restarted broker and messages sent twice.

Everything is real: Celery worker processes and beat (the tick every half second) on a
redis-server of this test's own (never the machine's shared one), PostgreSQL, and simulated
cameras over HTTP. Whatever goes wrong, every device must end upgraded exactly once and be
reported so — counted on the cameras' side (images each camera installed, cameras mid-upgrade at
once), not from what the engine believes.

Simulated time runs at 1/200: a camera verifies an image in 0.05 s and is down for 1.5 s and
booting for 0.5 s after an install, long enough to kill a worker while it waits. The engine's
waits are shortened to match through its settings (environment of the worker processes).
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from devices.models import Device
from devices.simulator.camera import Timing
from devices.simulator.firmware import build_image, image_filename
from devices.simulator.fleet import FleetThread, run_in_thread
from tests.devices.test_health import device_for
from tests.support.processes import CeleryProcess, RedisServer, celery_environment
from upgrades.models import FINAL_STATES, TaskState, UpgradeTask, UpgradeTaskEvent
from upgrades.services import ReleaseSpec, add_release, create_job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TARGET = "12.11.86"  # the newest on the simulated P3265-V's track (cameras run .61 or .77)
TIME_SCALE = 0.005
TIMING = Timing(verify=10, pre_reboot=5, down=300, boot=100)
IMAGE_BYTES = 150_000
SLOW_LINK = 100_000  # bytes/s: an upload takes about 1.5 s, time to kill a worker mid-way
ENGINE = {
    "UPGRADE_TICK": "0.5",
    "UPGRADE_RECHECK_INTERVAL": "0.2",
    "UPGRADE_STALE_AFTER": "3",
    "UPGRADE_RESTART_TIMEOUT": "30",
    "UPGRADE_OFFLINE_RETRY": "0.5",
    # The camera's rollback timer runs in simulated time (30 min would be 9 real seconds, less
    # than a replacement worker may need to start on a busy machine): 10 simulated hours.
    "UPGRADE_AUTO_ROLLBACK_MINUTES": "600",
    "LOG_LEVEL": "INFO",
}
JOB_TIMEOUT = 60


@pytest.fixture(scope="module")
def crash_fleet() -> Iterator[FleetThread]:
    """Six P3265-V cameras for this module, with a slow enough reboot to crash into."""
    handle = run_in_thread(
        count=6, seed=31, time_scale=TIME_SCALE, products=["P3265-V"], timing=TIMING
    )
    yield handle
    handle.stop()


@pytest.fixture
def cameras(crash_fleet: FleetThread) -> FleetThread:
    crash_fleet.reset()
    crash_fleet.clear_activity()
    return crash_fleet


@pytest.fixture
def firmware_root(settings):
    # The worker processes store and read images where the test settings say: not per test.
    return settings.FIRMWARE_ROOT


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@dataclass
class World:
    membership: Any
    release: Any
    devices: list[Device]


@pytest.fixture
def world(tenant, cameras: FleetThread) -> World:
    image = build_image("P3265-V", TARGET, payload_size=IMAGE_BYTES)
    release = add_release(
        spec=ReleaseSpec(
            version=TARGET,
            product_numbers=("P3265-V",),
            release_date=date(2026, 11, 30),
            file_name=image_filename("P3265-V", TARGET),
            sha256=hashlib.sha256(image).hexdigest(),
        ),
        image=io.BytesIO(image),
    ).release
    folders = [tenant.site_a, tenant.site_b]
    devices = [
        device_for(camera, folders[index % 2], status=Device.Status.ONLINE)
        for index, camera in enumerate(cameras.cameras)
    ]
    return World(tenant.admin, release, devices)


class Engine:
    """The worker processes and beat of one test, on its private broker and database."""

    def __init__(self, log_dir: Path, broker: str, **settings: str) -> None:
        self.log_dir = log_dir
        self.env = celery_environment(
            database=connection.settings_dict["NAME"], broker=broker, **{**ENGINE, **settings}
        )
        self.processes: list[CeleryProcess] = []

    def worker(self, concurrency: int = 8, program: list[str] | None = None, **env: str):
        process = CeleryProcess.worker(
            {**self.env, **env},
            self.log_dir,
            queues="upgrades,default",
            concurrency=concurrency,
            name=f"worker{len(self.processes)}",
            program=program,
        )
        self.processes.append(process)
        return process

    def beat(self) -> CeleryProcess:
        process = CeleryProcess.beat(self.env, self.log_dir)
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_tail(3000)}" for p in self.processes)

    def stop(self) -> None:
        # The test has its answer: no need to wait for a warm shutdown.
        for process in self.processes:
            process.kill()


@pytest.fixture
def engine(tmp_path: Path, redis_server: RedisServer, transactional_db) -> Iterator[Engine]:
    engine = Engine(tmp_path, redis_server.url)
    yield engine
    engine.stop()


# ----- helpers ----------------------------------------------------------------------------------


def wait_until(condition: Callable[[], Any], timeout: float, what: str, engine: Engine) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{engine.logs()}")
        time.sleep(0.05)
    return result


def start_job(world: World):
    job, review = create_job(
        membership=world.membership,
        devices=Device.objects.filter(pk__in=[device.pk for device in world.devices]),
        release=world.release,
    )
    assert len(review.to_upgrade) == len(world.devices)
    return job


def wait_for_job(job, engine: Engine) -> list[UpgradeTask]:
    tasks = UpgradeTask.objects.filter(job=job)
    wait_until(
        lambda: not tasks.exclude(state__in=FINAL_STATES).exists(),
        JOB_TIMEOUT,
        "every task to end",
        engine,
    )
    return list(tasks.select_related("device"))


def assert_each_upgraded_exactly_once(
    world: World, cameras: FleetThread, tasks: list[UpgradeTask], engine: Engine
) -> None:
    """Every task succeeded, verified and reported once; every camera installed one image."""
    assert {task.state for task in tasks} == {TaskState.SUCCEEDED}, (
        [(task.device.serial_number, task.state, task.reason) for task in tasks],
        engine.logs(),
    )
    activity = cameras.activity()
    assert activity["installs"] == {camera.serial: 1 for camera in cameras.cameras}
    for camera in cameras.cameras:
        state = cameras.state(camera.serial)
        assert (state["active_version"], state["is_committed"]) == (TARGET, True)
    for task in tasks:
        successes = UpgradeTaskEvent.objects.filter(task=task, to_state=TaskState.SUCCEEDED)
        assert successes.count() == 1
        # Success only after verification: the task went through verifying before it.
        assert UpgradeTaskEvent.objects.filter(task=task, to_state=TaskState.VERIFYING).exists()
        assert task.to_version == TARGET
    # The device list shows the new version (recorded right after the success).
    devices = Device.objects.filter(pk__in=[d.pk for d in world.devices])
    wait_until(
        lambda: set(devices.values_list("firmware_version", flat=True)) == {TARGET},
        5,
        "the devices' new version recorded",
        engine,
    )


# ----- the tests --------------------------------------------------------------------------------


def test_a_worker_killed_mid_upload_is_replaced_and_each_device_is_upgraded_once(
    world: World, cameras: FleetThread, engine: Engine
):
    for camera in cameras.cameras:
        cameras.set_fault(camera.serial, "slow-link", SLOW_LINK)
    worker = engine.worker()
    engine.beat()
    job = start_job(world)
    wait_until(lambda: cameras.activity()["uploads"]["now"] >= 2, 30, "uploads under way", engine)
    worker.kill()
    # The cut connections end the uploads on the cameras' side: nothing was installed.
    wait_until(lambda: cameras.activity()["uploads"]["now"] == 0, 5, "uploads cut", engine)
    assert cameras.activity()["installs"] == {}
    engine.worker()
    tasks = wait_for_job(job, engine)
    assert_each_upgraded_exactly_once(world, cameras, tasks, engine)


def test_a_worker_killed_while_devices_reboot_is_replaced_and_each_is_upgraded_once(
    world: World, cameras: FleetThread, engine: Engine
):
    worker = engine.worker()
    engine.beat()
    job = start_job(world)

    def rebooting() -> bool:
        activity = cameras.activity()
        # Installed, still mid-upgrade: the camera is down or booting into the new image.
        return len(activity["installs"]) >= 2 and activity["upgrades"]["now"] >= 2

    wait_until(rebooting, 30, "cameras rebooting into the new image", engine)
    worker.kill()
    in_flight = UpgradeTask.objects.filter(job=job, state=TaskState.INSTALLING).count()
    engine.worker()
    tasks = wait_for_job(job, engine)
    assert in_flight >= 1  # the worker really died while tasks waited for a reboot
    assert_each_upgraded_exactly_once(world, cameras, tasks, engine)


def test_a_broker_restarted_mid_job_loses_no_task_and_upgrades_none_twice(
    world: World, cameras: FleetThread, engine: Engine, redis_server: RedisServer
):
    for camera in cameras.cameras:
        cameras.set_fault(camera.serial, "slow-link", SLOW_LINK)
    engine.worker()
    engine.beat()
    job = start_job(world)
    wait_until(lambda: cameras.activity()["uploads"]["now"] >= 2, 30, "uploads under way", engine)
    # Every queued message is gone with the old server's memory; the workers reconnect.
    redis_server.restart(down_for=1.0)
    tasks = wait_for_job(job, engine)
    assert_each_upgraded_exactly_once(world, cameras, tasks, engine)


def test_every_step_delivered_twice_still_upgrades_each_device_once(
    world: World, cameras: FleetThread, engine: Engine, tmp_path: Path
):
    duplicates = tmp_path / "duplicates"
    program = [sys.executable, "-m", "tests.support.duplicating_worker"]
    # Two workers: a step and its copy often run at the same moment in different processes.
    for _ in range(2):
        engine.worker(program=program, DUPLICATES_FILE=str(duplicates))
    engine.beat()
    job = start_job(world)
    tasks = wait_for_job(job, engine)
    doubled = int(duplicates.read_text()) if duplicates.exists() else 0
    # At least every step each device needs once (preflight, upload, install, verify, commit).
    assert doubled >= len(world.devices), engine.logs()
    assert_each_upgraded_exactly_once(world, cameras, tasks, engine)


def test_concurrency_limits_hold_on_the_cameras_side(
    world: World, cameras: FleetThread, engine: Engine, tmp_path: Path
):
    for camera in cameras.cameras:
        cameras.set_fault(camera.serial, "slow-link", SLOW_LINK)
    engine.env.update(
        UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION="3", UPGRADE_MAX_CONCURRENT_PER_FOLDER="2"
    )
    engine.worker(concurrency=12)
    engine.beat()
    job = start_job(world)
    tasks = wait_for_job(job, engine)
    assert_each_upgraded_exactly_once(world, cameras, tasks, engine)
    # Six cameras, three in each of two folders: the folder limit alone would allow four at
    # once, the organization's caps it at three, and three were really reached.
    assert cameras.activity()["upgrades"]["peak"] == 3
    by_folder: dict[str, list[str]] = {}
    for device in world.devices:
        by_folder.setdefault(str(device.folder_id), []).append(device.serial_number)
    for serials in by_folder.values():
        assert most_at_once(cameras, serials) <= 2


def most_at_once(cameras: FleetThread, serials: list[str]) -> int:
    """The most of these cameras mid-upgrade at once, from their own transition logs."""
    edges = []
    for serial in serials:
        started = None
        for entry in cameras.state(serial)["log"]:
            if entry["event"] == "upload-started":
                started = entry["at"]
            elif entry["event"] == "ready" and started is not None:
                edges += [(started, 1), (entry["at"], -1)]
                started = None
    most = now = 0
    for _, change in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        now += change
        most = max(most, now)
    return most
