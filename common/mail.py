"""What a mail server's refusal means: final or worth another try, and in its own words."""

import smtplib

from common.text import printable

# One message per task, retried while the mail server may yet take it (connection errors and
# SMTP errors are OSErrors); the time limits stop a server that never answers (EMAIL_TIMEOUT too).
MAIL_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OSError,),
    "retry_backoff": 15,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 60,
    "time_limit": 90,
}


def is_permanent_failure(error: Exception) -> bool:
    """Tell whether sending again cannot help: a final (5xx) refusal, or headers Django refused."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)  # django.core.mail.BadHeaderError


def describe_failure(error: Exception, *, max_length: int = 500) -> str:
    """Return what went wrong, in the mail server's words when it gave some; short, printable."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
    elif isinstance(error, smtplib.SMTPResponseException):
        replies = [(error.smtp_code, error.smtp_error)]
    else:
        return printable(f"{type(error).__name__}: {error}")[:max_length]
    text = "; ".join(
        f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        for code, reply in replies
    )
    return printable(text)[:max_length]
