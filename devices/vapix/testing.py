"""Blocking helpers for tests and tools: never import this module from production code.

``upgrade()`` runs the steps of ``devices.vapix.upgrade`` in order and sleeps between probes,
blocking a thread for up to ``restart_limit`` s (15 minutes by default); ``wait_for_restart()``
polls with sleeps. A worker must not wait like that: the upgrade pipeline calls the steps
itself and re-checks with a countdown. tests/test_architecture.py keeps this module out of the
apps; tests and bench may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devices.vapix.client import VapixClient
from devices.vapix.errors import DeviceRefused, FirmwareErrorCode, InvalidArgument, VapixError
from devices.vapix.upgrade import (
    Outcome,
    Progress,
    ProgressHandler,
    RestartCheck,
    RestartState,
    Stage,
    UpgradeResult,
    UpgradeStarted,
    VersionCheck,
    check_back_online,
    commit,
    image_name_info,
    start_upgrade,
    verify_version,
)


@dataclass
class _Reporter:
    handler: ProgressHandler | None
    stage: Stage = Stage.CHECKING

    def __call__(self, stage: Stage, message: str, sent: int = 0, total: int = 0) -> None:
        self.stage = stage
        if self.handler is not None:
            self.handler(Progress(stage, message, sent, total))


def wait_for_restart(
    client: VapixClient,
    started: UpgradeStarted,
    *,
    limit: float,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RestartCheck:
    """Poll ``check_back_online`` until the device is back or ``limit`` s passed.

    Returns the last observation: ``BACK`` on success; otherwise ``SAME_BOOT`` means the device
    never restarted, ``DOWN``/``BOOTING`` that it did not come back in time.
    """
    deadline = clock() + limit
    seen_down = False
    while True:
        check = check_back_online(
            client,
            started.previous_boot_id,
            previous_uptime=started.previous_uptime,
            previous_version=started.previous_version or None,
            seen_down=seen_down,
        )
        if check.state == RestartState.BACK or clock() + poll_interval > deadline:
            return check
        seen_down = seen_down or check.state != RestartState.SAME_BOOT
        sleep(poll_interval)


def upgrade(
    client: VapixClient,
    image_path: Path | str,
    target_version: str | None = None,
    *,
    on_progress: ProgressHandler | None = None,
    restart_limit: float = 900.0,
    poll_interval: float = 2.0,
    auto_rollback_minutes: int = 30,
    commit_attempts: int = 3,
    commit_retry_delay: float = 10.0,
    health_check: Callable[[VapixClient], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> UpgradeResult:
    """Upgrade one device to ``target_version`` from ``image_path`` and commit it.

    ``target_version`` defaults to the version in an official file name
    (``P3265-V_12_11_86.bin``); other names need it. Blocks until the end (up to
    ``restart_limit`` s waiting for the restart). Never raises for device behaviour: every
    ending is an ``UpgradeResult`` with an ``Outcome``; only programming errors (a missing
    file, bad arguments) raise. ``health_check`` (e.g. ``snapshot_health_check``) runs on the
    new image before the commit; when it fails, the device is rolled back instead of committed
    (VAPIX.md §15.2 step 10).
    """
    if target_version is None:
        named = image_name_info(image_path)
        if named is None:
            raise InvalidArgument(
                "the image has no official file name (<ProdNbr>_<x>_<y>_<z>.bin): "
                "give target_version"
            )
        target_version = named[1]
    report = _Reporter(on_progress)
    report(Stage.CHECKING, "Reading the device's firmware state")

    def upload_progress(sent: int, total: int) -> None:
        report(Stage.UPLOADING, "Uploading the image", sent, total)

    previous: str | None = None
    try:
        started = start_upgrade(
            client,
            image_path,
            target_version,
            auto_rollback_minutes=auto_rollback_minutes,
            on_upload_progress=upload_progress,
        )
    except DeviceRefused as error:
        blocked = error.code == FirmwareErrorCode.NOT_COMMITTED
        outcome = Outcome.BLOCKED if blocked else Outcome.REFUSED
        return _finish(report, outcome, target_version, None, None, error.code, error.meaning)
    except InvalidArgument:
        raise  # our mistake (no such file, bad arguments), not the device's behaviour
    except VapixError as error:
        return _finish(report, Outcome.FAILED, target_version, None, None, None, error.message)
    previous = started.previous_version

    if started.upload_skipped:
        try:
            uncommitted = client.firmware_status().is_uncommitted
        except VapixError as error:
            return _finish(
                report, Outcome.FAILED, target_version, previous, None, None, error.message
            )
        if not uncommitted:
            return _finish(
                report,
                Outcome.ALREADY_UP_TO_DATE,
                target_version,
                previous,
                previous,
                None,
                "The device already runs the target version",
            )
    else:
        note = " (the upload answer was lost)" if started.answer_lost else ""
        report(Stage.WAITING_FOR_RESTART, f"Waiting for the device to restart{note}")
        back = wait_for_restart(
            client,
            started,
            limit=restart_limit,
            poll_interval=poll_interval,
            sleep=sleep,
            clock=clock,
        )
        if back.state != RestartState.BACK:
            if back.state == RestartState.SAME_BOOT and started.answer_lost:
                # The connection broke during the upload and the device never restarted: it
                # did not take the image.
                return _finish(
                    report,
                    Outcome.FAILED,
                    target_version,
                    previous,
                    previous,
                    None,
                    f"The upload was cut off; the device kept running {previous}",
                )
            return _finish(
                report,
                Outcome.NEVER_RETURNED,
                target_version,
                previous,
                None,
                None,
                f"The device was not back and ready within {restart_limit:.0f} s",
            )

    report(Stage.VERIFYING, "Checking the running version")
    try:
        version = verify_version(
            client, target_version, previous, serial_number=started.serial_number
        )
    except VapixError as error:
        return _finish(
            report,
            Outcome.FAILED,
            target_version,
            previous,
            None,
            None,
            f"The device restarted but could not be read: {error.message}",
        )
    if version.check == VersionCheck.OTHER_DEVICE:
        return _finish(
            report,
            Outcome.OTHER_DEVICE,
            target_version,
            previous,
            version.running_version,
            None,
            "A device with another serial number answers at this address now",
        )
    if version.check == VersionCheck.PREVIOUS:
        return _finish(
            report,
            Outcome.ROLLED_BACK,
            target_version,
            previous,
            version.running_version,
            None,
            f"The device came back on {version.running_version}: the image was rolled back",
        )
    if version.check == VersionCheck.OTHER:
        return _finish(
            report,
            Outcome.UNEXPECTED_VERSION,
            target_version,
            previous,
            version.running_version,
            None,
            f"The device came back on {version.running_version}, expected {target_version}",
        )

    if health_check is not None:
        report(Stage.HEALTH_CHECK, "Checking the device works on the new image")
        try:
            healthy = health_check(client)
        except VapixError:
            healthy = False
        if not healthy:
            note = "rolling back"
            try:
                client.rollback_firmware()
            except VapixError as error:
                note = f"rollback failed too ({error.message}); the device's timer will roll back"
            return _finish(
                report,
                Outcome.UNHEALTHY,
                target_version,
                previous,
                version.running_version,
                None,
                f"The device runs {version.running_version} but failed the health check; {note}",
            )

    report(Stage.COMMITTING, "Committing the new image")
    try:
        commit(client, attempts=commit_attempts, retry_delay=commit_retry_delay, sleep=sleep)
    except VapixError as error:
        return _finish(
            report,
            Outcome.COMMIT_FAILED,
            target_version,
            previous,
            version.running_version,
            error.code if isinstance(error, DeviceRefused) else None,
            error.message,
        )
    return _finish(
        report,
        Outcome.SUCCEEDED,
        target_version,
        previous,
        version.running_version,
        None,
        f"The device runs {version.running_version}, committed",
    )


def _finish(
    report: _Reporter,
    outcome: Outcome,
    target_version: str,
    previous_version: str | None,
    running_version: str | None,
    error_code: int | str | None,
    message: str,
) -> UpgradeResult:
    report(Stage.FINISHED, message)
    return UpgradeResult(
        outcome=outcome,
        target_version=target_version,
        previous_version=previous_version,
        running_version=running_version,
        error_code=error_code,
        message=message,
    )
