"""Upgrade jobs: review a selection, create the job, pause, resume, cancel, retry; transitions.

A task's state changes only through `transition`, which refuses what DESIGN.md §6 does not
allow, changes the row only if it is still in the state the caller saw (a conditional UPDATE,
so two writers never both win), records the event, and — when the task reaches a final state —
settles its job in the same transaction: the job pauses itself past its failure threshold and
finishes when every task is final.

Lock order (no deadlocks): the organization row (member actions take it first, as every write
service does), then task rows, then the job row — the order of a step whose task ends (its
task row, then `settle_job` takes the job row); the tick locks tasks with skip_locked.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import Conflict, Invalid, NotFound
from devices.models import OUTAGE_STATUSES, Device
from organizations import access, audit
from organizations.models import Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization
from upgrades.models import (
    ACTIVE_STATES,
    FAILURE_STATES,
    FINAL_STATES,
    IN_FLIGHT_STATES,
    PENDING_STATES,
    FirmwareRelease,
    TaskState,
    UpgradeJob,
    UpgradeTask,
    UpgradeTaskEvent,
)
from upgrades.selectors import load_catalog, recommendations_for
from upgrades.versions import is_version, version_key

JOB_EVENT_TYPES = {
    "upgrade.job_create": gettext_lazy("Software upgrade started"),
    "upgrade.job_pause": gettext_lazy("Software upgrade paused"),
    "upgrade.job_resume": gettext_lazy("Software upgrade resumed"),
    "upgrade.job_cancel": gettext_lazy("Software upgrade cancelled"),
    "upgrade.task_retry": gettext_lazy("Device software upgrade retried"),
}

# Who paused a job that paused itself, in its audit event.
AUTOMATIC_PAUSE_ACTOR = "failure threshold"

# The most devices one job takes (a whole large fleet; the review lists each).
MAX_DEVICES_PER_JOB = 5000

# Why a device is left out of a job (stable codes for the API, words for people).
UP_TO_DATE = "up_to_date"
NO_RELEASE_FOR_MODEL = "no_release_for_model"
RELEASE_NOT_FOR_MODEL = "release_not_for_model"
OFFLINE = "offline"
ALREADY_UPGRADING = "already_upgrading"
SKIP_CODES = (UP_TO_DATE, NO_RELEASE_FOR_MODEL, RELEASE_NOT_FOR_MODEL, OFFLINE, ALREADY_UPGRADING)

# Failures that say nothing about the release or the job: a device that was not reached does
# not count towards the job's failure threshold (offline devices never stop the others).
NOT_REACHED_CODES = frozenset({"not_reached_in_window", "unreachable"})

_T = TaskState
# DESIGN.md §6: where each state may go. A retry takes a failed task back to queued.
TRANSITIONS: dict[str, frozenset[str]] = {
    _T.SCHEDULED: frozenset({_T.WAITING_WINDOW, _T.QUEUED, _T.SKIPPED, _T.CANCELLED}),
    _T.WAITING_WINDOW: frozenset(
        {_T.WAITING_WINDOW, _T.QUEUED, _T.FAILED, _T.SKIPPED, _T.CANCELLED}
    ),
    _T.QUEUED: frozenset({_T.PREFLIGHT, _T.WAITING_WINDOW, _T.FAILED, _T.SKIPPED, _T.CANCELLED}),
    _T.PREFLIGHT: frozenset({_T.UPLOADING, _T.WAITING_WINDOW, _T.FAILED, _T.SKIPPED}),
    _T.UPLOADING: frozenset({_T.INSTALLING, _T.FAILED}),
    _T.INSTALLING: frozenset({_T.VERIFYING, _T.FAILED}),
    _T.VERIFYING: frozenset({_T.COMMITTING, _T.ROLLED_BACK, _T.FAILED}),
    # The device may roll back by itself before a late commit reaches it.
    _T.COMMITTING: frozenset({_T.SUCCEEDED, _T.ROLLED_BACK, _T.FAILED}),
    _T.SUCCEEDED: frozenset(),
    _T.FAILED: frozenset({_T.QUEUED}),
    _T.ROLLED_BACK: frozenset({_T.QUEUED}),
    _T.SKIPPED: frozenset(),
    _T.CANCELLED: frozenset(),
}


class StaleTask(Conflict):
    """The task is no longer in the state (or step) the caller saw: someone else moved it."""


# --- Review -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """One device of a review: the release it would get, or why it is skipped."""

    device: Device
    release: FirmwareRelease | None
    skip_code: str = ""
    skip_message: str = ""

    @property
    def upgradable(self) -> bool:
        return self.release is not None and not self.skip_code


@dataclass(frozen=True)
class Review:
    """What an upgrade of a selection would do, device by device (by name)."""

    rows: list[ReviewRow]
    release: FirmwareRelease | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def to_upgrade(self) -> list[ReviewRow]:
        return [row for row in self.rows if row.upgradable]

    @property
    def skipped(self) -> list[ReviewRow]:
        return [row for row in self.rows if not row.upgradable]


def _skip(device: Device, code: str, message: str) -> ReviewRow:
    return ReviewRow(device, None, code, message)


def _newer(release: FirmwareRelease, device: Device) -> bool:
    return not is_version(device.firmware_version) or release.version_key > version_key(
        device.firmware_version
    )


def _review_rows(devices: list[Device], release: FirmwareRelease | None) -> list[ReviewRow]:
    active = set(
        UpgradeTask.objects.filter(
            device_id__in=[d.pk for d in devices], state__in=ACTIVE_STATES
        ).values_list("device_id", flat=True)
    )
    if release is None:
        catalog = load_catalog()
        recommended = recommendations_for(devices, catalog)
    else:
        products = set(release.product_numbers)
    rows = []
    for device in devices:
        if device.pk in active:
            rows.append(_skip(device, ALREADY_UPGRADING, _("An upgrade of it is under way.")))
            continue
        if release is None:
            recommendation = recommended.get(device.pk)
            if recommendation is None:
                if catalog.has_line(device.product_number, device.firmware_version):
                    rows.append(
                        _skip(
                            device,
                            UP_TO_DATE,
                            _("Runs %(version)s, the newest release on its track.")
                            % {"version": device.firmware_version},
                        )
                    )
                else:
                    rows.append(
                        _skip(
                            device,
                            NO_RELEASE_FOR_MODEL,
                            _("The catalog has no release for %(model)s on %(version)s's track.")
                            % {
                                "model": device.product_number or "?",
                                "version": device.firmware_version or "?",
                            },
                        )
                    )
                continue
            target = recommendation.release
        else:
            if device.product_number not in products:
                rows.append(
                    _skip(
                        device,
                        RELEASE_NOT_FOR_MODEL,
                        _("AXIS OS %(version)s has no image for %(model)s.")
                        % {"version": release.version, "model": device.product_number or "?"},
                    )
                )
                continue
            if not _newer(release, device):
                rows.append(
                    _skip(
                        device,
                        UP_TO_DATE,
                        _("Already runs %(running)s (not older than %(version)s).")
                        % {"running": device.firmware_version, "version": release.version},
                    )
                )
                continue
            target = release
        if device.status in OUTAGE_STATUSES:
            rows.append(
                _skip(device, OFFLINE, _("Offline: it did not answer its last health check."))
            )
            continue
        rows.append(ReviewRow(device, target))
    return rows


def review_upgrade(
    *, membership: Membership, devices: QuerySet[Device], release: FirmwareRelease | None = None
) -> Review:
    """Tell, for each device of the selection, the release it would get or why it is skipped.

    `devices` must already be scoped to the member (e.g. the device list's filtered queryset).
    With `release` None each device gets its recommendation.
    """
    access.require(membership, Action.UPGRADE_MANAGE)
    selected = list(
        devices.select_related("folder").order_by("name", "id")[: MAX_DEVICES_PER_JOB + 1]
    )
    if len(selected) > MAX_DEVICES_PER_JOB:
        raise Invalid(
            "selection_too_large",
            _("Upgrade at most %(count)s devices at once.") % {"count": MAX_DEVICES_PER_JOB},
        )
    for device in selected:
        if device.organization_id != membership.organization_id:
            raise NotFound("device_not_found", _("Device not found."))
        access.require(membership, Action.UPGRADE_MANAGE, device)
    rows = _review_rows(selected, release)
    counts = Counter(row.skip_code or "upgrade" for row in rows)
    return Review(rows=rows, release=release, counts={"upgrade": 0, **counts})


# --- Transitions --------------------------------------------------------------------------


def transition(
    task: UpgradeTask,
    to_state: str,
    *,
    reason: str = "",
    reason_code: str = "",
    token: UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> UpgradeTask:
    """Move a task to `to_state`, record the event, settle the job when the task is final.

    Refuses a transition DESIGN.md §6 does not allow (Conflict `illegal_transition`). Raises
    `StaleTask` when the row is no longer in `task.state` (or, with `token`, no longer held by
    that step token): another step or member moved it first. `changes` are further fields
    written in the same UPDATE. Returns the task with the new values.
    """
    if to_state not in TRANSITIONS.get(task.state, ()):
        raise Conflict(
            "illegal_transition",
            _("An upgrade task cannot go from %(from)s to %(to)s.")
            % {"from": TaskState(task.state).label, "to": TaskState(to_state).label},
        )
    now = timezone.now()
    values: dict[str, Any] = {
        "state": to_state,
        "reason": reason[:2000],
        "reason_code": reason_code,
        "state_changed_at": now,
        **(changes or {}),
    }
    if to_state == TaskState.PREFLIGHT and task.started_at is None:
        values["started_at"] = now
    if to_state in FINAL_STATES:
        values["finished_at"] = now
        values["step_token"] = None
    elif to_state == TaskState.QUEUED:
        values.setdefault("finished_at", None)
    with transaction.atomic():
        rows = UpgradeTask.objects.filter(pk=task.pk, state=task.state)
        if token is not None:
            rows = rows.filter(step_token=token)
        if rows.update(**values) != 1:
            raise StaleTask("task_moved", _("The task changed meanwhile; reload and try again."))
        UpgradeTaskEvent.objects.create(
            task_id=task.pk,
            at=now,
            from_state=task.state,
            to_state=to_state,
            reason=values["reason"],
            reason_code=reason_code,
        )
        for name, value in values.items():
            setattr(task, name, value)
        if to_state in FINAL_STATES:
            settle_job(task.job_id)
    return task


def transition_many(
    tasks: QuerySet[UpgradeTask], from_state: str, to_state: str, *, reason: str, reason_code: str
) -> list[UUID]:
    """Move every task of `tasks` still in `from_state` to a non-final `to_state`, with events.

    The bulk form of `transition` for the tick (a window opening for thousands of devices):
    two statements whatever the number. Returns the ids moved. Call inside a transaction, with
    the rows locked.
    """
    if to_state not in TRANSITIONS.get(from_state, ()) or to_state in FINAL_STATES:
        raise Conflict("illegal_transition", f"{from_state} → {to_state} is not a bulk move")
    ids = list(tasks.filter(state=from_state).values_list("pk", flat=True))
    if not ids:
        return []
    now = timezone.now()
    UpgradeTask.objects.filter(pk__in=ids, state=from_state).update(
        state=to_state, reason=reason, reason_code=reason_code, state_changed_at=now
    )
    UpgradeTaskEvent.objects.bulk_create(
        UpgradeTaskEvent(
            task_id=pk,
            at=now,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            reason_code=reason_code,
        )
        for pk in ids
    )
    return ids


def failure_share(counts: dict[str, int], failures_not_reached: int = 0) -> tuple[int, int]:
    """Return (failures that count, started tasks that count) for the failure threshold.

    Started = finished plus in flight: a refused image or wrong credentials fail within
    seconds while every success waits for a reboot, so judged against finished tasks alone the
    first few failures of a wave would pause any job with a handful of bad devices before one
    success had time to come back.
    """
    failed = sum(counts.get(state, 0) for state in FAILURE_STATES) - failures_not_reached
    in_flight = sum(counts.get(state, 0) for state in IN_FLIGHT_STATES)
    started = failed + counts.get(TaskState.SUCCEEDED, 0) + in_flight
    return failed, started


def threshold_exceeded(job: UpgradeJob, failed: int, started: int) -> bool:
    """Return True when more than the job's threshold of its started tasks failed."""
    if failed < max(1, settings.UPGRADE_FAILURE_MINIMUM) or not started:
        return False
    return failed * 100 > job.failure_threshold_percent * started


def settle_job(job_id: UUID) -> None:
    """After a task became final: pause the job past its threshold; finish it when all are.

    Call inside a transaction; locks the job row so concurrent final steps settle in turn.
    """
    job = UpgradeJob.objects.select_for_update().get(pk=job_id)
    if job.status == UpgradeJob.Status.FINISHED:
        return
    tasks = UpgradeTask.objects.filter(job_id=job_id)
    counts = dict(Counter(tasks.values_list("state", flat=True).order_by()))
    if not any(state in ACTIVE_STATES for state in counts):
        job.status = UpgradeJob.Status.FINISHED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        if counts.get(TaskState.FAILED) or counts.get(TaskState.ROLLED_BACK):
            from upgrades import tasks as celery_tasks  # the tasks module imports this one

            transaction.on_commit(lambda: celery_tasks.send_job_report.delay(str(job_id)))
        return
    if job.status != UpgradeJob.Status.RUNNING:
        return
    not_reached = tasks.filter(state=TaskState.FAILED, reason_code__in=NOT_REACHED_CODES).count()
    failed, started = failure_share(counts, not_reached)
    if threshold_exceeded(job, failed, started):
        job.status = UpgradeJob.Status.PAUSED
        job.paused_reason = _(
            "Paused by itself: %(failed)s of %(started)s started upgrades failed, more than "
            "its limit of %(percent)s%%."
        ) % {"failed": failed, "started": started, "percent": job.failure_threshold_percent}
        job.save(update_fields=["status", "paused_reason"])
        transaction.on_commit(lambda: _audit_automatic_pause(job_id))


def _audit_automatic_pause(job_id: UUID) -> None:
    """Audit a job's own pause once it is committed, in a transaction of its own: the audit
    takes the organization row, which comes before task and job rows in the lock order."""
    with transaction.atomic():
        job = UpgradeJob.objects.select_related("organization").get(pk=job_id)
        data = {"reason": job.paused_reason}
        audit.record(AUTOMATIC_PAUSE_ACTOR, job.organization, "upgrade.job_pause", job, data)


# --- Member actions -----------------------------------------------------------------------


def _new_task(job: UpgradeJob, row: ReviewRow, now: datetime, **fields: Any) -> UpgradeTask:
    return UpgradeTask(
        job=job,
        organization_id=job.organization_id,
        device=row.device,
        release=row.release,
        from_version=row.device.firmware_version,
        to_version=row.release.version,
        total_bytes=row.release.image_size,
        created_at=now,
        state_changed_at=now,
        **fields,
    )


def add_tasks(tasks: Iterable[UpgradeTask], reason: str, reason_code: str) -> list[UpgradeTask]:
    """Insert new tasks with their first event; Conflict when a device already has one active.

    Call inside a transaction (a savepoint keeps the caller's transaction usable on refusal).
    """
    tasks = list(tasks)
    try:
        with transaction.atomic():
            UpgradeTask.objects.bulk_create(tasks)
    except IntegrityError as error:
        raise Conflict(
            ALREADY_UPGRADING,
            _("Some of these devices are already being upgraded; review the selection again."),
        ) from error
    UpgradeTaskEvent.objects.bulk_create(
        UpgradeTaskEvent(
            task=task,
            at=task.created_at,
            from_state="",
            to_state=task.state,
            reason=reason,
            reason_code=reason_code,
        )
        for task in tasks
    )
    return tasks


def _label(membership: Membership) -> str:
    return membership.user.email


@transaction.atomic(durable=True)
def create_job(
    *, membership: Membership, devices: QuerySet[Device], release: FirmwareRelease | None = None
) -> tuple[UpgradeJob, Review]:
    """Start upgrading the selection now: one task per upgradable device, the rest skipped.

    The review is made again under the organization's lock, so a second click (or a second
    admin) at the same moment finds the devices already upgrading and is refused; the
    one-active-task constraint guards anything else. Refused when nothing can be upgraded.
    """
    access.require(membership, Action.UPGRADE_MANAGE)
    organization = lock_organization(membership.organization_id)
    review = review_upgrade(membership=membership, devices=devices, release=release)
    rows = review.to_upgrade
    if not rows:
        if review.counts.get(ALREADY_UPGRADING):
            raise Conflict(ALREADY_UPGRADING, _("These devices are already being upgraded."))
        raise Invalid(
            "nothing_to_upgrade", _("None of the selected devices can be upgraded; see why.")
        )
    now = timezone.now()
    job = UpgradeJob.objects.create(
        organization=organization,
        created_by=membership.user,
        created_by_label=_label(membership),
        created_at=now,
        release=release,
        origin=UpgradeJob.Origin.MANUAL,
    )
    add_tasks(
        (_new_task(job, row, now, state=TaskState.QUEUED, not_before=now) for row in rows),
        _("Started by %(who)s.") % {"who": job.created_by_label},
        "created",
    )
    audit.record(
        membership,
        organization,
        "upgrade.job_create",
        job,
        {
            "release": release.version if release else None,
            "devices": len(rows),
            "skipped": len(review.skipped),
        },
    )
    return job, review


def _locked_organization(membership: Membership, organization_id: UUID, missing: NotFound):
    access.require(membership, Action.UPGRADE_MANAGE)
    if organization_id != membership.organization_id:
        raise missing
    return lock_organization(membership.organization_id)


def _lock_job(job_id: UUID) -> UpgradeJob:
    return UpgradeJob.objects.select_for_update().get(pk=job_id)


def _job_not_found() -> NotFound:
    return NotFound("job_not_found", _("Upgrade job not found."))


def _locked_job(membership: Membership, job: UpgradeJob):
    organization = _locked_organization(membership, job.organization_id, _job_not_found())
    return organization, _lock_job(job.pk)


@transaction.atomic(durable=True)
def pause_job(*, membership: Membership, job: UpgradeJob) -> UpgradeJob:
    """Stop starting new tasks of the job; tasks already on their device finish."""
    organization, job = _locked_job(membership, job)
    if job.status != UpgradeJob.Status.RUNNING:
        raise Conflict("job_not_running", _("Only a running upgrade job can be paused."))
    job.status = UpgradeJob.Status.PAUSED
    job.paused_reason = _("Paused by %(who)s.") % {"who": _label(membership)}
    job.save(update_fields=["status", "paused_reason"])
    audit.record(membership, organization, "upgrade.job_pause", job)
    return job


@transaction.atomic(durable=True)
def resume_job(*, membership: Membership, job: UpgradeJob) -> UpgradeJob:
    """Let a paused job start its waiting tasks again."""
    organization, job = _locked_job(membership, job)
    if job.status != UpgradeJob.Status.PAUSED:
        raise Conflict("job_not_paused", _("Only a paused upgrade job can be resumed."))
    job.status = UpgradeJob.Status.RUNNING
    job.paused_reason = ""
    job.save(update_fields=["status", "paused_reason"])
    audit.record(membership, organization, "upgrade.job_resume", job)
    return job


@transaction.atomic(durable=True)
def cancel_job(*, membership: Membership, job: UpgradeJob) -> int:
    """Cancel the job's tasks not started yet; tasks on their device finish. Returns how many."""
    organization = _locked_organization(membership, job.organization_id, _job_not_found())
    pending = list(
        UpgradeTask.objects.select_for_update()
        .filter(job=job, state__in=PENDING_STATES)
        .order_by("pk")
    )
    job = _lock_job(job.pk)
    if job.status == UpgradeJob.Status.FINISHED:
        raise Conflict("job_finished", _("This upgrade job has already finished."))
    reason = _("Cancelled by %(who)s.") % {"who": _label(membership)}
    cancelled = 0
    for task in pending:
        try:
            transition(task, TaskState.CANCELLED, reason=reason, reason_code="cancelled")
        except StaleTask:  # a step took it just now: it runs to its end
            continue
        cancelled += 1
    audit.record(membership, organization, "upgrade.job_cancel", job, {"cancelled": cancelled})
    return cancelled


@transaction.atomic(durable=True)
def retry_task(*, membership: Membership, task: UpgradeTask) -> UpgradeTask:
    """Try a failed or rolled-back task again now, as a new attempt (outside any window)."""
    organization = _locked_organization(
        membership, task.organization_id, NotFound("task_not_found", _("Upgrade task not found."))
    )
    task = UpgradeTask.objects.select_for_update().get(pk=task.pk)
    job = _lock_job(task.job_id)
    access.require(membership, Action.UPGRADE_MANAGE, task.device)
    if task.state not in FAILURE_STATES:
        raise Conflict("task_not_failed", _("Only a failed or rolled-back upgrade can be retried."))
    now = timezone.now()
    try:
        with transaction.atomic():
            transition(
                task,
                TaskState.QUEUED,
                reason=_("Retried by %(who)s.") % {"who": _label(membership)},
                reason_code="retry",
                changes={
                    "attempt": task.attempt + 1,
                    "not_before": now,
                    "window_ends_at": None,
                    "heartbeat_at": None,
                    "step_token": None,
                    "progress_bytes": 0,
                    "boot_id_before": "",
                    "uptime_before": None,
                    "answer_lost": False,
                    "seen_down": False,
                    "unreachable_since": None,
                    "started_at": None,
                },
            )
    except IntegrityError as error:
        raise Conflict(
            ALREADY_UPGRADING, _("Another upgrade of this device is under way.")
        ) from error
    if job.status == UpgradeJob.Status.FINISHED:
        job.status = UpgradeJob.Status.RUNNING
        job.finished_at = None
        job.save(update_fields=["status", "finished_at"])
    audit.record(
        membership, organization, "upgrade.task_retry", task.device, {"attempt": task.attempt}
    )
    return task
