"""Celery entry points of organizations: mail that must not be sent inside the request."""

from uuid import UUID

from celery import shared_task

from organizations import services


@shared_task(
    name="organizations.send_invitation_email",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),  # smtplib.SMTPException is an OSError
    retry_backoff=15,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
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
