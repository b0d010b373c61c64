"""The report of a job that finished with failures, to its creator and the organization's admins.

One Celery task per job (`upgrades.tasks.send_job_report`) renders one message per recipient,
in the recipient's language and time zone.
"""

import logging
import zoneinfo
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from common.mail import describe_failure, is_permanent_failure
from organizations.models import Membership
from organizations.roles import Role
from upgrades.models import FAILURE_STATES, TaskState, UpgradeJob, UpgradeTask

logger = logging.getLogger(__name__)

# The failed devices one message names; the Tasks view has them all.
LISTED_FAILURES = 50


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def recipients(job: UpgradeJob) -> list[User]:
    """The job's creator (while still a member) and the organization's owners and admins."""
    members = Membership.objects.select_related("user").filter(
        organization_id=job.organization_id, user__is_active=True
    )
    found = {
        m.user_id: m.user
        for m in members
        if m.role in (Role.OWNER, Role.ADMIN) or m.user_id == job.created_by_id
    }
    return sorted(found.values(), key=lambda user: user.email)


def job_report_message(job: UpgradeJob, user: User) -> EmailMessage:
    """Return the report of a finished job with failures, in the user's language and zone."""
    tasks = UpgradeTask.objects.filter(job=job).select_related("device")
    failed = list(tasks.filter(state__in=FAILURE_STATES).order_by("device__name")[:LISTED_FAILURES])
    counts = {state: tasks.filter(state=state).count() for state in TaskState.values}
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(_zone(user.time_zone)),
    ):
        subject = _("Software upgrade finished with failures (%(organization)s)") % {
            "organization": " ".join(job.organization.name.split())
        }
        body = render_to_string(
            "upgrades/emails/job_report.txt",
            {
                "user": user,
                "job": job,
                "organization": job.organization,
                "failed": failed,
                "failed_count": counts[TaskState.FAILED] + counts[TaskState.ROLLED_BACK],
                "succeeded_count": counts[TaskState.SUCCEEDED],
                "link": f"{settings.SITE_ORIGIN}/o/{job.organization_id}/upgrades/jobs/{job.pk}/",
                "time_zone": user.time_zone or "UTC",
            },
        )
    return EmailMessage(str(subject), body, settings.DEFAULT_FROM_EMAIL, [user.email])


def deliver_job_report(job_id: UUID, user_id: int) -> None:
    """E-mail one recipient the report of one job; a final refusal is logged, not retried."""
    job = UpgradeJob.objects.select_related("organization").filter(pk=job_id).first()
    user = next((u for u in recipients(job) if u.pk == user_id), None) if job else None
    if job is None or user is None:
        return
    try:
        job_report_message(job, user).send()
    except (OSError, ValueError) as error:
        if not is_permanent_failure(error):
            raise
        logger.warning("Upgrade report not delivered: %s", describe_failure(error))
