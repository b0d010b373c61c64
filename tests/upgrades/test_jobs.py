"""Upgrade jobs: review, create, pause, resume, cancel, retry, transitions, selectors."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from common.errors import Conflict, Forbidden, Invalid, NotFound
from devices.models import Device
from devices.selectors import visible_devices
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release
from upgrades import selectors
from upgrades.models import TaskState, UpgradeJob, UpgradeTask, UpgradeTaskEvent
from upgrades.services import (
    StaleTask,
    cancel_job,
    create_job,
    pause_job,
    resume_job,
    retry_task,
    review_upgrade,
    transition,
)
from upgrades.services.jobs import AUTOMATIC_PAUSE_ACTOR


@pytest.fixture
def releases(db):
    return {
        "12.11.100": add_test_release("12.11.100", ("P3265-V",)),
        "11.11.192": add_test_release("11.11.192", ("M1075-L",)),
    }


@pytest.fixture
def fleet(tenant, releases):
    """Devices in the tenant's folders: one of each review outcome."""
    return {
        "due": DeviceFactory(folder=tenant.room_a1x, name="a-due", firmware_version="12.11.79"),
        "due_b": DeviceFactory(folder=tenant.site_b, name="b-due", firmware_version="12.11.80"),
        "current": DeviceFactory(
            folder=tenant.site_a, name="c-current", firmware_version="12.11.100"
        ),
        "unknown_model": DeviceFactory(
            folder=tenant.site_a, name="d-unknown", product_number="Q9999-Z"
        ),
        "offline": DeviceFactory(
            folder=tenant.site_a, name="e-offline", status=Device.Status.OFFLINE
        ),
        "other_model": DeviceFactory(
            folder=tenant.site_b,
            name="f-m1075",
            product_number="M1075-L",
            firmware_version="11.11.160",
        ),
    }


def _selection(membership, *devices):
    return visible_devices(membership).filter(pk__in=[d.pk for d in devices])


def _codes(review):
    return {row.device.name: row.skip_code or row.release.version for row in review.rows}


# --- Review -------------------------------------------------------------------------------


def test_the_review_gives_each_device_its_recommendation_or_why_it_is_skipped(tenant, fleet):
    review = review_upgrade(
        membership=tenant.admin, devices=_selection(tenant.admin, *fleet.values())
    )
    assert _codes(review) == {
        "a-due": "12.11.100",
        "b-due": "12.11.100",
        "c-current": "up_to_date",
        "d-unknown": "no_release_for_model",
        "e-offline": "offline",
        "f-m1075": "11.11.192",
    }
    assert review.counts == {
        "upgrade": 3,
        "up_to_date": 1,
        "no_release_for_model": 1,
        "offline": 1,
    }
    offline = next(row for row in review.rows if row.skip_code == "offline")
    assert "did not answer" in offline.skip_message


def test_an_explicit_release_skips_the_models_it_has_no_image_for(tenant, fleet, releases):
    review = review_upgrade(
        membership=tenant.admin,
        devices=_selection(tenant.admin, *fleet.values()),
        release=releases["12.11.100"],
    )
    codes = _codes(review)
    assert codes["f-m1075"] == "release_not_for_model"
    assert codes["d-unknown"] == "release_not_for_model"
    assert codes["c-current"] == "up_to_date"
    assert codes["a-due"] == "12.11.100"


def test_a_device_with_an_upgrade_under_way_is_skipped_as_already_upgrading(tenant, fleet):
    create_job(membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"]))
    review = review_upgrade(membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"]))
    assert _codes(review) == {"a-due": "already_upgrading"}


def test_operators_and_viewers_may_not_review_or_start_upgrades(tenant, fleet):
    for member in (tenant.operator, tenant.viewer):
        with pytest.raises(Forbidden):
            review_upgrade(membership=member, devices=_selection(member, fleet["due"]))
        with pytest.raises(Forbidden):
            create_job(membership=member, devices=_selection(member, fleet["due"]))
    assert not UpgradeJob.objects.exists()


def test_a_device_of_another_organization_is_not_found(tenant, other_tenant, releases):
    stranger = DeviceFactory(folder=other_tenant.top)
    with pytest.raises(NotFound):
        review_upgrade(membership=tenant.admin, devices=Device.objects.filter(pk=stranger.pk))


# --- Create -------------------------------------------------------------------------------


def test_create_job_makes_one_queued_task_per_upgradable_device_and_audits(tenant, fleet):
    job, review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, *fleet.values())
    )
    assert job.origin == UpgradeJob.Origin.MANUAL
    assert job.status == UpgradeJob.Status.RUNNING
    assert job.created_by == tenant.admin.user
    assert job.failure_threshold_percent == 20
    tasks = {t.device.name: t for t in job.tasks.select_related("device")}
    assert set(tasks) == {"a-due", "b-due", "f-m1075"}
    due = tasks["a-due"]
    assert (due.state, due.from_version, due.to_version) == ("queued", "12.11.79", "12.11.100")
    assert due.organization_id == tenant.organization.pk
    assert due.total_bytes == due.release.image_size > 0
    assert due.not_before is not None
    assert due.window_ends_at is None
    assert list(due.events.values_list("from_state", "to_state")) == [("", "queued")]
    event = AuditEvent.objects.get(action="upgrade.job_create")
    assert event.data == {"release": None, "devices": 3, "skipped": 3}
    assert len(review.skipped) == 3


def test_nothing_to_upgrade_is_refused_and_creates_nothing(tenant, fleet):
    with pytest.raises(Invalid, match="None of the selected devices"):
        create_job(
            membership=tenant.admin,
            devices=_selection(tenant.admin, fleet["current"], fleet["offline"]),
        )
    assert not UpgradeJob.objects.exists()
    assert not AuditEvent.objects.filter(action="upgrade.job_create").exists()


def test_the_database_keeps_one_active_task_per_device(tenant, fleet):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"])
    )
    task = job.tasks.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        UpgradeTask.objects.create(
            job=job,
            organization=tenant.organization,
            device=fleet["due"],
            release=task.release,
            to_version="12.11.100",
            state=TaskState.WAITING_WINDOW,
        )


@pytest.mark.django_db(transaction=True)
def test_two_create_job_calls_at_once_make_one_task_and_one_clear_refusal(race, tenant, releases):
    device = DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79")
    outcomes = race(
        lambda: create_job(membership=tenant.admin, devices=_selection(tenant.admin, device)),
        lambda: create_job(membership=tenant.owner, devices=_selection(tenant.owner, device)),
    )
    refusals = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refusals) == 1, outcomes
    assert isinstance(refusals[0], Conflict)
    assert refusals[0].code == "already_upgrading"
    assert UpgradeTask.objects.filter(device=device).count() == 1
    assert UpgradeJob.objects.count() == 1


# --- Transitions --------------------------------------------------------------------------


@pytest.fixture
def task(tenant, fleet):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"])
    )
    return job.tasks.get()


def test_illegal_transitions_are_refused_and_change_nothing(task):
    with pytest.raises(Conflict, match="cannot go from Queued to Succeeded"):
        transition(task, TaskState.SUCCEEDED, reason="no", reason_code="x")
    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    assert task.events.count() == 1


def test_each_transition_records_its_event_and_times(task):
    transition(task, TaskState.PREFLIGHT, reason="checking", reason_code="started")
    transition(task, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    task.refresh_from_db()
    assert task.state == TaskState.FAILED
    assert task.reason == "Wrong credentials"
    assert task.reason_code == "auth_failed"
    assert task.started_at is not None
    assert task.finished_at is not None
    assert list(task.events.values_list("from_state", "to_state", "reason_code")) == [
        ("", "queued", "created"),
        ("queued", "preflight", "started"),
        ("preflight", "failed", "auth_failed"),
    ]


def test_a_transition_from_a_state_the_task_has_left_is_refused_as_stale(task):
    seen = UpgradeTask.objects.get(pk=task.pk)
    transition(task, TaskState.PREFLIGHT, reason="", reason_code="started")
    with pytest.raises(StaleTask):
        transition(seen, TaskState.CANCELLED, reason="", reason_code="cancelled")
    task.refresh_from_db()
    assert task.state == TaskState.PREFLIGHT


def test_the_last_final_task_finishes_the_job_and_failures_send_the_report(
    tenant, fleet, django_capture_on_commit_callbacks
):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"], fleet["due_b"])
    )
    first, second = job.tasks.order_by("device__name")
    with django_capture_on_commit_callbacks(execute=True):
        for task, end in ((first, TaskState.SUCCEEDED), (second, TaskState.FAILED)):
            transition(task, TaskState.PREFLIGHT, reason_code="started")
            if end == TaskState.SUCCEEDED:
                for state in ("uploading", "installing", "verifying", "committing"):
                    transition(task, state, reason_code="step")
            transition(
                task, end, reason="The device refused the image: wrong model", reason_code="x"
            )
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.FINISHED
    assert job.finished_at is not None
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted({tenant.owner.user.email, tenant.admin.user.email})
    assert "b-due" in mail.outbox[0].body
    assert "refused the image" in mail.outbox[0].body


def test_a_job_without_failures_sends_no_report(task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        transition(task, TaskState.CANCELLED, reason_code="cancelled")
    task.job.refresh_from_db()
    assert task.job.status == UpgradeJob.Status.FINISHED
    assert mail.outbox == []


# --- Threshold ----------------------------------------------------------------------------


def test_the_job_pauses_itself_when_more_than_its_threshold_failed(
    tenant, releases, settings, django_capture_on_commit_callbacks
):
    settings.UPGRADE_FAILURE_MINIMUM = 2
    devices = [DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(6)]
    job, _review = create_job(membership=tenant.admin, devices=_selection(tenant.admin, *devices))
    tasks = list(job.tasks.order_by("pk"))
    # 1 failure of 2 finished is 50%, but below the minimum count: still running.
    transition(tasks[0], TaskState.PREFLIGHT, reason_code="s")
    transition(tasks[0], TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    for task in tasks[1:3]:
        transition(task, TaskState.PREFLIGHT, reason_code="s")
        for state in ("uploading", "installing", "verifying", "committing", "succeeded"):
            transition(task, state, reason_code="s")
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING
    # Offline devices never count: a device not reached in its window does not pause the job.
    transition(
        tasks[3], TaskState.FAILED, reason="Not reached", reason_code="not_reached_in_window"
    )
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING
    # 2 of 4 that count failed: 50% > 20%.
    transition(tasks[4], TaskState.PREFLIGHT, reason_code="s")
    with django_capture_on_commit_callbacks(execute=True):
        transition(tasks[4], TaskState.FAILED, reason="Refused", reason_code="refused")
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.PAUSED
    assert "2 of 4 started upgrades failed" in job.paused_reason
    # Audited after the pause committed, naming the threshold as the one who paused it.
    event = AuditEvent.objects.get(action="upgrade.job_pause", target_id=str(job.pk))
    assert event.actor_label == AUTOMATIC_PAUSE_ACTOR
    assert event.data["reason"] == job.paused_reason


def test_fast_failures_do_not_pause_a_job_whose_other_upgrades_are_still_running(
    tenant, releases, settings
):
    """Refusals come back in seconds, successes only after a reboot: judge over started tasks."""
    settings.UPGRADE_FAILURE_MINIMUM = 3
    devices = [DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(20)]
    job, _review = create_job(membership=tenant.admin, devices=_selection(tenant.admin, *devices))
    tasks = list(job.tasks.order_by("pk"))
    for task in tasks[3:]:
        transition(task, TaskState.PREFLIGHT, reason_code="s")
        transition(task, TaskState.UPLOADING, reason_code="s")
    for task in tasks[:3]:
        transition(task, TaskState.PREFLIGHT, reason_code="s")
        transition(task, TaskState.FAILED, reason="Refused", reason_code="refused")
    job.refresh_from_db()
    # 3 of 20 started (15%): no success has finished yet, and the job goes on.
    assert job.status == UpgradeJob.Status.RUNNING
    for task in tasks[3:5]:
        transition(task, TaskState.FAILED, reason="Refused", reason_code="refused")
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.PAUSED
    assert "5 of 20 started upgrades failed" in job.paused_reason


# --- Pause, resume, cancel, retry ---------------------------------------------------------


def test_pause_and_resume_are_audited_and_refused_in_the_wrong_status(tenant, task):
    job = task.job
    pause_job(membership=tenant.admin, job=job)
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.PAUSED
    assert tenant.admin.user.email in job.paused_reason
    with pytest.raises(Conflict):
        pause_job(membership=tenant.admin, job=job)
    resume_job(membership=tenant.owner, job=job)
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING
    assert job.paused_reason == ""
    with pytest.raises(Conflict):
        resume_job(membership=tenant.admin, job=job)
    actions = list(
        AuditEvent.objects.filter(action__startswith="upgrade.job_p").values_list(
            "action", flat=True
        )
    )
    assert actions == ["upgrade.job_pause"]
    assert AuditEvent.objects.filter(action="upgrade.job_resume").count() == 1


def test_members_of_other_organizations_and_operators_cannot_touch_a_job(
    tenant, other_tenant, task
):
    with pytest.raises(NotFound):
        pause_job(membership=other_tenant.admin, job=task.job)
    with pytest.raises(Forbidden):
        cancel_job(membership=tenant.operator, job=task.job)
    with pytest.raises(NotFound):
        retry_task(membership=other_tenant.owner, task=task)


def test_cancel_cancels_only_tasks_not_started(tenant, fleet):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"], fleet["due_b"])
    )
    running, waiting = job.tasks.order_by("device__name")
    transition(running, TaskState.PREFLIGHT, reason_code="started")
    assert cancel_job(membership=tenant.admin, job=job) == 1
    running.refresh_from_db()
    waiting.refresh_from_db()
    assert running.state == TaskState.PREFLIGHT
    assert waiting.state == TaskState.CANCELLED
    assert tenant.admin.user.email in waiting.reason
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.RUNNING  # the running task still has to end
    assert AuditEvent.objects.get(action="upgrade.job_cancel").data == {"cancelled": 1}


def test_retry_starts_a_new_attempt_of_a_failed_task_and_reopens_the_job(tenant, task):
    transition(task, TaskState.PREFLIGHT, reason_code="started")
    transition(task, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    task.job.refresh_from_db()
    assert task.job.status == UpgradeJob.Status.FINISHED
    retry_task(membership=tenant.admin, task=task)
    task.refresh_from_db()
    assert (task.state, task.attempt, task.reason_code) == ("queued", 2, "retry")
    assert task.finished_at is None
    assert task.started_at is None
    task.job.refresh_from_db()
    assert task.job.status == UpgradeJob.Status.RUNNING
    assert task.job.finished_at is None
    with pytest.raises(Conflict, match="Only a failed"):
        retry_task(membership=tenant.admin, task=task)
    assert AuditEvent.objects.get(action="upgrade.task_retry").data == {"attempt": 2}


def test_retry_is_refused_while_another_upgrade_of_the_device_is_under_way(tenant, fleet, task):
    transition(task, TaskState.PREFLIGHT, reason_code="started")
    transition(task, TaskState.FAILED, reason="x", reason_code="refused")
    create_job(membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"]))
    with pytest.raises(Conflict) as refused:
        retry_task(membership=tenant.admin, task=task)
    assert refused.value.code == "already_upgrading"
    task.refresh_from_db()
    assert task.state == TaskState.FAILED


# --- Selectors ----------------------------------------------------------------------------


def test_operators_and_viewers_see_the_tasks_of_the_devices_they_see(tenant, fleet, other_tenant):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"], fleet["due_b"])
    )
    names = lambda m: sorted(selectors.visible_tasks(m).values_list("device__name", flat=True))  # noqa: E731
    assert names(tenant.admin) == names(tenant.owner) == ["a-due", "b-due"]
    assert names(tenant.operator) == ["a-due"]  # site_a's subtree
    assert names(tenant.viewer) == ["a-due"]  # building_a1's subtree
    assert names(other_tenant.owner) == []
    assert list(selectors.visible_jobs(tenant.viewer)) == [job]
    assert not selectors.visible_jobs(other_tenant.owner).exists()
    with pytest.raises(NotFound):
        selectors.get_visible_job(other_tenant.admin, job.pk)


def test_job_counts_give_every_state(tenant, fleet):
    job, _review = create_job(
        membership=tenant.admin, devices=_selection(tenant.admin, fleet["due"], fleet["due_b"])
    )
    counts = selectors.job_counts(job)
    assert counts["queued"] == 2
    assert counts["succeeded"] == 0
    assert set(counts) == set(TaskState.values)
    assert selectors.job_counts(job, tenant.operator)["queued"] == 1
    assert UpgradeTaskEvent.objects.filter(task__job=job).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_admins_cancelling_at_once_cancel_each_task_once(race, tenant, releases):
    devices = [DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79") for _ in range(3)]
    job, _review = create_job(membership=tenant.admin, devices=_selection(tenant.admin, *devices))
    outcomes = race(
        lambda: cancel_job(membership=tenant.admin, job=job),
        lambda: cancel_job(membership=tenant.owner, job=job),
    )
    assert sorted(str(o) if isinstance(o, int) else o.code for o in outcomes) == [
        "3",
        "job_finished",
    ]
    assert UpgradeTaskEvent.objects.filter(task__job=job, to_state="cancelled").count() == 3
    job.refresh_from_db()
    assert job.status == UpgradeJob.Status.FINISHED


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_start_one_new_attempt(race, tenant, releases):
    device = DeviceFactory(folder=tenant.site_a, firmware_version="12.11.79")
    job, _review = create_job(membership=tenant.admin, devices=_selection(tenant.admin, device))
    task = job.tasks.get()
    transition(task, TaskState.PREFLIGHT, reason_code="started")
    transition(task, TaskState.FAILED, reason="Wrong credentials", reason_code="auth_failed")
    outcomes = race(
        lambda: retry_task(membership=tenant.admin, task=task),
        lambda: retry_task(membership=tenant.owner, task=task),
    )
    refusals = [o for o in outcomes if isinstance(o, Exception)]
    assert [r.code for r in refusals] == ["task_not_failed"]
    task.refresh_from_db()
    assert (task.state, task.attempt) == ("queued", 2)
