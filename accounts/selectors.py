"""Reads about accounts for the sign-in steps, which know a person only by a session value."""

from django.db.models import QuerySet
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import SecurityEvent, User

RECENT_SECURITY_EVENT_COUNT = 20


def get_account(user_id: object, *, active_only: bool = False) -> User | None:
    """Return the account a sign-in step remembered in the session, or None."""
    if user_id is None:
        return None
    accounts = User.objects.filter(pk=user_id)
    if active_only:
        accounts = accounts.filter(is_active=True)
    return accounts.first()


def confirmed_email_device(user: User) -> EmailDevice | None:
    """Return the account's confirmed e-mail second factor, if it has one."""
    return EmailDevice.objects.filter(user=user, confirmed=True).first()


def recent_security_events(
    user: User, *, limit: int = RECENT_SECURITY_EVENT_COUNT
) -> QuerySet[SecurityEvent]:
    """Return the account's own latest security events, newest first (uses the created_at index)."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-pk")[:limit]
