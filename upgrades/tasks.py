"""Celery entry points of upgrades: the scheduler tick, the upgrade steps, the job report."""

from uuid import UUID

from celery import shared_task

from common.mail import MAIL_TASK_OPTIONS
from upgrades import mail
from upgrades.models import UpgradeJob


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
