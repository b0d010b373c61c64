"""The upgrade pipeline in this process against the simulator: steps, stalls, duplicates.

Steps run here, in order, as a worker would run them (`run_steps`); the tests that need a real
worker process are in test_worker.py.
"""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from devices.connection import open_client
from devices.selectors import visible_devices
from devices.vapix.upgrade import start_upgrade
from organizations.models import AuditEvent
from tests.upgrades.factories import add_test_release
from tests.upgrades.pipeline_support import device_for, newer, run_steps, run_to_end
from upgrades import engine, storage
from upgrades.models import TaskState, UpgradeTask
from upgrades.services import create_job

pytestmark = pytest.mark.django_db(transaction=True)

SUCCESS_PATH = [
    "queued",
    "preflight",
    "uploading",
    "installing",
    "verifying",
    "committing",
    "succeeded",
]


@pytest.fixture(autouse=True)
def quick(settings):
    settings.UPGRADE_RECHECK_INTERVAL = 0.05
    settings.UPGRADE_RESTART_TIMEOUT = 10
    settings.UPGRADE_STALE_AFTER = 60


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def task(tenant, camera):
    device = device_for(camera, tenant.site_a)
    add_test_release(newer(camera.version), "P3265-V")
    job, _review = create_job(
        membership=tenant.admin, devices=visible_devices(tenant.admin).filter(pk=device.pk)
    )
    return job.tasks.select_related("device", "release").get()


def installs(fleet, serial: str) -> int:
    """How many images the camera started installing (the simulator's own log)."""
    return sum(1 for entry in fleet.camera(serial).state()["log"] if entry["event"] == "installing")


def step_until(task: UpgradeTask, state: str, handoffs) -> list:
    """Run steps until the task reaches `state`; return the handoffs not run yet."""
    queue = list(handoffs)
    while queue:
        task.refresh_from_db()
        if task.state == state:
            return queue
        handoff = queue.pop(0)
        time.sleep(min(handoff.countdown, 0.05))
        queue.extend(engine.run_step(handoff.task_id, handoff.token))
    task.refresh_from_db()
    assert task.state == state, task.reason
    return queue


def test_an_upgrade_ends_verified_and_committed(task, camera, clean_camera_fleet):
    task = run_to_end(task)
    assert task.state == TaskState.SUCCEEDED, task.reason
    assert list(task.events.values_list("to_state", flat=True)) == SUCCESS_PATH
    state = clean_camera_fleet.camera(camera.serial).state()
    assert state["active_version"] == task.to_version
    assert state["is_committed"] is True
    assert state["boot_id"] != task.boot_id_before
    assert installs(clean_camera_fleet, camera.serial) == 1
    task.device.refresh_from_db()
    assert task.device.firmware_version == task.to_version
    # Stored before the success, and audited on the device as a health poll would.
    change = AuditEvent.objects.get(action="device.identity_change", target_id=str(task.device_id))
    assert change.data["firmware_version"] == {"from": task.from_version, "to": task.to_version}
    assert task.progress_bytes == task.total_bytes > 0


def test_a_device_without_boot_ids_is_verified_by_its_outage_and_version(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.by_product("M3066-V")  # AXIS OS 10.12: no boot ID, no uptime
    device = device_for(camera, tenant.site_a)
    add_test_release(newer(camera.version), "M3066-V")
    job, _review = create_job(
        membership=tenant.admin, devices=visible_devices(tenant.admin).filter(pk=device.pk)
    )
    task = run_to_end(job.tasks.get())
    assert task.state == TaskState.SUCCEEDED, task.reason
    assert task.boot_id_before == ""
    state = clean_camera_fleet.camera(camera.serial).state()
    assert state["active_version"] == task.to_version
    assert state["is_committed"] is True
    assert installs(clean_camera_fleet, camera.serial) == 1


def test_a_step_delivered_twice_runs_once(task):
    (handoff,) = engine.tick().handoffs
    following = engine.run_step(handoff.task_id, handoff.token)
    assert engine.run_step(handoff.task_id, handoff.token) == []  # the duplicate: nothing
    task.refresh_from_db()
    assert task.state == TaskState.UPLOADING
    assert task.events.filter(to_state=TaskState.UPLOADING).count() == 1
    assert [h.state for h in following] == [TaskState.UPLOADING]


def test_a_lost_step_is_resumed_by_the_tick_from_the_devices_real_state(
    task, camera, clean_camera_fleet, settings
):
    # The step after the upload is lost (its worker died, or the broker lost the message).
    lost = step_until(task, TaskState.INSTALLING, engine.tick().handoffs)
    assert [h.state for h in lost] == [TaskState.INSTALLING]
    clean_camera_fleet.wait_for(camera.serial, lambda s: s["phase"] == "running")
    assert engine.tick().resumed == 0  # its heartbeat is still fresh
    UpgradeTask.objects.filter(pk=task.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.UPGRADE_STALE_AFTER + 1)
    )
    report = engine.tick()
    assert report.resumed == 1
    run_steps(report.handoffs)
    task.refresh_from_db()
    assert task.state == TaskState.SUCCEEDED, task.reason
    assert installs(clean_camera_fleet, camera.serial) == 1
    # The lost message arriving late changes nothing.
    assert engine.run_step(lost[0].task_id, lost[0].token) == []


def test_a_worker_that_died_after_uploading_is_not_followed_by_a_second_upload(
    task, camera, clean_camera_fleet, settings
):
    step_until(task, TaskState.UPLOADING, engine.tick().handoffs)
    task.refresh_from_db()
    # The dead worker's upload reached the device; the task still says "uploading".
    with storage.local_image(task.release.image_name) as image:
        start_upgrade(open_client(task.device), image, task.to_version)
    clean_camera_fleet.wait_for(
        camera.serial, lambda s: s["phase"] == "running" and s["boot_id"] != task.boot_id_before
    )
    UpgradeTask.objects.filter(pk=task.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.UPGRADE_STALE_AFTER + 1)
    )
    report = engine.tick()
    assert [h.state for h in report.handoffs] == [TaskState.UPLOADING]
    run_steps(report.handoffs)
    task.refresh_from_db()
    assert task.state == TaskState.SUCCEEDED, task.reason
    assert installs(clean_camera_fleet, camera.serial) == 1
    assert clean_camera_fleet.camera(camera.serial).state()["is_committed"] is True


def test_a_step_taken_over_by_the_tick_can_no_longer_write(task, settings):
    (preflight,) = engine.tick().handoffs
    (upload,) = engine.run_step(preflight.task_id, preflight.token)
    # The tick judged the upload stalled and sent it again with a new token.
    UpgradeTask.objects.filter(pk=task.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.UPGRADE_STALE_AFTER + 1)
    )
    (resumed,) = engine.tick().handoffs
    assert engine.run_step(upload.task_id, upload.token) == []  # the old token: refused
    run_steps([resumed])
    task.refresh_from_db()
    assert task.state == TaskState.SUCCEEDED, task.reason


def test_an_unreachable_device_waits_inside_its_window_then_fails_as_not_reached(
    tenant, camera, clean_camera_fleet, settings
):
    settings.UPGRADE_OFFLINE_RETRY = 30
    settings.UPGRADE_EXPECTED_DURATION = 60
    device = device_for(camera, tenant.site_a)
    add_test_release(newer(camera.version), "P3265-V")
    job, _review = create_job(
        membership=tenant.admin, devices=visible_devices(tenant.admin).filter(pk=device.pk)
    )
    task = job.tasks.get()
    UpgradeTask.objects.filter(pk=task.pk).update(
        window_ends_at=timezone.now() + timedelta(minutes=10)
    )
    clean_camera_fleet.set_fault(camera.serial, "offline")
    run_steps(engine.tick().handoffs)
    task.refresh_from_db()
    assert (task.state, task.reason_code) == (TaskState.WAITING_WINDOW, "offline_retry")
    assert task.unreachable_since is not None
    assert task.not_before > timezone.now() + timedelta(seconds=20)
    assert task.reason.startswith("Offline since ")
    # Still offline when the retry comes, with too little of the window left for another.
    with time_machine.travel(task.window_ends_at - timedelta(seconds=80)):
        run_steps(engine.tick().handoffs)
    task.refresh_from_db()
    assert (task.state, task.reason_code) == (TaskState.FAILED, "not_reached_in_window")
    assert task.reason.startswith("Not reached inside its window: offline from ")
    job.refresh_from_db()
    assert job.status == job.Status.FINISHED


def test_an_image_missing_from_the_storage_fails_the_task_without_touching_the_device(
    task, camera, clean_camera_fleet
):
    storage.delete_image(task.release.image_name)
    task = run_to_end(task)
    assert (task.state, task.reason_code) == (TaskState.FAILED, "image_missing")
    assert (
        task.reason
        == f"The image of AXIS OS {task.to_version} is missing from the firmware storage."
    )
    assert installs(clean_camera_fleet, camera.serial) == 0
