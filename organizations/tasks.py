"""Celery entry points of organizations: mail that must not be sent inside the request."""

from uuid import UUID

from celery import shared_task

from common.mail import MAIL_TASK_OPTIONS
from organizations import services


@shared_task(
    name="organizations.send_invitation_email",
    bind=True,
    **MAIL_TASK_OPTIONS,
)
def send_invitation_email(
    self, invitation_id: str, raw_token: str, origin: str, language: str
) -> None:
    """E-mail one invitation link; the service records sent, or failed after the last try."""
    services.deliver_invitation_email(
        invitation_id=UUID(invitation_id),
        raw_token=raw_token,
        origin=origin,
        language=language,
        is_last_attempt=self.request.retries >= self.max_retries,
    )
