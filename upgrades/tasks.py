"""Celery entry points of upgrades: the scheduler tick, the upgrade steps, schedules, reports.

Thin wrappers around `upgrades.engine`: each runs the engine (which commits its own
transactions) and then sends the steps it handed over, so a message never names a state the
database has not committed. Steps are `acks_late` (a message whose worker died is delivered
again; the step token makes the repeat harmless) with time limits: the client's deadlines bound
every device call (30 s), the upload its own budget (UPGRADE_UPLOAD_MAXIMUM).
"""

from uuid import UUID

from celery import shared_task
from django.conf import settings

from common.mail import MAIL_TASK_OPTIONS
from upgrades import engine, mail
from upgrades.models import TaskState, UpgradeJob

# One short step: a few device calls of at most 30 s each.
STEP_SOFT_TIME_LIMIT = 150
STEP_TIME_LIMIT = 180
UPLOAD_SOFT_TIME_LIMIT = int(settings.UPGRADE_UPLOAD_MAXIMUM) + 120
UPLOAD_TIME_LIMIT = UPLOAD_SOFT_TIME_LIMIT + 30


def send(handoffs: list[engine.Handoff]) -> None:
    """Send each handed-over step to the worker queue (after a short countdown for re-checks)."""
    for handoff in handoffs:
        _STEP_TASKS[handoff.state].apply_async(
            (str(handoff.task_id), str(handoff.token)), countdown=handoff.countdown or None
        )


@shared_task(name="upgrades.tick", acks_late=True, soft_time_limit=60, time_limit=90)
def tick() -> dict[str, int]:
    """Run one scheduler tick (beat, every UPGRADE_TICK seconds) and send the steps it claimed."""
    report = engine.tick()
    send(report.handoffs)
    return report.as_dict()


def _run(task_id: str, token: str) -> None:
    send(engine.run_step(UUID(task_id), UUID(token)))


@shared_task(
    name="upgrades.preflight",
    acks_late=True,
    soft_time_limit=STEP_SOFT_TIME_LIMIT,
    time_limit=STEP_TIME_LIMIT,
)
def preflight(task_id: str, token: str) -> None:
    """Check the device before touching it: reachable, credentials, model, window left."""
    _run(task_id, token)


@shared_task(
    name="upgrades.upload",
    acks_late=True,
    soft_time_limit=UPLOAD_SOFT_TIME_LIMIT,
    time_limit=UPLOAD_TIME_LIMIT,
)
def upload(task_id: str, token: str) -> None:
    """Upload the image (or find it already there after a crash)."""
    _run(task_id, token)


@shared_task(
    name="upgrades.check_restart",
    acks_late=True,
    soft_time_limit=STEP_SOFT_TIME_LIMIT,
    time_limit=STEP_TIME_LIMIT,
)
def check_restart(task_id: str, token: str) -> None:
    """Probe once whether the device is back with a new boot; re-check shortly if not."""
    _run(task_id, token)


@shared_task(
    name="upgrades.verify",
    acks_late=True,
    soft_time_limit=STEP_SOFT_TIME_LIMIT,
    time_limit=STEP_TIME_LIMIT,
)
def verify(task_id: str, token: str) -> None:
    """Check that the device runs the target version, as itself."""
    _run(task_id, token)


@shared_task(
    name="upgrades.commit",
    acks_late=True,
    soft_time_limit=STEP_SOFT_TIME_LIMIT,
    time_limit=STEP_TIME_LIMIT,
)
def commit(task_id: str, token: str) -> None:
    """Commit the verified image and record the success."""
    _run(task_id, token)


_STEP_TASKS = {
    TaskState.PREFLIGHT: preflight,
    TaskState.UPLOADING: upload,
    TaskState.INSTALLING: check_restart,
    TaskState.VERIFYING: verify,
    TaskState.COMMITTING: commit,
}


@shared_task(name="upgrades.schedule_sweep", acks_late=True, soft_time_limit=120, time_limit=150)
def schedule_sweep() -> int:
    """Give devices on automatic schedules their tasks (beat; also when a release is added)."""
    return len(engine.plan_automatic_upgrades())


@shared_task(name="upgrades.send_job_report", acks_late=True, soft_time_limit=60, time_limit=90)
def send_job_report(job_id: str) -> int:
    """Queue the report of a job that finished with failures, one e-mail per recipient."""
    job = UpgradeJob.objects.filter(pk=job_id).first()
    if job is None:
        return 0
    users = mail.recipients(job)
    for user in users:
        send_job_report_to.delay(job_id, user.pk)
    return len(users)


@shared_task(name="upgrades.send_job_report_to", **MAIL_TASK_OPTIONS)
def send_job_report_to(job_id: str, user_id: int) -> None:
    """E-mail one recipient the report of one finished job."""
    mail.deliver_job_report(UUID(job_id), user_id)
