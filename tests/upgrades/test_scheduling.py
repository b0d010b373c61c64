"""The scheduler tick and automatic upgrades: windows, time left, limits, paused jobs, sweeps.

No device is contacted here: the tick only claims and hands steps over (what it returns), so
these tests check what it decides, at chosen moments.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices.selectors import visible_devices
from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release
from upgrades import engine
from upgrades.models import TaskState, UpgradeJob, UpgradeTask
from upgrades.services import (
    ScheduleSpec,
    apply_schedule,
    create_job,
    pause_job,
    resume_job,
    transition,
)

# Mondays 02:00-04:00 in Stockholm: 00:00-02:00 UTC in summer.
MONDAY_NIGHT = ScheduleSpec(
    mode="window", weekdays=frozenset({0}), start_time=time(2, 0), duration_minutes=120
)
ASAP = ScheduleSpec(mode="asap")
NONE = ScheduleSpec(mode="none")
SUNDAY_NOON = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def release(db):
    return add_test_release("12.11.100", "P3265-V")


@pytest.fixture
def device(tenant, release):
    tenant.site_a.time_zone = "Europe/Stockholm"
    tenant.site_a.save()
    return DeviceFactory(folder=tenant.site_a, name="cam-a", firmware_version="12.11.79")


def _schedule(tenant, spec, folder=None):
    apply_schedule(actor=tenant.admin, spec=spec, folder_ids=[(folder or tenant.site_a).pk])


def _planned_task(tenant, spec, now=SUNDAY_NOON) -> UpgradeTask:
    _schedule(tenant, spec)
    (job,) = engine.plan_automatic_upgrades(now=now)
    assert job.origin == UpgradeJob.Origin.SCHEDULE
    return job.tasks.get()


def test_a_window_device_gets_a_task_waiting_for_its_next_window(tenant, device):
    task = _planned_task(tenant, MONDAY_NIGHT)
    assert task.state == TaskState.WAITING_WINDOW
    assert (task.not_before, task.window_ends_at) == (WINDOW_START, WINDOW_END)
    assert task.to_version == "12.11.100"
    assert task.job.created_by_label == engine.SCHEDULE_ACTOR


def test_a_task_outside_its_window_waits_and_inside_it_starts(tenant, device):
    task = _planned_task(tenant, MONDAY_NIGHT)
    before = engine.tick(now=WINDOW_START - timedelta(minutes=1))
    assert (before.opened, before.started, before.handoffs) == (0, 0, [])
    task.refresh_from_db()
    assert task.state == TaskState.WAITING_WINDOW
    inside = engine.tick(now=WINDOW_START + timedelta(minutes=1))
    assert (inside.opened, inside.started) == (1, 1)
    assert [(h.task_id, h.state) for h in inside.handoffs] == [(task.pk, TaskState.PREFLIGHT)]
    task.refresh_from_db()
    assert task.state == TaskState.PREFLIGHT
    assert task.step_token == inside.handoffs[0].token
    assert list(task.events.values_list("to_state", flat=True)) == [
        "waiting_window",
        "queued",
        "preflight",
    ]


def test_a_task_is_not_started_when_its_window_has_too_little_time_left(tenant, device):
    task = _planned_task(tenant, MONDAY_NIGHT)
    report = engine.tick(now=WINDOW_END - timedelta(minutes=10))  # 20 minutes needed
    assert (report.started, report.deferred) == (0, 1)
    task.refresh_from_db()
    assert (task.state, task.reason_code) == (TaskState.WAITING_WINDOW, "window_too_short")
    assert task.not_before == WINDOW_START + timedelta(days=7)
    assert task.window_ends_at == WINDOW_END + timedelta(days=7)
    assert task.reason == (
        "Not enough of the window left (about 20 minutes needed). "
        "Waits for the window at 2026-06-08 02:00 (Europe/Stockholm)."
    )


def test_the_expected_duration_comes_from_the_models_past_upgrades(tenant, device, release):
    # An earlier upgrade of a P3265-V took 8 minutes: 12 expected with the margin.
    earlier = DeviceFactory(folder=tenant.site_b, firmware_version="12.11.100")
    job = UpgradeJob.objects.create(organization=tenant.organization, origin="manual")
    finished = timezone.now() - timedelta(days=1)
    UpgradeTask.objects.create(
        job=job,
        organization=tenant.organization,
        device=earlier,
        release=release,
        to_version="12.11.100",
        state=TaskState.SUCCEEDED,
        started_at=finished - timedelta(minutes=8),
        finished_at=finished,
    )
    assert engine.expected_durations(["P3265-V", "M1075-L"]) == {
        "P3265-V": timedelta(minutes=12),
        "M1075-L": timedelta(minutes=20),  # none yet: the setting
    }
    task = _planned_task(tenant, MONDAY_NIGHT)
    assert engine.tick(now=WINDOW_END - timedelta(minutes=11)).started == 0
    task.refresh_from_db()
    assert task.state == TaskState.WAITING_WINDOW
    UpgradeTask.objects.filter(pk=task.pk).update(
        not_before=WINDOW_START, window_ends_at=WINDOW_END
    )
    assert engine.tick(now=WINDOW_END - timedelta(minutes=13)).started == 1


def test_as_soon_as_available_devices_get_a_task_at_once_and_none_devices_nothing(
    tenant, device, release
):
    quiet = DeviceFactory(folder=tenant.site_b, firmware_version="12.11.79")
    _schedule(tenant, NONE, tenant.site_b)
    task = _planned_task(tenant, ASAP, now=timezone.now())
    assert task.device == device
    assert task.state == TaskState.QUEUED
    assert not UpgradeTask.objects.filter(device=quiet).exists()
    assert engine.tick().started == 1


def test_a_sweep_never_gives_a_device_a_second_task_for_the_same_release(tenant, device):
    task = _planned_task(tenant, ASAP, now=timezone.now())
    assert engine.plan_automatic_upgrades() == []  # still active
    transition(task, TaskState.PREFLIGHT, reason_code="started")
    transition(task, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    assert engine.plan_automatic_upgrades() == []  # failed: an admin retries it, not the sweep
    assert UpgradeTask.objects.filter(device=device).count() == 1


def test_a_new_release_in_the_catalog_plans_the_automatic_upgrades(
    tenant, device, release, django_capture_on_commit_callbacks
):
    _schedule(tenant, ASAP)
    assert len(engine.plan_automatic_upgrades()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        add_test_release("12.11.120", "P3265-V")
    latest = UpgradeTask.objects.filter(device=device, to_version="12.11.120")
    # The first task (to 12.11.100) is still active: the device waits for it to end.
    assert not latest.exists()
    UpgradeTask.objects.filter(device=device).update(state=TaskState.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True):
        add_test_release("12.11.121", "P3265-V")
    assert UpgradeTask.objects.filter(device=device, to_version="12.11.121").count() == 1


def test_a_schedule_changed_to_none_skips_the_waiting_task(tenant, device):
    task = _planned_task(tenant, MONDAY_NIGHT)
    _schedule(tenant, NONE)
    engine.tick(now=WINDOW_START + timedelta(minutes=5))
    task.refresh_from_db()
    assert (task.state, task.reason_code) == (TaskState.SKIPPED, "schedule_removed")


# --- Limits and paused jobs ---------------------------------------------------------------


def _manual_job(tenant, devices):
    job, _review = create_job(
        membership=tenant.admin,
        devices=visible_devices(tenant.admin).filter(pk__in=[d.pk for d in devices]),
    )
    return job


def _in_flight(**filters) -> int:
    return UpgradeTask.objects.filter(state=TaskState.PREFLIGHT, **filters).count()


def test_the_tick_never_exceeds_the_organization_and_folder_limits(tenant, release, settings):
    settings.UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION = 3
    settings.UPGRADE_MAX_CONCURRENT_PER_FOLDER = 2
    devices = [
        DeviceFactory(folder=folder, firmware_version="12.11.79")
        for folder in [tenant.site_a] * 3 + [tenant.site_b] * 3
    ]
    _manual_job(tenant, devices)
    assert engine.tick().started == 3
    assert _in_flight(device__folder=tenant.site_a) <= 2
    assert _in_flight(device__folder=tenant.site_b) <= 2
    assert engine.tick().started == 0
    running = UpgradeTask.objects.filter(state=TaskState.PREFLIGHT).first()
    transition(running, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    assert engine.tick().started == 1
    assert _in_flight() == 3


def test_a_paused_job_starts_nothing_until_resumed(tenant, release):
    devices = [DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(2)]
    job = _manual_job(tenant, devices)
    pause_job(membership=tenant.admin, job=job)
    assert engine.tick().started == 0
    resume_job(membership=tenant.admin, job=job)
    assert engine.tick().started == 2


def test_the_ticks_cost_does_not_grow_with_the_number_of_waiting_tasks(tenant, release):
    def waiting(count):
        devices = [
            DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(count)
        ]
        job = _manual_job(tenant, devices)
        job.tasks.update(state=TaskState.WAITING_WINDOW, not_before=WINDOW_START)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            engine.tick(now=SUNDAY_NOON)
        return len(captured)

    waiting(3)
    few = queries()
    waiting(120)
    assert queries() == few


def test_a_full_folder_does_not_hold_up_the_tasks_of_other_folders(tenant, release, settings):
    settings.UPGRADE_MAX_CONCURRENT_PER_FOLDER = 1
    settings.UPGRADE_TICK_BATCH = 2
    crowded = [DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(3)]
    _manual_job(tenant, crowded)
    other = DeviceFactory(folder=tenant.site_b, firmware_version="12.11.79")
    _manual_job(tenant, [other])
    assert engine.tick().started == 1  # the batch held site_a tasks only
    assert engine.tick().started == 1  # site_a is full: its queued tasks are not read
    assert _in_flight(device=other) == 1
    assert _in_flight(device__folder=tenant.site_a) == 1
