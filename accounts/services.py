"""Every change to an account: sign-up, e-mail verification, MFA devices, security events."""

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import selectors, tasks
from accounts.models import SecurityEvent, User, canonical_email
from common.errors import Conflict, Invalid, NotFound
from common.http import client_address
from common.text import refuse_control_characters

_VERIFY_SALT = "accounts.verify-email"
BACKUP_CODE_COUNT = 10
# One verification e-mail a minute per account: the button must not become a mail cannon.
VERIFICATION_RESEND_SECONDS = 60
NAME_MAX_LENGTH = User._meta.get_field("name").max_length


def record_security_event(
    *,
    action: str,
    user: User | None = None,
    email: str = "",
    request: HttpRequest | None = None,
    data: dict | None = None,
) -> SecurityEvent:
    """Write one security event; the hook that organization audit logs can build on."""
    return SecurityEvent.objects.create(
        user=user,
        # What a stranger typed may hold a NUL byte, which PostgreSQL text refuses.
        email=(user.email if user else email).replace("\x00", "")[:254],
        action=action,
        client_address=client_address(request),
        data=data or {},
    )


def check_email_free(*, email: str) -> None:
    """Raise Conflict when an account already uses this address (in any case or width)."""
    if User.objects.filter(email=canonical_email(email)).exists():
        raise Conflict("email_taken", _("An account with this e-mail address already exists."))


def clean_person_name(name: str) -> str:
    """Return a person's name stripped, or raise Invalid: too long, or with control characters.

    Every door that sets a person's name (sign-up, invitation sign-up, profile) uses it: the
    name lands in e-mail headers, member lists and support terminals.
    """
    name = (name or "").strip()
    refuse_control_characters(name)
    if len(name) > NAME_MAX_LENGTH:
        message = _("Use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}
        raise Invalid("name_too_long", message, {"name": [message]})
    return name


@transaction.atomic
def sign_up(
    *,
    email: str,
    password: str,
    name: str = "",
    language: str = "",
    is_email_verified: bool = False,
    request: HttpRequest | None = None,
) -> User:
    """Create an account; unless the address is already proven, e-mail a link after commit.

    `is_email_verified` is for callers that already proved the address, such as an opened
    invitation link.
    """
    email = canonical_email(email)
    name = clean_person_name(name)
    check_email_free(email=email)
    user = User.objects.create_user(
        email=email,
        password=password,
        name=name,
        language=language,
        email_verified_at=timezone.now() if is_email_verified else None,
    )
    record_security_event(
        action=SecurityEvent.Action.SIGNED_UP,
        user=user,
        request=request,
        data={"email_verified": is_email_verified},
    )
    if not is_email_verified:
        send_verification_email(user=user, request=request)
    return user


def set_language(*, user: User, language: str) -> None:
    """Remember the person's interface language on their account."""
    User.objects.filter(pk=user.pk).update(language=language)


def resend_verification_email(*, user: User, request: HttpRequest | None = None) -> bool:
    """Queue the verification link again unless one went out in the last minute; tell if so."""
    if not cache.add(f"accounts:verification-sent:{user.pk}", 1, VERIFICATION_RESEND_SECONDS):
        return False
    # Nothing to commit first: queue it now.
    tasks.send_account_email.delay(*_verification_email(user=user, request=request))
    return True


def make_verification_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=_VERIFY_SALT)


def _verification_email(*, user: User, request: HttpRequest | None) -> tuple[str, str, str, str]:
    """Return subject, body, sender and recipient of the e-mail that verifies the address."""
    path = reverse("accounts:verify-email", args=[make_verification_token(user)])
    link = request.build_absolute_uri(path) if request else path
    with translation.override(user.language or translation.get_language()):
        subject = str(_("Verify your e-mail address for camfleet"))
        body = render_to_string("accounts/emails/verify_email.txt", {"user": user, "link": link})
    return subject, body, settings.DEFAULT_FROM_EMAIL, user.email


def send_verification_email(*, user: User, request: HttpRequest | None = None) -> None:
    """Queue an e-mail with a link that proves the person owns the address (valid a few days).

    A worker sends it after commit, with retries: a refused address never fails the request.
    """
    tasks.send_account_email.delay_on_commit(*_verification_email(user=user, request=request))


@transaction.atomic
def verify_email(*, token: str, request: HttpRequest | None = None) -> User:
    """Mark the account's address verified; idempotent for an already verified account."""
    max_age = settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        payload = signing.loads(token, salt=_VERIFY_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise Invalid(
            "link_expired", _("This verification link has expired. Sign in to get a new one.")
        ) from None
    except signing.BadSignature:
        raise Invalid("link_invalid", _("This verification link is not valid.")) from None
    user = (
        User.objects.select_for_update().filter(pk=payload["user"], email=payload["email"]).first()
    )
    if user is None:
        raise NotFound("link_invalid", _("This verification link is not valid."))
    if not user.is_email_verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        record_security_event(
            action=SecurityEvent.Action.EMAIL_VERIFIED, user=user, request=request
        )
    return user


def _renew_security_stamp(user: User) -> None:
    """Sign out every other browser of the account (call inside a transaction).

    The stamp is part of the session hash (User._get_session_auth_hash); the caller keeps its
    own session with update_session_auth_hash. A browser signed in before the person added a
    factor, perhaps with a stolen password, must not stay signed in without it.
    """
    user.security_stamp = secrets.token_hex(16)
    User.objects.filter(pk=user.pk).update(security_stamp=user.security_stamp)


@transaction.atomic
def start_totp_enrolment(*, user: User, device_id: int | None = None) -> TOTPDevice:
    """Return the pending authenticator app `device_id`, or a new one with a fresh secret.

    A pending device belongs to the browser that started it (the caller keeps its id in the
    session). Starting anew deletes the account's other pending apps: a secret that another
    browser has seen must never become the account's factor.
    """
    pending = TOTPDevice.objects.filter(user=user, confirmed=False)
    if device_id is not None and (device := pending.filter(pk=device_id).first()) is not None:
        return device
    pending.delete()
    return TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)


@transaction.atomic
def confirm_totp(
    *, user: User, device_id: int, token: str, request: HttpRequest | None = None
) -> TOTPDevice:
    """Confirm a pending authenticator app with a current code from it."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, pk=device_id, confirmed=False)
        .first()
    )
    if device is None:
        raise NotFound("no_pending_device", _("Start the enrolment again."))
    if not device.verify_token(token.strip()):
        raise Invalid(
            "wrong_code",
            _("That code is not correct. Check the clock of your phone and try again."),
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _renew_security_stamp(user)
    record_security_event(
        action=SecurityEvent.Action.MFA_ADDED,
        user=user,
        request=request,
        data={"kind": "totp", "device": device.pk},
    )
    return device


def send_email_code(*, device: EmailDevice) -> int:
    """E-mail a fresh code to `device`; return 0, or the seconds to wait when one went out lately.

    django-otp's cooldown (OTP_EMAIL_COOLDOWN_DURATION) is the limit; this only reads it so
    the page can say how long to wait instead of claiming a message was sent.
    """
    is_allowed, details = device.generate_is_allowed()
    if not is_allowed:
        next_at = (details or {}).get("next_generation_at")
        return max(1, int((next_at - timezone.now()).total_seconds())) if next_at else 60
    device.cooldown_set(commit=False)
    device.generate_token(valid_secs=settings.OTP_EMAIL_TOKEN_VALIDITY, commit=True)
    # From a worker, like every other mail: a refused address must not fail the page. The
    # message carries the code itself, so the worker reads nothing that needs a commit first.
    tasks.send_account_email.delay(*_email_code_message(device=device))
    return 0


def _email_code_message(*, device: EmailDevice) -> tuple[str, str, str, str]:
    """Return subject, body, sender and recipient of the e-mail that carries a fresh code."""
    user = device.user
    with translation.override(user.language or translation.get_language()):
        subject = str(_("Your camfleet sign-in code"))
        body = render_to_string(
            "accounts/emails/sign_in_code.txt",
            {
                "user": user,
                "code": device.token,
                "minutes": settings.OTP_EMAIL_TOKEN_VALIDITY // 60,
            },
        )
    return subject, body, settings.DEFAULT_FROM_EMAIL, device.email or user.email


def start_email_enrolment(*, user: User) -> int:
    """Create (or reuse) the pending e-mail device and send it a code, as `send_email_code`."""
    with transaction.atomic():
        device = EmailDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = EmailDevice.objects.create(
                user=user, name=str(_("E-mail codes")), confirmed=False
            )
    return send_email_code(device=device)


@transaction.atomic
def confirm_email_device(
    *, user: User, token: str, request: HttpRequest | None = None
) -> EmailDevice:
    """Confirm the pending e-mail device with the code that was sent to it."""
    device = EmailDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise NotFound("no_pending_device", _("Start the enrolment again."))
    if not device.verify_token(token.strip()):
        raise Invalid("wrong_code", _("That code is not correct or has expired."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _renew_security_stamp(user)
    record_security_event(
        action=SecurityEvent.Action.MFA_ADDED,
        user=user,
        request=request,
        data={"kind": "email", "device": device.pk},
    )
    return device


@transaction.atomic
def create_backup_codes(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Replace the account's backup codes with new one-time codes and return them (shown once)."""
    if not selectors.has_mfa(user):
        raise Conflict("mfa_required", _("Add an authenticator app or e-mail codes first."))
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": str(_("Backup codes")), "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**8):08d}" for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    record_security_event(
        action=SecurityEvent.Action.BACKUP_CODES_CREATED, user=user, request=request
    )
    return codes


_DEVICE_MODELS = {"totp": TOTPDevice, "email": EmailDevice, "static": StaticDevice}


@transaction.atomic
def remove_mfa_device(
    *, user: User, kind: str, device_id: int, password: str, request: HttpRequest | None = None
) -> None:
    """Remove one second factor after the password was given again.

    Removing the last app or e-mail factor also removes the backup codes: they alone are no
    second factor.
    """
    model = _DEVICE_MODELS.get(kind)
    device = model.objects.filter(user=user, pk=device_id).first() if model else None
    if device is None:
        raise NotFound("device_not_found", _("This second factor does not exist."))
    if not user.check_password(password):
        raise Invalid("wrong_password", _("The password is not correct."), {"password": ["wrong"]})
    device.delete()
    if not selectors.has_mfa(user):
        StaticDevice.objects.filter(user=user).delete()
    _renew_security_stamp(user)
    record_security_event(
        action=SecurityEvent.Action.MFA_REMOVED,
        user=user,
        request=request,
        data={"kind": kind, "device": device_id},
    )
