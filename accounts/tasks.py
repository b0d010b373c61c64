"""Celery entry points of accounts: mail that must not be sent inside the request."""

import logging

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

from common.mail import MAIL_TASK_OPTIONS, describe_failure, is_permanent_failure

logger = logging.getLogger(__name__)


@shared_task(
    name="accounts.send_account_email",
    **MAIL_TASK_OPTIONS,
)
def send_account_email(
    subject: str, body: str, from_email: str, to_email: str, html_body: str | None = None
) -> None:
    """Send one rendered account e-mail (a verification or password-reset link).

    A refusal the mail server calls final is logged, not retried: trying again cannot help.
    """
    message = EmailMultiAlternatives(subject, body, from_email, [to_email])
    if html_body is not None:
        message.attach_alternative(html_body, "text/html")
    try:
        message.send()
    except (OSError, ValueError) as error:
        if not is_permanent_failure(error):
            raise
        logger.warning("Account e-mail not delivered: %s", describe_failure(error))
