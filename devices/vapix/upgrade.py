"""Firmware upgrade of one device, as single steps: the API for the upgrade pipeline.

The steps follow VAPIX.md §15.2 and are safe to call again after a crash, because each one
reads the device's state first:

1. ``start_upgrade``: read systemready (boot ID, uptime) and fwmgr ``status``; skip the upload
   when the device already runs the target; upload the image (streamed) with
   ``autoCommit=never`` and ``autoRollback=<minutes>``.
2. ``check_back_online(previous_boot_id)``: one probe; ``BACK`` once the device answers ready
   with a new boot ID (or, without boot IDs, a smaller uptime or an observed outage).
3. ``verify_version``: basicdeviceinfo ``Version`` and fwmgr ``activeFirmwareVersion`` must
   both be the target.
4. ``commit``: commit unless already committed, then read ``status`` again to prove it.

The Celery pipeline calls the steps itself and re-checks with a countdown instead of sleeping.
``devices.vapix.testing.upgrade()`` runs them in order, blocking with sleeps for up to 15
minutes: for tests and tools only, never for production code (tests/test_architecture.py).
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from devices.vapix.client import VapixClient
from devices.vapix.errors import (
    ApiNotSupported,
    DeviceRefused,
    FirmwareErrorCode,
    Timeout,
    UnexpectedResponse,
    Unreachable,
    VapixError,
)
from devices.vapix.models import FirmwareStatus, compare_versions

IMAGE_NAME = re.compile(r"^(?P<product>[A-Za-z0-9-]+?)_(?P<version>\d+(?:_\d+){1,3})\.bin$")


class Stage(enum.StrEnum):
    """What the upgrade is doing, for progress reports."""

    CHECKING = "checking"
    UPLOADING = "uploading"
    WAITING_FOR_RESTART = "waiting_for_restart"
    VERIFYING = "verifying"
    HEALTH_CHECK = "health_check"
    COMMITTING = "committing"
    FINISHED = "finished"


class Outcome(enum.StrEnum):
    """How an upgrade ended; everything but ``SUCCEEDED``/``ALREADY_UP_TO_DATE`` is a failure."""

    SUCCEEDED = "succeeded"
    ALREADY_UP_TO_DATE = "already_up_to_date"
    REFUSED = "refused"  # the device (or our file-name check) refused the image
    BLOCKED = "blocked"  # an uncommitted image of another version is active (would be 412)
    NEVER_RETURNED = "never_returned"  # no restart / not back and ready within the limit
    ROLLED_BACK = "rolled_back"  # came back on the previous version
    UNEXPECTED_VERSION = "unexpected_version"  # came back on a third version
    OTHER_DEVICE = "other_device"  # what came back reports another serial number
    UNHEALTHY = "unhealthy"  # runs the target but failed the health check: rolled back
    COMMIT_FAILED = "commit_failed"  # runs the target, but the commit did not stick
    FAILED = "failed"  # the device could not be read before the upload or after the restart


@dataclass(frozen=True)
class Progress:
    """One progress report: a stage, a sentence, and upload bytes while uploading."""

    stage: Stage
    message: str
    bytes_sent: int = 0
    bytes_total: int = 0


ProgressHandler = Callable[[Progress], None]


@dataclass(frozen=True)
class UpgradeStarted:
    """What ``start_upgrade`` did; persist it to resume with the later steps."""

    previous_version: str
    previous_boot_id: str | None
    previous_uptime: int | None
    target_version: str
    serial_number: str = ""
    upload_skipped: bool = False  # device already runs the target (uncommitted or committed)
    answer_lost: bool = False  # the body went out but no answer came back


class Refusal(enum.StrEnum):
    """Why an image was refused, from the device's fwmgr error code."""

    WRONG_MODEL = "wrong_model"  # 421 (also what devices answer for junk bytes)
    CORRUPT = "corrupt"  # 415
    TOO_OLD = "too_old"  # 409: a downgrade needs a hard factory default
    REVOKED = "revoked"  # 410
    UNSIGNED = "unsigned"  # 422
    UNKNOWN_CERTIFICATE = "unknown_certificate"  # 424
    BUSY = "busy"  # 423
    OTHER = "other"


_REFUSALS: dict[int, Refusal] = {
    FirmwareErrorCode.IMAGE_DOES_NOT_MATCH: Refusal.WRONG_MODEL,
    FirmwareErrorCode.INVALID_IMAGE: Refusal.CORRUPT,
    FirmwareErrorCode.DOWNGRADE_NEEDS_FACTORY_DEFAULT: Refusal.TOO_OLD,
    FirmwareErrorCode.VERSION_REVOKED: Refusal.REVOKED,
    FirmwareErrorCode.SIGNATURE_MISSING: Refusal.UNSIGNED,
    FirmwareErrorCode.UNKNOWN_CERTIFICATE: Refusal.UNKNOWN_CERTIFICATE,
    FirmwareErrorCode.BUSY: Refusal.BUSY,
}


@dataclass(frozen=True)
class UpgradeResult:
    """The end of an upgrade: outcome, versions and the device's error code if refused."""

    outcome: Outcome
    target_version: str
    previous_version: str | None = None
    running_version: str | None = None
    error_code: int | str | None = None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome in (Outcome.SUCCEEDED, Outcome.ALREADY_UP_TO_DATE)

    @property
    def refusal(self) -> Refusal | None:
        """Return why the image was refused, for ``Outcome.REFUSED``."""
        if self.outcome != Outcome.REFUSED:
            return None
        if isinstance(self.error_code, int):
            return _REFUSALS.get(self.error_code, Refusal.OTHER)
        return Refusal.OTHER


class RestartState(enum.StrEnum):
    """One observation while waiting for a device to restart."""

    DOWN = "down"  # no connection or no answer
    SAME_BOOT = "same_boot"  # still the boot we started from
    BOOTING = "booting"  # a new boot, not ready yet (or error pages while booting)
    BACK = "back"  # a new boot, systemready says yes


@dataclass(frozen=True)
class RestartCheck:
    """One probe's observation, with the boot ID and uptime the device reported (if any)."""

    state: RestartState
    boot_id: str | None = None
    uptime: int | None = None


class VersionCheck(enum.StrEnum):
    """What the device runs compared with the upgrade's target and previous version."""

    TARGET = "target"
    PREVIOUS = "previous"
    OTHER = "other"
    OTHER_DEVICE = "other_device"


@dataclass(frozen=True)
class VersionReport:
    """The version check with the running version and the fwmgr status it came from."""

    check: VersionCheck
    running_version: str
    status: FirmwareStatus


def image_name_info(image_path: Path | str) -> tuple[str, str] | None:
    """Return ``(product, version)`` from an official file name like ``P3265-V_12_11_77.bin``."""
    match = IMAGE_NAME.match(Path(image_path).name)
    if match is None:
        return None
    return match.group("product"), match.group("version").replace("_", ".")


def start_upgrade(
    client: VapixClient,
    image_path: Path | str,
    target_version: str,
    *,
    auto_rollback_minutes: int = 30,
    on_upload_progress: Callable[[int, int], None] | None = None,
) -> UpgradeStarted:
    """Check the device, then upload the image unless it already runs ``target_version``.

    Raises ``DeviceRefused`` for a refused image (or 412 when an uncommitted image of another
    version is active, or 421 from ``api="client"`` when the official file name names another
    product), ``InvalidArgument`` for a missing file or bad arguments.
    ``Unreachable``/``Timeout`` during the upload are not raised: the device may have taken the
    image and rebooted before answering, so ``answer_lost`` is set and the version after the
    restart decides.
    """
    ready = client.system_ready()
    status = client.firmware_status()
    info = client.get_device_info()
    started = UpgradeStarted(
        previous_version=status.active_version,
        previous_boot_id=ready.boot_id,
        previous_uptime=ready.uptime,
        target_version=target_version,
        serial_number=info.serial_number,
    )
    if compare_versions(status.active_version, target_version) == 0:
        return replace(started, upload_skipped=True)
    if status.is_uncommitted:
        raise DeviceRefused(
            FirmwareErrorCode.NOT_COMMITTED,
            f"an uncommitted image ({status.active_version}) is active; commit or roll back first",
            api="firmwaremanagement",
        )
    named = image_name_info(image_path)
    if named is not None and named[0].upper() != info.product_number.upper():
        raise DeviceRefused(
            FirmwareErrorCode.IMAGE_DOES_NOT_MATCH,
            f"the file is for {named[0]}, the device is a {info.product_number} (checked locally)",
            api="client",
        )
    try:
        client.upgrade_firmware(
            image_path,
            auto_commit="never",
            auto_rollback=str(auto_rollback_minutes),
            on_progress=on_upload_progress,
        )
    except (Unreachable, Timeout):
        return replace(started, answer_lost=True)
    return started


def check_back_online(
    client: VapixClient,
    previous_boot_id: str | None,
    *,
    previous_uptime: int | None = None,
    previous_version: str | None = None,
    seen_down: bool = False,
) -> RestartCheck:
    """Probe once whether the device restarted and is ready (VAPIX.md §5.1).

    A new boot ID proves a restart; without boot IDs a smaller uptime does, and without both
    (10.12 and older) an outage seen by an earlier probe (``seen_down``) or, when
    ``previous_version`` is given, a changed running version (the outage fell between probes).
    """
    try:
        ready = client.system_ready()
    except (Unreachable, Timeout):
        return RestartCheck(RestartState.DOWN)
    except ApiNotSupported:
        # Firmware without systemready: an observed outage followed by an answer is all we get.
        return RestartCheck(RestartState.BACK if seen_down else RestartState.SAME_BOOT)
    except VapixError:
        # Error pages and refusals while the web server starts: up, but not ready.
        return RestartCheck(RestartState.BOOTING if seen_down else RestartState.SAME_BOOT)
    if ready.boot_id is not None and previous_boot_id is not None:
        restarted = ready.boot_id != previous_boot_id
    elif ready.uptime is not None and previous_uptime is not None:
        restarted = ready.uptime < previous_uptime or seen_down
    else:
        restarted = seen_down or (
            previous_version is not None
            and _running_version(client) not in (None, previous_version)
        )
    if not restarted:
        return RestartCheck(RestartState.SAME_BOOT, ready.boot_id, ready.uptime)
    if not ready.is_ready:
        return RestartCheck(RestartState.BOOTING, ready.boot_id, ready.uptime)
    return RestartCheck(RestartState.BACK, ready.boot_id, ready.uptime)


def _running_version(client: VapixClient) -> str | None:
    try:
        return client.firmware_status().active_version
    except VapixError:
        return None


def verify_version(
    client: VapixClient, target_version: str, previous_version: str, *, serial_number: str = ""
) -> VersionReport:
    """Compare the running version (basicdeviceinfo and fwmgr status) with the target.

    With ``serial_number``, a device that reports another serial (swapped hardware at the
    address) is ``OTHER_DEVICE`` whatever it runs.
    """
    status = client.firmware_status()
    running = status.active_version
    info = client.get_device_info()
    reported = info.version
    if serial_number and info.serial_number.upper() != serial_number.upper():
        check = VersionCheck.OTHER_DEVICE
    elif (
        compare_versions(running, target_version) == 0 and compare_versions(reported, running) == 0
    ):
        check = VersionCheck.TARGET
    elif compare_versions(running, previous_version) == 0:
        check = VersionCheck.PREVIOUS
    else:
        check = VersionCheck.OTHER
    return VersionReport(check=check, running_version=running, status=status)


def commit(
    client: VapixClient,
    *,
    attempts: int = 3,
    retry_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FirmwareStatus:
    """Commit the running image unless it is committed; return the status proving it.

    Idempotent. Raises ``UnexpectedResponse`` when the device still reports an uncommitted
    image (or a rollback timer) after ``attempts`` commits.
    """
    status = client.firmware_status()
    for attempt in range(attempts):
        if not status.is_uncommitted and status.time_to_rollback is None:
            return status
        try:
            client.commit_firmware()
        except (Unreachable, Timeout, DeviceRefused) as error:
            if attempt + 1 >= attempts or (isinstance(error, DeviceRefused) and not error.is_busy):
                raise
            sleep(retry_delay)
        status = client.firmware_status()
    if status.is_uncommitted or status.time_to_rollback is not None:
        raise UnexpectedResponse("the device still reports an uncommitted image after commit")
    return status


def snapshot_health_check(client: VapixClient) -> bool:
    """Return whether the device delivers a JPEG snapshot (a health gate before committing)."""
    return client.snapshot().startswith(b"\xff\xd8")
