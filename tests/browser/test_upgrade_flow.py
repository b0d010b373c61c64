"""An admin upgrades every P3265-V with an upgrade recommended, from the device list, and
watches the Tasks view reach "Succeeded" without reloading: a real browser, the live server,
simulated cameras, and a real Celery worker (with its beat) on a private Redis."""

from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Browser, expect

from devices.models import Device
from devices.simulator.fleet import run_in_thread
from tests.browser.test_content_security_policy import Watcher, _sign_in
from tests.devices.factories import DeviceFactory
from tests.support.cast import build_tenant
from tests.support.processes import CeleryProcess, RedisServer, celery_environment
from tests.upgrades.factories import add_test_release
from upgrades.models import TaskState, UpgradeTask
from upgrades.versions import version_key

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url():
    """A redis-server of this test's own (the broker), stopped afterwards."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
def cameras():
    """Two P3265-V cameras and an M1075-L, in scaled time (a reboot takes well under a second)."""
    handle = run_in_thread(
        count=3,
        seed=21,
        time_scale=0.005,
        products=["P3265-V", "P3265-V", "M1075-L"],
        control_port=0,
    )
    yield handle
    handle.stop()


def _worker(redis_url: str, firmware_root: Path, tmp_path: Path) -> CeleryProcess:
    """A Celery worker with its beat on this test's database, with the engine's waits short."""
    env = celery_environment(
        database=connection.settings_dict["NAME"],
        broker=redis_url,
        FIRMWARE_ROOT=str(firmware_root),
        UPGRADE_TICK="0.3",
        UPGRADE_RECHECK_INTERVAL="0.1",
        UPGRADE_RESTART_TIMEOUT="10",
        UPGRADE_SCHEDULE_SWEEP="3600",
        DEVICE_POLL_TICK="3600",
    )
    return CeleryProcess.worker(env, tmp_path, queues="upgrades", concurrency=4, beat=True)


def _device(camera, folder) -> Device:
    """A stored device that is the simulated camera, as onboarding stores it."""
    return DeviceFactory(
        folder=folder,
        name=f"cam-{camera.serial}",
        serial_number=camera.serial,
        product_number=camera.product_number,
        firmware_version=camera.version,
        scheme=Device.Scheme.HTTP,
        host=camera.host,
        port=camera.port,
        username=camera.username,
        password=camera.password,
        status=Device.Status.ONLINE,
    )


def _newer(version: str) -> str:
    major, minor, patch = version.split(".")[:3]
    return f"{major}.{minor}.{int(patch) + 900}"


@pytest.mark.django_db(transaction=True)
def test_filter_select_all_review_upgrade_and_watch_the_tasks_succeed_without_reloading(
    browser: Browser, live_server, cameras, redis_url, settings, tmp_path
):
    settings.FIRMWARE_STORAGE = ""
    settings.FIRMWARE_ROOT = tmp_path / "firmware"
    tenant = build_tenant("Harbor Security")
    p3265 = [c for c in cameras.cameras if c.product_number == "P3265-V"]
    target = _newer(max((c.version for c in p3265), key=version_key))
    add_test_release(target, "P3265-V")
    for camera in cameras.cameras:
        _device(camera, tenant.site_a)
    # A P3265-V already on the target: the filter leaves it out.
    DeviceFactory(folder=tenant.site_a, name="cam-current", firmware_version=target)

    context = browser.new_context()
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, tenant.admin.user.email)
    organization = tenant.organization.pk
    page.goto(f"{live_server.url}{reverse('devices:device-list', args=[organization])}")
    page.locator("#id_model").select_option("P3265-V")
    page.get_by_label("Upgrade recommended").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#device-count")).to_contain_text("2 devices")
    page.locator("#device-upgrade-all").click()

    expect(page.locator("h1")).to_have_text("Device software upgrade")
    expect(page.locator("#review-table tbody tr")).to_have_count(2)
    expect(page.locator("#review-table")).to_contain_text(target)
    page.get_by_role("button", name="Upgrade 2 devices").click()
    expect(page.locator(".alert").first).to_contain_text("Upgrading 2 devices.")
    assert UpgradeTask.objects.filter(state=TaskState.QUEUED).count() == 2

    # The job page draws its chart of devices by state with the vendored Chart.js.
    page.wait_for_function("() => window.Chart && Chart.getChart('job-chart') !== undefined")
    expect(page.locator("#job-counts")).to_contain_text("Queued")
    # Its breadcrumb leads to the Tasks view.
    page.locator(".breadcrumb").get_by_role("link", name="Tasks").click()
    expect(page.locator("h1")).to_have_text("Software upgrade tasks")
    expect(page.locator("#task-table tbody tr[data-state=queued]")).to_have_count(2)
    # From here on the page must not be loaded again: only htmx swaps its table.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("window.__notReloaded = true")

    worker = _worker(redis_url, settings.FIRMWARE_ROOT, tmp_path)
    try:
        expect(page.locator("#task-table tbody tr[data-state=succeeded]")).to_have_count(
            2, timeout=60_000
        )
    finally:
        worker.stop()
        log = worker.log_tail()
    assert navigations == [], log[-3000:]
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("#task-table")).to_contain_text("Succeeded")
    # Nothing is in progress any more: the table stops asking.
    expect(page.locator("#upgrade-tasks")).not_to_have_attribute("hx-trigger", "every 2s")
    upgraded = {camera.serial: cameras.state(camera.serial)["version"] for camera in p3265}
    assert set(upgraded.values()) == {target}, upgraded
    assert watcher.problems == []
    context.close()
