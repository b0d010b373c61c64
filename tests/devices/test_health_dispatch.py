"""The periodic dispatcher: every device once per interval, spread out, on a bounded pool."""

import socket
import time
from collections import Counter
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from common.mail import MAIL_TASK_OPTIONS
from devices import health, tasks
from devices.models import Device
from tests.devices.factories import DeviceFactory
from tests.devices.test_health import device_for

INTERVAL = 300
TICK = 15


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on: polls there end at once with "refused"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dispatcher_polls_new_devices_at_once_then_once_per_interval_spread_out(
    tenant, settings
):
    settings.DEVICE_POLL_INTERVAL = INTERVAL
    devices = [DeviceFactory(folder=tenant.site_a, next_poll_at=None) for _ in range(40)]
    start = timezone.now()
    assert len(health.claim_due_devices(now=start)) == len(devices)  # new: polled at once
    claims: Counter = Counter()
    ticks_with_claims = set()
    # Three more intervals of ticks: each device once per interval, at its own moment.
    for tick in range(1, 3 * INTERVAL // TICK + 1):
        claimed = health.claim_due_devices(now=start + timedelta(seconds=tick * TICK))
        claims.update(claimed)
        if claimed and tick <= INTERVAL // TICK:
            ticks_with_claims.add(tick)
    assert claims == {str(device.pk): 3 for device in devices}
    # Not all at one tick: the devices are spread over the interval's 20 ticks.
    assert len(ticks_with_claims) > 10


def test_every_device_is_claimed_once_in_any_window_of_one_interval(tenant, settings):
    settings.DEVICE_POLL_INTERVAL = INTERVAL
    devices = [DeviceFactory(folder=tenant.site_a, next_poll_at=None) for _ in range(25)]
    start = timezone.now()
    health.claim_due_devices(now=start)  # new devices: polled at once, then at their moment
    claims: Counter = Counter()
    for tick in range(1, INTERVAL // TICK + 1):
        claims.update(health.claim_due_devices(now=start + timedelta(seconds=tick * TICK)))
    assert claims == {str(device.pk): 1 for device in devices}


def test_a_dispatcher_that_was_down_polls_each_device_once_then_keeps_its_moment(tenant, settings):
    settings.DEVICE_POLL_INTERVAL = INTERVAL
    now = timezone.now()
    device = DeviceFactory(folder=tenant.site_a, next_poll_at=now - timedelta(hours=5, seconds=7))
    assert health.claim_due_devices(now=now) == [str(device.pk)]
    assert health.claim_due_devices(now=now + timedelta(seconds=TICK)) == []
    device.refresh_from_db()
    assert now < device.next_poll_at <= now + timedelta(seconds=INTERVAL)
    # Same moment in the interval as before the outage of the dispatcher.
    assert (device.next_poll_at - (now - timedelta(hours=5, seconds=7))).total_seconds() % (
        INTERVAL
    ) == pytest.approx(0, abs=1e-3)


def test_bounded_threads_never_let_a_hanging_device_hold_up_the_others(
    transactional_db, clean_camera_fleet, settings
):
    settings.DEVICE_POLL_READ_TIMEOUT = 1.0
    settings.DEVICE_POLL_CONCURRENCY = 2
    tenant_folder = DeviceFactory().folder
    hanging, *others = [device_for(camera, tenant_folder) for camera in clean_camera_fleet.cameras]
    clean_camera_fleet.set_fault(hanging.serial_number, "hang")
    started = time.monotonic()
    polled, skipped = health.poll_many([hanging.pk, *[device.pk for device in others]])
    elapsed = time.monotonic() - started
    assert (polled, skipped) == (len(others) + 1, 0)
    statuses = dict(Device.objects.values_list("serial_number", "status"))
    assert statuses[hanging.serial_number] == Device.Status.OFFLINE
    assert {statuses[device.serial_number] for device in others} == {Device.Status.ONLINE}
    # One thread waits for the hanging camera; the other polls the rest meanwhile.
    assert elapsed < 2 * health.poll_timeouts().total


def test_a_batch_starts_no_poll_after_its_deadline():
    done = []
    polled, skipped = health.run_bounded(
        ["a", "b", "c"], done.append, concurrency=2, deadline=time.monotonic() - 1
    )
    assert (polled, skipped, done) == (0, 3, [])


def test_the_periodic_task_polls_every_due_device_through_the_worker_code(
    transactional_db, clean_camera_fleet, closed_port, settings
):
    settings.DEVICE_POLL_BATCH_SIZE = 2  # several poll tasks
    folder = DeviceFactory().folder
    Device.objects.all().delete()
    online = [device_for(camera, folder) for camera in clean_camera_fleet.cameras[:3]]
    offline = DeviceFactory(folder=folder, host="127.0.0.1", port=closed_port)
    assert tasks.dispatch_polls.delay().get() == 4
    statuses = dict(Device.objects.values_list("pk", "status"))
    assert statuses == {device.pk: "online" for device in online} | {offline.pk: "offline"}
    assert not Device.objects.filter(next_poll_at__lte=timezone.now()).exists()
    assert tasks.dispatch_polls.delay().get() == 0  # nothing is due again before its moment


def test_poll_tasks_have_time_limits_above_their_worst_case():
    assert health.poll_batch_seconds() < tasks.POLL_SOFT_TIME_LIMIT
    assert tasks.poll_devices.soft_time_limit == tasks.POLL_SOFT_TIME_LIMIT
    assert tasks.poll_devices.time_limit > tasks.poll_devices.soft_time_limit


def test_beat_runs_the_dispatcher_every_tick(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["devices.dispatch-polls"]
    assert entry["task"] == tasks.dispatch_polls.name
    assert 0 < entry["schedule"] < settings.DEVICE_POLL_INTERVAL


def test_device_tasks_go_to_the_devices_queue_and_alerts_retry_like_every_mail():
    router = current_app.amqp.router
    for task in (tasks.dispatch_polls, tasks.poll_devices, tasks.send_offline_alert):
        assert router.route({}, task.name)["queue"].name == "devices"
    assert tasks.send_offline_alert.max_retries == MAIL_TASK_OPTIONS["max_retries"]
    assert tasks.send_offline_alert.autoretry_for == MAIL_TASK_OPTIONS["autoretry_for"]
