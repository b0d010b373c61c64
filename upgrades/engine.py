"""The upgrade pipeline (DESIGN.md §6): the scheduler tick and the short steps of one task.

State lives in the database; Celery only carries "run this step of this task now". The tick
(`tick`, every UPGRADE_TICK seconds) opens windows, claims due tasks with
`select_for_update(skip_locked=True)` within the concurrency limits, and resumes steps whose
heartbeat went stale. Each step (`run_step`) does one short thing against the device and says
what to send next (`Handoff`); the Celery wrappers in `upgrades.tasks` send it once the
database has committed, so a message never names a state the database does not have.

Steps are safe to run twice, late, or after a crash:

- Fencing: every handoff carries a fresh `step_token`. A step first swaps the token it was sent
  with for one of its own (`_claim`); a duplicate message finds its token gone and does nothing.
  Every write of the step is conditional on its token, so a step the tick has given up on
  (stale heartbeat, a new token sent) cannot write any more (`LeaseLost`).
- Each step reads the device's real state first (`devices.vapix.upgrade`): a device found on
  the target with a new boot ID after a crash is verified, never uploaded to again; success is
  recorded only after the version check and the commit.
- Waiting for a restart is one probe per message with a short countdown; nothing sleeps.

Network I/O happens outside database transactions; the device is reached only through
`devices.connection.open_client`.
"""

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.errors import DomainError
from devices import health
from devices import services as device_services
from devices.connection import device_error, device_timeouts, open_client
from devices.models import Device
from devices.vapix import (
    ApiNotSupported,
    AuthFailed,
    DeviceRefused,
    InsufficientPrivilege,
    Timeout,
    Timeouts,
    Unreachable,
    VapixClient,
    VapixError,
)
from devices.vapix.errors import FirmwareErrorCode, UnexpectedResponse
from devices.vapix.models import compare_versions
from devices.vapix.upgrade import (
    RestartState,
    VersionCheck,
    check_back_online,
    commit,
    start_upgrade,
    verify_version,
)
from organizations import audit
from organizations.services.locks import lock_organization
from upgrades import storage
from upgrades.models import (
    ACTIVE_STATES,
    IN_FLIGHT_STATES,
    TaskState,
    UpgradeJob,
    UpgradeSchedule,
    UpgradeTask,
)
from upgrades.selectors import (
    EffectiveSchedule,
    effective_device_schedules,
    recommendations_for,
    zone,
)
from upgrades.services.jobs import StaleTask, add_tasks, transition, transition_many
from upgrades.windows import next_window, window_at

logger = logging.getLogger(__name__)

# The actor of what the scheduler does on its own (audit log, job "started by").
SCHEDULE_ACTOR = "software schedule"
# Past successful upgrades of a model that set its expected duration (the most recent ones).
DURATION_SAMPLE = 20
# Upgrades vary (network, load): a window must have this much more than the average left.
DURATION_MARGIN = 1.5


class LeaseLost(Exception):
    """A newer step took this task over (or it moved on); this step stops without writing."""


@dataclass(frozen=True)
class Handoff:
    """A step to send: run `state`'s step of the task with `token`, after `countdown` seconds."""

    task_id: uuid.UUID
    state: str
    token: uuid.UUID
    countdown: float = 0.0


# --- Settings as values -------------------------------------------------------------------


def upgrade_timeouts() -> Timeouts:
    """The client's timeouts for upgrades: the usual ones, and the upload budget of settings."""
    return replace(
        device_timeouts(),
        upload_minimum=settings.UPGRADE_UPLOAD_MINIMUM,
        upload_maximum=settings.UPGRADE_UPLOAD_MAXIMUM,
    )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _minutes(value: float) -> int:
    return max(1, round(value / 60))


# --- Fencing and handoffs -----------------------------------------------------------------


def _claim(task_id: uuid.UUID, token: uuid.UUID) -> UpgradeTask | None:
    """Take the task for this step: swap the message's token for our own, or None if gone."""
    own = uuid.uuid4()
    taken = UpgradeTask.objects.filter(
        pk=task_id, step_token=token, state__in=IN_FLIGHT_STATES
    ).update(step_token=own, heartbeat_at=timezone.now())
    if taken != 1:
        return None
    return UpgradeTask.objects.select_related("device", "device__folder", "release", "job").get(
        pk=task_id
    )


def _advance(
    task: UpgradeTask,
    to_state: str,
    *,
    reason: str = "",
    reason_code: str = "",
    changes: dict[str, Any] | None = None,
    countdown: float = 0.0,
) -> list[Handoff]:
    """Move the task on (fenced by its token) and hand its next step over, if it has one."""
    values = dict(changes or {})
    follow = to_state in IN_FLIGHT_STATES
    next_token = uuid.uuid4() if follow else None
    values["step_token"] = next_token
    values["heartbeat_at"] = timezone.now()
    try:
        transition(
            task,
            to_state,
            reason=reason,
            reason_code=reason_code,
            token=task.step_token,
            changes=values,
        )
    except StaleTask as error:
        raise LeaseLost from error
    if next_token is None:
        return []
    return [Handoff(task.pk, to_state, next_token, countdown)]


def _again(
    task: UpgradeTask, countdown: float, changes: dict[str, Any] | None = None
) -> list[Handoff]:
    """Run the same step again after `countdown` seconds (a re-check), with a new token."""
    token = uuid.uuid4()
    moved = UpgradeTask.objects.filter(
        pk=task.pk, state=task.state, step_token=task.step_token
    ).update(step_token=token, heartbeat_at=timezone.now(), **(changes or {}))
    if moved != 1:
        raise LeaseLost
    return [Handoff(task.pk, task.state, token, countdown)]


def _fail(task: UpgradeTask, reason_code: str, reason: str, **changes: Any) -> list[Handoff]:
    return _advance(task, TaskState.FAILED, reason=reason, reason_code=reason_code, changes=changes)


@contextmanager
def _keepalive(task: UpgradeTask) -> Iterator[threading.Event]:
    """Keep the task's heartbeat fresh while a long device call blocks (the upload).

    Yields an event that is set when the task was taken over meanwhile (its token changed).
    """
    stop, lost = threading.Event(), threading.Event()
    interval = max(0.2, settings.UPGRADE_STALE_AFTER / 4)

    def beat() -> None:
        try:
            while not stop.wait(interval):
                alive = UpgradeTask.objects.filter(pk=task.pk, step_token=task.step_token).update(
                    heartbeat_at=timezone.now()
                )
                if not alive:
                    lost.set()
                    return
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"upgrade-keepalive-{task.pk}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()


class _ProgressWriter:
    """Write upload progress to the task, at most once a second (and at the end)."""

    def __init__(self, task: UpgradeTask, lost: threading.Event) -> None:
        self.task = task
        self.lost = lost
        self.sent = 0
        self.total = 0
        self._written_at = 0.0

    def __call__(self, sent: int, total: int) -> None:
        if self.lost.is_set():
            raise LeaseLost
        self.sent, self.total = sent, total
        now = timezone.now().timestamp()
        if sent < total and now - self._written_at < settings.UPGRADE_PROGRESS_INTERVAL:
            return
        self._written_at = now
        written = UpgradeTask.objects.filter(
            pk=self.task.pk, step_token=self.task.step_token
        ).update(progress_bytes=sent, total_bytes=total, heartbeat_at=timezone.now())
        if not written:
            raise LeaseLost

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.sent >= self.total


# --- Windows and expected durations -------------------------------------------------------


def expected_durations(product_numbers: Iterable[str]) -> dict[str, timedelta]:
    """Return how long an upgrade of each model is expected to take (one query).

    The average of the model's recent successful upgrades with a margin, else the setting
    UPGRADE_EXPECTED_DURATION.
    """
    products = set(product_numbers)
    default = _seconds(settings.UPGRADE_EXPECTED_DURATION)
    found = dict.fromkeys(products, default)
    if not products:
        return found
    since = timezone.now() - timedelta(days=90)
    recent = (
        UpgradeTask.objects.filter(
            state=TaskState.SUCCEEDED,
            device__product_number__in=products,
            finished_at__gte=since,
            started_at__isnull=False,
        )
        .values("device__product_number")
        .annotate(
            average=Avg(
                ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
            )
        )
    )
    for row in recent:
        if row["average"] is not None:
            found[row["device__product_number"]] = row["average"] * DURATION_MARGIN
    return found


def _local(moment: datetime, effective: EffectiveSchedule | None) -> str:
    zone_name = effective.time_zone if effective else "UTC"
    local = timezone.localtime(moment, zone(zone_name))
    return f"{local:%Y-%m-%d %H:%M} ({zone_name})"


def _wait_for_next_window(
    task: UpgradeTask,
    effective: EffectiveSchedule | None,
    after: datetime,
    why: str,
    reason_code: str,
    *,
    token: uuid.UUID | None = None,
) -> None:
    """Send the task back to wait for the next window after `after` (skipped if none)."""
    window = effective.window() if effective else None
    upcoming = next_window(window, after) if window else None
    if upcoming is None:
        transition(
            task,
            TaskState.SKIPPED,
            reason=_("%(why)s No maintenance window is left in the coming year.") % {"why": why},
            reason_code="no_window",
            token=token,
        )
        return
    start, end = upcoming
    transition(
        task,
        TaskState.WAITING_WINDOW,
        reason=_("%(why)s Waits for the window at %(start)s.")
        % {"why": why, "start": _local(start, effective)},
        reason_code=reason_code,
        token=token,
        changes={"not_before": start, "window_ends_at": end, "step_token": None},
    )


def _window_too_short(needed: timedelta) -> str:
    minutes = _minutes(needed.total_seconds())
    return ngettext(
        "Not enough of the window left (about %(minutes)s minute needed).",
        "Not enough of the window left (about %(minutes)s minutes needed).",
        minutes,
    ) % {"minutes": minutes}


def _not_reached(task: UpgradeTask, effective: EffectiveSchedule | None, now: datetime) -> str:
    since = task.unreachable_since or now
    return _("Not reached inside its window: offline from %(since)s to %(until)s.") % {
        "since": _local(since, effective),
        "until": _local(now, effective),
    }


# --- The tick -----------------------------------------------------------------------------


@dataclass
class TickReport:
    """What one tick did: steps to send and counts for logs and the benchmark."""

    handoffs: list[Handoff] = field(default_factory=list)
    resumed: int = 0
    opened: int = 0
    started: int = 0
    deferred: int = 0
    skipped_tick: bool = False

    def as_dict(self) -> dict[str, int]:
        return {
            "resumed": self.resumed,
            "opened": self.opened,
            "started": self.started,
            "deferred": self.deferred,
        }


def _tick_lock() -> bool:
    """Take the tick's lock for this transaction: one tick at a time keeps the limits exact."""
    if connection.vendor != "postgresql":
        return True  # SQLite (development) runs one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('camfleet.upgrades.tick'))")
        return bool(cursor.fetchone()[0])


def tick(now: datetime | None = None) -> TickReport:
    """Run one scheduler tick: resume stalled steps, open windows, start due tasks.

    Returns the steps to send (the caller sends them after this commits). A tick that finds
    another one running does nothing.
    """
    now = now or timezone.now()
    report = TickReport()
    with transaction.atomic():
        if not _tick_lock():
            report.skipped_tick = True
            return report
        _resume_stalled(now, report)
        _open_windows(now, report)
        _start_due(now, report)
    return report


def _resume_stalled(now: datetime, report: TickReport) -> None:
    """Hand the step of every in-flight task without a recent heartbeat over again.

    Its worker died, or its message was lost: the step reads the device and goes on from there.
    """
    stale_before = now - _seconds(settings.UPGRADE_STALE_AFTER)
    stalled = list(
        UpgradeTask.objects.select_for_update(skip_locked=True)
        .filter(state__in=IN_FLIGHT_STATES, heartbeat_at__lt=stale_before)
        .order_by("heartbeat_at")
        .values_list("pk", "state")[: settings.UPGRADE_TICK_BATCH]
    )
    for pk, state in stalled:
        token = uuid.uuid4()
        UpgradeTask.objects.filter(pk=pk, state=state).update(step_token=token, heartbeat_at=now)
        report.handoffs.append(Handoff(pk, state, token))
        logger.warning("Upgrade task %s: step %s stalled, resumed", pk, state)
    report.resumed = len(stalled)


def _open_windows(now: datetime, report: TickReport) -> None:
    """Queue the waiting tasks whose time has come (in bulk: a window may open for thousands)."""
    due = UpgradeTask.objects.select_for_update(skip_locked=True).filter(
        state=TaskState.WAITING_WINDOW, not_before__lte=now
    )
    ids = list(
        due.order_by("not_before").values_list("pk", flat=True)[: settings.UPGRADE_TICK_BATCH * 10]
    )
    opened = transition_many(
        UpgradeTask.objects.filter(pk__in=ids),
        TaskState.WAITING_WINDOW,
        TaskState.QUEUED,
        reason=_("Its time has come; waiting for a free slot."),
        reason_code="due",
    )
    report.opened = len(opened)


def _in_flight_counts() -> tuple[Counter, Counter]:
    in_flight = UpgradeTask.objects.filter(state__in=IN_FLIGHT_STATES).order_by()
    per_organization = Counter(
        dict(in_flight.values_list("organization_id").annotate(n=Count("pk")))
    )
    per_folder = Counter(dict(in_flight.values_list("device__folder_id").annotate(n=Count("pk"))))
    return per_organization, per_folder


def _start_due(now: datetime, report: TickReport) -> None:
    """Start the queued tasks that are due, within the limits, windows and job status."""
    per_organization, per_folder = _in_flight_counts()
    organization_limit = settings.UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION
    folder_limit = settings.UPGRADE_MAX_CONCURRENT_PER_FOLDER
    # Tasks of a full organization or folder are not even read: the batch goes to the others.
    full_organizations = [o for o, n in per_organization.items() if n >= organization_limit]
    full_folders = [f for f, n in per_folder.items() if n >= folder_limit]
    candidates = list(
        UpgradeTask.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("device", "device__folder", "job")
        .filter(state=TaskState.QUEUED, not_before__lte=now, job__status=UpgradeJob.Status.RUNNING)
        .exclude(organization_id__in=full_organizations)
        .exclude(device__folder_id__in=full_folders)
        .order_by("not_before", "created_at")[: settings.UPGRADE_TICK_BATCH]
    )
    scheduled = [t.device for t in candidates if t.job.origin == UpgradeJob.Origin.SCHEDULE]
    schedules = effective_device_schedules(scheduled) if scheduled else {}
    durations = expected_durations(
        t.device.product_number
        for t in candidates
        if t.window_ends_at or t.job.origin == UpgradeJob.Origin.SCHEDULE
    )
    for task in candidates:
        if (
            per_organization[task.organization_id] >= organization_limit
            or per_folder[task.device.folder_id] >= folder_limit
        ):
            continue
        effective = schedules.get(task.device_id)
        if not _window_allows(task, effective, durations, now):
            report.deferred += 1
            continue
        token = uuid.uuid4()
        transition(
            task,
            TaskState.PREFLIGHT,
            reason=_("Started."),
            reason_code="started",
            changes={"step_token": token, "heartbeat_at": now},
        )
        per_organization[task.organization_id] += 1
        per_folder[task.device.folder_id] += 1
        report.handoffs.append(Handoff(task.pk, TaskState.PREFLIGHT, token))
        report.started += 1


def _fail_not_reached(
    task: UpgradeTask, effective: EffectiveSchedule | None, now: datetime
) -> None:
    transition(
        task,
        TaskState.FAILED,
        reason=_not_reached(task, effective, now),
        reason_code="not_reached_in_window",
    )


def _window_allows(
    task: UpgradeTask,
    effective: EffectiveSchedule | None,
    durations: dict[str, timedelta],
    now: datetime,
) -> bool:
    """Tell whether a queued task may start now; if not, move it to where it belongs.

    Schedule tasks follow the device's schedule as it is now (it may have changed since the
    task was made): none any more → skipped; outside a window → waits for the next one. A task
    that cannot finish in what is left of its window is not started.
    """
    stored_end = task.window_ends_at
    if task.job.origin == UpgradeJob.Origin.SCHEDULE and effective is not None:
        if effective.mode == UpgradeSchedule.Mode.NONE:
            transition(
                task,
                TaskState.SKIPPED,
                reason=_("The device's schedule no longer upgrades it automatically."),
                reason_code="schedule_removed",
            )
            return False
        window = effective.window()
        if window is not None:
            current = window_at(window, now)
            if current is None:
                if task.unreachable_since is not None:
                    _fail_not_reached(task, effective, now)
                else:
                    _wait_for_next_window(
                        task, effective, now, _("Outside its maintenance window."), "outside_window"
                    )
                return False
            task.window_ends_at = current[1]
        else:
            task.window_ends_at = None
    needed = durations.get(task.device.product_number, _seconds(settings.UPGRADE_EXPECTED_DURATION))
    if task.window_ends_at is None or now + needed <= task.window_ends_at:
        if task.window_ends_at != stored_end:
            UpgradeTask.objects.filter(pk=task.pk).update(window_ends_at=task.window_ends_at)
        return True
    if task.unreachable_since is not None:
        _fail_not_reached(task, effective, now)
        return False
    _wait_for_next_window(
        task,
        effective,
        task.window_ends_at,
        _window_too_short(needed),
        "window_too_short",
    )
    return False


# --- Steps --------------------------------------------------------------------------------


def run_step(task_id: uuid.UUID, token: uuid.UUID) -> list[Handoff]:
    """Run the current step of a task if `token` is still its own; return what to send next."""
    task = _claim(task_id, token)
    if task is None:
        return []
    step = _STEPS[task.state]
    try:
        return step(task)
    except (LeaseLost, StaleTask):
        logger.info("Upgrade task %s: step %s was taken over; stopped", task.pk, task.state)
        return []


def _client(task: UpgradeTask) -> VapixClient:
    return open_client(task.device, timeouts=upgrade_timeouts())


def _device_failure(task: UpgradeTask, error: Exception) -> list[Handoff]:
    """Fail the task for what opening or talking to the device raised, in an operator's words."""
    if isinstance(error, InsufficientPrivilege):
        return _fail(
            task,
            "insufficient_privilege",
            _("The device's stored account is not an administrator; upgrades need one."),
        )
    if isinstance(error, AuthFailed):
        return _fail(
            task,
            "auth_failed",
            _("Wrong credentials: the device refused the stored user name and password."),
        )
    if isinstance(error, ApiNotSupported):
        return _fail(
            task,
            "unsupported",
            _("The device's firmware has no firmware management API; upgrade it by hand."),
        )
    if isinstance(error, DomainError):
        return _fail(task, error.code, str(error.message))
    if isinstance(error, VapixError):
        return _fail(task, "device_error", str(device_error(error).message))
    raise error


def _preflight(task: UpgradeTask) -> list[Handoff]:
    """Reachable, credentials, the model matches the image, enough window left; then upload."""
    now = timezone.now()
    if task.window_ends_at is not None:
        needed = expected_durations([task.device.product_number])[task.device.product_number]
        if now + needed > task.window_ends_at:
            effective = effective_device_schedules([task.device])[task.device_id]
            if task.unreachable_since is not None:
                return _fail(task, "not_reached_in_window", _not_reached(task, effective, now))
            _wait_for_next_window(
                task,
                effective,
                task.window_ends_at,
                _window_too_short(needed),
                "window_too_short",
                token=task.step_token,
            )
            return []
    try:
        client = _client(task)
        ready = client.system_ready()
        info = client.get_device_info()
        status = client.firmware_status()
    except (Unreachable, Timeout):
        return _unreachable(task, now)
    except (VapixError, DomainError) as error:
        return _device_failure(task, error)
    device = task.device
    if info.serial_number.upper() != device.serial_number.upper():
        return _fail(
            task,
            "other_device",
            _("Another device answers at this address (serial %(found)s, not %(expected)s).")
            % {"found": info.serial_number, "expected": device.serial_number},
        )
    products = {p.upper() for p in task.release.product_numbers}
    if info.product_number.upper() not in products:
        return _fail(
            task,
            "wrong_model",
            _("The image is for %(products)s; the device is a %(model)s.")
            % {"products": ", ".join(sorted(products)), "model": info.product_number},
        )
    running = status.active_version
    order = compare_versions(running, task.to_version)
    if order == 0 and status.is_uncommitted:
        # Runs the target, not committed yet (an earlier attempt): check it, then commit.
        return _advance(
            task,
            TaskState.UPLOADING,
            reason=_("The device already runs %(version)s, not yet committed.")
            % {"version": running},
            reason_code="already_uploaded",
        )
    if order >= 0:
        return _advance(
            task,
            TaskState.SKIPPED,
            reason=_("Already runs %(running)s.") % {"running": running},
            reason_code="up_to_date",
        )
    if status.is_uncommitted:
        return _fail(
            task,
            "blocked",
            _(
                "An uncommitted image (%(version)s) is active on the device; commit or roll it "
                "back first."
            )
            % {"version": running},
        )
    return _advance(
        task,
        TaskState.UPLOADING,
        reason=_("Uploading AXIS OS %(version)s.") % {"version": task.to_version},
        reason_code="uploading",
        changes={
            "from_version": running,
            "boot_id_before": ready.boot_id or "",
            "uptime_before": ready.uptime,
            "unreachable_since": None,
            "progress_bytes": 0,
        },
    )


def _unreachable(task: UpgradeTask, now: datetime) -> list[Handoff]:
    """An offline device is tried again inside its window; it fails only when the window is
    over for it (it never fails the job's other devices)."""
    if task.window_ends_at is None:
        return _fail(
            task,
            "unreachable",
            _("The device could not be reached. Check its power and network, then retry."),
        )
    since = task.unreachable_since or now
    retry_at = now + _seconds(settings.UPGRADE_OFFLINE_RETRY)
    needed = expected_durations([task.device.product_number])[task.device.product_number]
    effective = effective_device_schedules([task.device])[task.device_id]
    if retry_at + needed > task.window_ends_at:
        task.unreachable_since = since
        return _fail(
            task,
            "not_reached_in_window",
            _not_reached(task, effective, now),
            unreachable_since=since,
        )
    return _advance(
        task,
        TaskState.WAITING_WINDOW,
        reason=_("Offline since %(since)s; trying again at %(retry)s.")
        % {"since": _local(since, effective), "retry": _local(retry_at, effective)},
        reason_code="offline_retry",
        changes={"not_before": retry_at, "unreachable_since": since},
    )


def _upload(task: UpgradeTask) -> list[Handoff]:
    """Upload the image (reading the device first: after a crash it may be done already)."""
    try:
        client = _client(task)
    except DomainError as error:
        return _device_failure(task, error)
    if not storage.firmware_storage().exists(task.release.image_name):
        return _fail(
            task,
            "image_missing",
            _("The image of AXIS OS %(version)s is missing from the firmware storage.")
            % {"version": task.to_version},
        )
    with _keepalive(task) as lost, storage.local_image(task.release.image_name) as image:
        progress = _ProgressWriter(task, lost)
        try:
            started = start_upgrade(
                client,
                image,
                task.to_version,
                auto_rollback_minutes=settings.UPGRADE_AUTO_ROLLBACK_MINUTES,
                on_upload_progress=progress,
            )
        except DeviceRefused as error:
            if error.is_busy:
                # Another firmware operation runs on the device (ours, from before a crash).
                return _again(task, settings.UPGRADE_RECHECK_INTERVAL)
            if error.code == FirmwareErrorCode.NOT_COMMITTED:
                return _fail(
                    task,
                    "blocked",
                    _(
                        "An uncommitted image is active on the device; commit or roll it back "
                        "first."
                    ),
                )
            return _fail(
                task,
                "refused",
                _("The device refused the image: %(meaning)s. It still runs %(version)s.")
                % {"meaning": error.meaning, "version": task.from_version},
            )
        except (Unreachable, Timeout):
            # Down before the upload: after a crash it may be restarting into our image.
            return _advance(
                task,
                TaskState.INSTALLING,
                reason=_("The device does not answer; waiting for it to restart."),
                reason_code="restarting",
                changes={"answer_lost": True},
            )
        except (VapixError, DomainError) as error:
            return _device_failure(task, error)
        if lost.is_set():
            raise LeaseLost
    if started.answer_lost and not progress.complete:
        percent = progress.sent * 100 // progress.total if progress.total else 0
        return _fail(
            task,
            "upload_interrupted",
            _(
                "The upload stopped at %(percent)s%%: the connection broke or the device stopped "
                "taking data. The device did not get the image and still runs %(version)s."
            )
            % {"percent": percent, "version": task.from_version},
        )
    return _advance(
        task,
        TaskState.INSTALLING,
        reason=_("Installing; waiting for the device to restart."),
        reason_code="installing",
        changes={"answer_lost": started.answer_lost or task.answer_lost},
    )


def _overdue(task: UpgradeTask) -> bool:
    return timezone.now() - task.state_changed_at > _seconds(settings.UPGRADE_RESTART_TIMEOUT)


def _idle_on(client: VapixClient, version: str) -> bool:
    """Tell whether the device runs `version`, committed, with no firmware operation under way."""
    try:
        status = client.firmware_status()
    except VapixError:
        return False  # busy (423), restarting, or unreadable: not proven idle
    return compare_versions(status.active_version, version) == 0 and not status.is_uncommitted


def _check_restart(task: UpgradeTask) -> list[Handoff]:
    """One probe: has the device restarted (new boot ID) and is it ready?"""
    try:
        client = _client(task)
    except DomainError as error:
        return _device_failure(task, error)
    check = check_back_online(
        client,
        task.boot_id_before or None,
        previous_uptime=task.uptime_before,
        previous_version=task.from_version or None,
        seen_down=task.seen_down,
    )
    if check.state == RestartState.BACK:
        return _advance(
            task,
            TaskState.VERIFYING,
            reason=_("The device is back; checking its version."),
            reason_code="restarted",
        )
    seen_down = task.seen_down or check.state == RestartState.DOWN
    waited = timezone.now() - task.state_changed_at
    if (
        task.answer_lost
        and check.state == RestartState.SAME_BOOT
        and not seen_down
        and waited >= _seconds(settings.UPGRADE_IDLE_GRACE)
        and _idle_on(client, task.from_version)
    ):
        return _fail(
            task,
            "upload_interrupted",
            _("The upload broke off before the device took the image; it still runs %(version)s.")
            % {"version": task.from_version},
        )
    if waited > _seconds(settings.UPGRADE_RESTART_TIMEOUT):
        minutes = _minutes(settings.UPGRADE_RESTART_TIMEOUT)
        if check.state == RestartState.SAME_BOOT:
            reason = ngettext(
                "The device did not restart within %(minutes)s minute of the upload.",
                "The device did not restart within %(minutes)s minutes of the upload.",
                minutes,
            )
        elif check.state == RestartState.BOOTING:
            reason = ngettext(
                "The device restarted but was not ready within %(minutes)s minute.",
                "The device restarted but was not ready within %(minutes)s minutes.",
                minutes,
            )
        else:
            reason = ngettext(
                "Device did not come back within %(minutes)s minute.",
                "Device did not come back within %(minutes)s minutes.",
                minutes,
            )
        return _fail(task, "never_returned", reason % {"minutes": minutes})
    return _again(task, settings.UPGRADE_RECHECK_INTERVAL, {"seen_down": seen_down})


def _verify(task: UpgradeTask) -> list[Handoff]:
    """The device must run the target (basic device info and fwmgr status), as itself."""
    try:
        client = _client(task)
        report = verify_version(
            client, task.to_version, task.from_version, serial_number=task.device.serial_number
        )
    except (Unreachable, Timeout, UnexpectedResponse):
        if _overdue(task):
            return _fail(
                task,
                "never_returned",
                _("The device stopped answering while its version was checked."),
            )
        return _again(task, settings.UPGRADE_RECHECK_INTERVAL)
    except (VapixError, DomainError) as error:
        return _device_failure(task, error)
    if report.check == VersionCheck.TARGET:
        return _advance(
            task,
            TaskState.COMMITTING,
            reason=_("Runs %(version)s after a restart; committing.")
            % {"version": task.to_version},
            reason_code="verified",
        )
    if report.check == VersionCheck.PREVIOUS:
        return _advance(
            task,
            TaskState.ROLLED_BACK,
            reason=_("Device came back on %(version)s; it rolled back by itself.")
            % {"version": report.running_version},
            reason_code="rolled_back",
        )
    if report.check == VersionCheck.OTHER_DEVICE:
        return _fail(
            task,
            "other_device",
            _(
                "After the restart the device reports another serial number: a different "
                "device answers at this address. Check the device before trusting it."
            ),
        )
    return _fail(
        task,
        "unexpected_version",
        _("Device came back on %(running)s, neither %(from)s nor %(to)s.")
        % {"running": report.running_version, "from": task.from_version, "to": task.to_version},
    )


def _commit(task: UpgradeTask) -> list[Handoff]:
    """Commit the verified image (stops the device's rollback timer), then prove it."""
    try:
        client = _client(task)
        status = commit(client, attempts=1)
    except (Unreachable, Timeout, UnexpectedResponse, DeviceRefused) as error:
        if _overdue(task) or (isinstance(error, DeviceRefused) and not error.is_busy):
            return _fail(
                task,
                "commit_failed",
                _(
                    "The device runs %(version)s but did not confirm the commit; it returns to "
                    "%(previous)s by itself within %(minutes)s minutes."
                )
                % {
                    "version": task.to_version,
                    "previous": task.from_version,
                    "minutes": settings.UPGRADE_AUTO_ROLLBACK_MINUTES,
                },
            )
        return _again(task, settings.UPGRADE_RECHECK_INTERVAL)
    except (VapixError, DomainError) as error:
        return _device_failure(task, error)
    if compare_versions(status.active_version, task.to_version) != 0:
        return _advance(
            task,
            TaskState.ROLLED_BACK,
            reason=_("Device came back on %(version)s; it rolled back by itself.")
            % {"version": status.active_version},
            reason_code="rolled_back",
        )
    # Stored before the success is, so the device list never shows an upgraded device on its old
    # version; a crash in between resumes this step, which commits again (a no-op) and succeeds.
    _record_version(client, task.device, status.active_version)
    return _advance(
        task,
        TaskState.SUCCEEDED,
        reason=_("Upgraded to %(version)s: restarted, verified and committed.")
        % {"version": task.to_version},
        reason_code="succeeded",
        changes={"progress_bytes": F("total_bytes")},
    )


def _record_version(client: VapixClient, device: Device, running: str) -> None:
    """Store what the device now reports, as a health poll would (audited before → after).

    When it does not answer now, the version it just proved to run is stored alone.
    """
    try:
        identity = health.identity_from(client.get_device_info())
    except VapixError:
        identity = device_services.DeviceIdentity(serial_number="", firmware_version=running)
    device_services.record_device_identity(device_id=device.pk, identity=identity)


_STEPS = {
    TaskState.PREFLIGHT: _preflight,
    TaskState.UPLOADING: _upload,
    TaskState.INSTALLING: _check_restart,
    TaskState.VERIFYING: _verify,
    TaskState.COMMITTING: _commit,
}


# --- Schedules: automatic upgrades --------------------------------------------------------


def plan_automatic_upgrades(now: datetime | None = None) -> list[UpgradeJob]:
    """Give every device whose schedule upgrades it automatically a task for its recommendation.

    "As soon as available": queued at once; "maintenance window": waiting for the window open
    now or the next one. One schedule job per organization and run. A device gets at most one
    automatic task per release: a failed one is retried by an admin, not every sweep.
    """
    now = now or timezone.now()
    organization_ids = (
        UpgradeSchedule.objects.exclude(mode=UpgradeSchedule.Mode.NONE)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    jobs = []
    for organization_id in list(organization_ids):
        with transaction.atomic():
            job = _plan_organization(organization_id, now)
        if job is not None:
            jobs.append(job)
    return jobs


def _plan_organization(organization_id: uuid.UUID, now: datetime) -> UpgradeJob | None:
    organization = lock_organization(organization_id)
    if organization.is_archived:
        return None
    devices = list(Device.objects.filter(organization_id=organization_id).select_related("folder"))
    schedules = effective_device_schedules(devices)
    automatic = [
        d
        for d in devices
        if schedules[d.pk].mode
        in (UpgradeSchedule.Mode.AS_SOON_AS_AVAILABLE, UpgradeSchedule.Mode.WINDOW)
    ]
    recommended = recommendations_for(automatic)
    if not recommended:
        return None
    tasks = UpgradeTask.objects.filter(device_id__in=list(recommended))
    busy = set(tasks.filter(state__in=ACTIVE_STATES).values_list("device_id", flat=True))
    tried = set(tasks.values_list("device_id", "release_id"))
    job = UpgradeJob(
        organization=organization,
        created_by_label=SCHEDULE_ACTOR,
        created_at=now,
        origin=UpgradeJob.Origin.SCHEDULE,
    )
    new_tasks = []
    for device in automatic:
        recommendation = recommended.get(device.pk)
        if recommendation is None or device.pk in busy:
            continue
        release = recommendation.release
        if (device.pk, release.pk) in tried:
            continue
        effective = schedules[device.pk]
        fields: dict[str, Any] = {"state": TaskState.QUEUED, "not_before": now}
        window = effective.window()
        if window is not None:
            upcoming = window_at(window, now) or next_window(window, now)
            if upcoming is None:
                continue
            fields = {
                "state": TaskState.WAITING_WINDOW,
                "not_before": upcoming[0],
                "window_ends_at": upcoming[1],
            }
        new_tasks.append(
            UpgradeTask(
                job=job,
                organization=organization,
                device=device,
                release=release,
                from_version=device.firmware_version,
                to_version=release.version,
                total_bytes=release.image_size,
                created_at=now,
                state_changed_at=now,
                **fields,
            )
        )
    if not new_tasks:
        return None
    job.save()
    add_tasks(new_tasks, _("Planned by the device's software schedule."), "scheduled")
    audit.record(
        SCHEDULE_ACTOR,
        organization,
        "upgrade.job_create",
        job,
        {"release": None, "devices": len(new_tasks), "skipped": 0},
    )
    return job
