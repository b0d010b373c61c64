"""Upgrades through a real Celery worker process (with its beat) on Redis, against simulated
cameras: one success, and every failure the simulator can inject into an upgrade, each ending
in its own state with its own reason.

The worker runs in a subprocess on this test's database and a private redis-server (nothing
shared with other test runs); the cameras run in this process and are reached over loopback
HTTP. Time is scaled (a 60 s reboot takes 0.3 s) and the engine's waits are shortened through
the environment, so the whole module takes well under a minute.
"""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from devices.selectors import visible_devices
from devices.simulator.fleet import run_in_thread
from tests.support.processes import CeleryProcess, RedisServer, celery_environment
from tests.upgrades.factories import add_test_release
from tests.upgrades.pipeline_support import device_for, newer
from upgrades.models import FINAL_STATES, TaskState, UpgradeJob, UpgradeTask
from upgrades.services import create_job, pause_job, resume_job
from upgrades.versions import version_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A large enough image that an upload broken half-way is seen as incomplete by the client
# (loopback socket buffers hold up to about 10 MB).
IMAGE_BYTES = 32 * 1024 * 1024

# Camera index → (fault, argument), on ten P3265-V cameras.
FAULTS = {
    1: ("refuse-image", 421),
    2: ("comes-back-old", True),
    3: ("never-returns", True),
    4: ("wrong-credentials", True),
    5: ("offline", True),
    6: ("answer-lost", True),
    7: ("upload-reset", 50),
    8: ("upload-stall", 50),
    9: ("swapped-serial", True),
}


@pytest.fixture(scope="module")
def redis_url():
    """A redis-server of this module's own (the broker), stopped afterwards."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="module")
def cameras():
    """Ten P3265-V cameras of this module, in scaled time."""
    handle = run_in_thread(
        count=10, seed=13, time_scale=0.005, products=["P3265-V"] * 10, control_port=0
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def module_firmware(tmp_path_factory):
    return tmp_path_factory.mktemp("firmware")


@pytest.fixture(autouse=True)
def firmware_root(settings, module_firmware):
    """The worker reads images from the folder this module stores them in."""
    settings.FIRMWARE_STORAGE = ""
    settings.FIRMWARE_ROOT = module_firmware
    return module_firmware


def start_worker(redis_url: str, firmware_root: Path, tmp_path: Path) -> CeleryProcess:
    """A Celery worker with its beat on this test's database, with the engine's waits short."""
    env = celery_environment(
        database=connection.settings_dict["NAME"],
        broker=redis_url,
        FIRMWARE_ROOT=str(firmware_root),
        UPGRADE_TICK="0.3",
        UPGRADE_RECHECK_INTERVAL="0.1",
        UPGRADE_RESTART_TIMEOUT="4",
        UPGRADE_STALE_AFTER="5",
        UPGRADE_UPLOAD_MINIMUM="2",
        UPGRADE_UPLOAD_MAXIMUM="5",
        UPGRADE_OFFLINE_RETRY="0.5",
        UPGRADE_IDLE_GRACE="1",
        UPGRADE_EXPECTED_DURATION="2",
        UPGRADE_SCHEDULE_SWEEP="3600",
        DEVICE_POLL_TICK="3600",
    )
    return CeleryProcess.worker(env, tmp_path, queues="upgrades", concurrency=4, beat=True)


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)


def wait_until_final(job: UpgradeJob, timeout: float) -> dict[int, UpgradeTask]:
    wait_until(lambda: not job.tasks.exclude(state__in=FINAL_STATES).exists(), timeout)
    return {task.device_id: task for task in job.tasks.all()}


def installs(cameras, serial: str) -> int:
    """How many images the camera started installing (from the simulator's own log)."""
    return sum(
        1 for entry in cameras.camera(serial).state()["log"] if entry["event"] == "installing"
    )


def test_upgrades_through_a_worker_end_in_the_right_state_with_the_right_reason(
    tenant, cameras, redis_url, firmware_root, tmp_path
):
    cameras.reset()
    base = {i: camera.version for i, camera in enumerate(cameras.cameras)}
    target = newer(max(base.values(), key=version_key))
    add_test_release(target, "P3265-V", payload_size=IMAGE_BYTES)
    devices = [device_for(camera, tenant.site_a) for camera in cameras.cameras]
    for index, (fault, argument) in FAULTS.items():
        cameras.set_fault(cameras.cameras[index].serial, fault, argument)
    offline = devices[5]
    job, review = create_job(
        membership=tenant.admin,
        devices=visible_devices(tenant.admin)
        .filter(pk__in=[d.pk for d in devices])
        .exclude(pk=offline.pk),
    )
    assert review.counts["upgrade"] == 9
    # Every failure kind in one job: it must not pause itself before all have run.
    UpgradeJob.objects.filter(pk=job.pk).update(failure_threshold_percent=100)
    # The offline camera gets a job of its own, held until the worker is up, with a window
    # that then ends a few seconds later.
    offline_job, _review = create_job(
        membership=tenant.admin, devices=visible_devices(tenant.admin).filter(pk=offline.pk)
    )
    pause_job(membership=tenant.admin, job=offline_job)

    worker = start_worker(redis_url, firmware_root, tmp_path)
    try:
        wait_until(lambda: not job.tasks.filter(state=TaskState.QUEUED).exists(), timeout=60)
        offline_job.tasks.update(window_ends_at=timezone.now() + timedelta(seconds=8))
        resume_job(membership=tenant.admin, job=offline_job)
        tasks = wait_until_final(job, timeout=60)
        tasks.update(wait_until_final(offline_job, timeout=30))
    finally:
        worker.stop()
        log = worker.log_tail()
    by_index = {i: tasks[device.pk] for i, device in enumerate(devices)}
    outcome = {i: (t.state, t.reason_code) for i, t in by_index.items()}
    assert outcome == {
        0: (TaskState.SUCCEEDED, "succeeded"),
        1: (TaskState.FAILED, "refused"),
        2: (TaskState.ROLLED_BACK, "rolled_back"),
        3: (TaskState.FAILED, "never_returned"),
        4: (TaskState.FAILED, "auth_failed"),
        5: (TaskState.FAILED, "not_reached_in_window"),
        6: (TaskState.SUCCEEDED, "succeeded"),
        7: (TaskState.FAILED, "upload_interrupted"),
        8: (TaskState.FAILED, "upload_interrupted"),
        9: (TaskState.FAILED, "other_device"),
    }, log[-6000:]

    reasons = {i: t.reason for i, t in by_index.items()}
    assert reasons[1] == (
        f"The device refused the image: image does not match this device. It still runs {base[1]}."
    )
    assert reasons[2] == f"Device came back on {base[2]}; it rolled back by itself."
    assert reasons[3] == "Device did not come back within 1 minute."
    assert reasons[4].startswith("Wrong credentials")
    assert reasons[5].startswith("Not reached inside its window: offline from ")
    for index in (7, 8):
        assert reasons[index].startswith("The upload stopped at ")
        assert reasons[index].endswith(f"did not get the image and still runs {base[index]}.")
    assert "another serial number" in reasons[9]

    # Success means verified on the camera itself: the target runs, committed, installed once.
    for index in (0, 6):
        camera = cameras.cameras[index]
        state = cameras.camera(camera.serial).state()
        assert state["active_version"] == target
        assert state["is_committed"] is True
        assert installs(cameras, camera.serial) == 1
        task = by_index[index]
        assert list(task.events.values_list("to_state", flat=True)) == [
            "queued",
            "preflight",
            "uploading",
            "installing",
            "verifying",
            "committing",
            "succeeded",
        ]
        devices[index].refresh_from_db()
        assert devices[index].firmware_version == target
    # The failures left the cameras on their version (the rolled-back one by itself).
    for index in (1, 2, 4, 7, 8):
        state = cameras.camera(cameras.cameras[index].serial).state()
        assert state["active_version"] == base[index]
    for finished in (job, offline_job):
        finished.refresh_from_db()
        assert finished.status == UpgradeJob.Status.FINISHED
