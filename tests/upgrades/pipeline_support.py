"""Helpers of the pipeline tests: devices that are simulated cameras, steps run in place."""

import time

from devices.models import Device
from tests.devices.factories import DeviceFactory
from upgrades import engine
from upgrades.models import FINAL_STATES, UpgradeTask


def device_for(camera, folder, **overrides) -> Device:
    """A stored device that is the simulated camera (as onboarding would have stored it)."""
    values = {
        "folder": folder,
        "name": f"cam-{camera.serial}",
        "serial_number": camera.serial,
        "product_number": camera.product_number,
        "firmware_version": camera.version,
        "scheme": Device.Scheme.HTTP,
        "host": camera.host,
        "port": camera.port,
        "username": camera.username,
        "password": camera.password,
        "status": Device.Status.ONLINE,
        **overrides,
    }
    return DeviceFactory(**values)


def newer(version: str) -> str:
    """A version on the same track, newer than `version` (12.11.79 → 12.11.979)."""
    major, minor, patch = version.split(".")[:3]
    return f"{major}.{minor}.{int(patch) + 900}"


def run_steps(handoffs, *, timeout: float = 30.0, max_countdown: float = 0.05) -> int:
    """Run handed-over steps in this process, in order, as a worker would; return how many.

    Countdowns (re-checks of a restarting device) are shortened to at most `max_countdown`.
    """
    queue = list(handoffs)
    deadline = time.monotonic() + timeout
    ran = 0
    while queue:
        assert time.monotonic() < deadline, "steps did not finish in time"
        handoff = queue.pop(0)
        time.sleep(min(handoff.countdown, max_countdown))
        queue.extend(engine.run_step(handoff.task_id, handoff.token))
        ran += 1
    return ran


def run_to_end(task: UpgradeTask, *, timeout: float = 30.0) -> UpgradeTask:
    """Tick and run steps until the task is final (or stops moving); return it reloaded."""
    deadline = time.monotonic() + timeout
    while True:
        run_steps(engine.tick().handoffs, timeout=timeout)
        task.refresh_from_db()
        if task.state in FINAL_STATES or time.monotonic() > deadline:
            return task
        time.sleep(0.05)
