"""Reads about accounts, for the pages and for the sign-in steps (which know only a session)."""

import math
import operator
from functools import reduce

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent, User, canonical_email
from common.countries import zone_country

RECENT_SECURITY_EVENT_COUNT = 20
# What counts as a second factor. Backup codes (StaticDevice) alone are none: they only stand in
# for one of these.
SECOND_FACTOR_MODELS = (TOTPDevice, EmailDevice)


def get_account(user_id: object, *, active_only: bool = False) -> User | None:
    """Return the account a sign-in step remembered in the session, or None."""
    if user_id is None:
        return None
    accounts = User.objects.filter(pk=user_id)
    if active_only:
        accounts = accounts.filter(is_active=True)
    return accounts.first()


def get_account_by_email(email: str) -> User | None:
    """Return the account registered under `email` in any spelling, or None."""
    return User.objects.filter(email=canonical_email(email).replace("\x00", "")).first()


def has_mfa(user: User) -> bool:
    """Tell whether the account has a second factor (an authenticator app or e-mail codes)."""
    return any(
        model.objects.filter(user=user, confirmed=True).exists() for model in SECOND_FACTOR_MODELS
    )


def confirmed_devices(user: User) -> list:
    """Return the account's confirmed second factors (authenticator app, e-mail, backup codes)."""
    devices: list = []
    for model in (TOTPDevice, EmailDevice, StaticDevice):
        devices.extend(model.objects.filter(user=user, confirmed=True))
    return devices


def has_second_factor(user_field: str) -> ExpressionWrapper:
    """Return an annotation: does the account at `user_field` have a confirmed second factor?

    As `has_mfa` decides, for lists of people without a query per person.
    """
    any_factor = reduce(
        operator.or_,
        (
            Exists(model.objects.filter(user=OuterRef(user_field), confirmed=True))
            for model in SECOND_FACTOR_MODELS
        ),
    )
    return ExpressionWrapper(any_factor, output_field=BooleanField())


def confirmed_email_device(user: User) -> EmailDevice | None:
    """Return the account's confirmed e-mail second factor, if it has one."""
    return EmailDevice.objects.filter(user=user, confirmed=True).first()


def recent_security_events(
    user: User, *, limit: int = RECENT_SECURITY_EVENT_COUNT
) -> QuerySet[SecurityEvent]:
    """Return the account's own latest security events, newest first (uses the created_at index)."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-pk")[:limit]


def second_factor_wait_seconds(user: User) -> int:
    """Return how long django-otp's throttle still refuses every code of the account, or 0.

    Each wrong code doubles the wait of every device (1, 2, 4 … seconds); a code sent
    meanwhile is refused unchecked, and the page should say so rather than call it wrong.
    """
    waits = []
    for model in (TOTPDevice, EmailDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            is_allowed, details = device.verify_is_allowed()
            if is_allowed:
                return 0
            locked_until = (details or {}).get("locked_until")
            if locked_until is not None:
                waits.append((locked_until - timezone.now()).total_seconds())
    return max(1, math.ceil(min(waits))) if waits else 0


def country_of(user: User) -> str:
    """Return the person's country: the one they chose, else their time zone's ("" if none)."""
    return user.country or zone_country(user.time_zone)
