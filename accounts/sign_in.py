"""The two-step sign-in kept in the session: password, then (if the account has one) a factor.

Between the steps the session remembers the account that gave the right password (a pending
sign-in); completing it signs in, records the event, and forgets that account's failed
attempts from this client address only.
"""

import time
from collections.abc import Callable
from functools import wraps

from axes.utils import reset as reset_attempts
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device

from accounts import selectors, services
from accounts.middleware import LANGUAGE_SESSION_KEY
from accounts.models import SecurityEvent, User, canonical_email
from common.http import client_address

PENDING_USER_KEY = "camfleet_pending_user"
PENDING_NEXT_KEY = "camfleet_pending_next"
# Between the password and the code: long enough to open an app or a mailbox, short enough
# that a browser left on the code page is not half signed in for the rest of the day.
PENDING_MAX_AGE_SECONDS = 5 * 60


def axes_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """Return the account django-axes counts a failure against (AXES_USERNAME_CALLABLE).

    Without this, "Ann@Example.com" and "ann@example.com " would be two throttles for one account.
    """
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username", "")
    return canonical_email(str(username or "")).replace("\x00", "")[:255]


def safe_next_url(request: HttpRequest, candidate: str | None) -> str:
    """Return `candidate` if it stays on this site, else the page after sign-in."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def start_pending_sign_in(request: HttpRequest, *, user: User, next_url: str | None) -> None:
    """Remember that `user` gave the right password and owes a second factor."""
    # A fresh key: a session id planted before the password step learns nothing (fixation).
    request.session.cycle_key()
    request.session[PENDING_USER_KEY] = {
        "user": user.pk,
        # A password changed meanwhile (reset by the owner) ends the pending sign-in.
        "hash": user.get_session_auth_hash(),
        "started_at": time.time(),
    }
    request.session[PENDING_NEXT_KEY] = next_url


def end_pending_sign_in(request: HttpRequest) -> None:
    """Forget the account waiting for its second factor, if any."""
    request.session.pop(PENDING_USER_KEY, None)
    request.session.pop(PENDING_NEXT_KEY, None)


def pending_user(request: HttpRequest) -> User | None:
    """Return the account waiting for its second factor, or None (ended, expired, changed)."""
    pending = request.session.get(PENDING_USER_KEY)
    if not isinstance(pending, dict):
        end_pending_sign_in(request)
        return None
    user = None
    if time.time() - float(pending.get("started_at", 0)) <= PENDING_MAX_AGE_SECONDS:
        user = selectors.get_account(pending.get("user"), active_only=True)
    if user is None or not constant_time_compare(
        str(pending.get("hash", "")), user.get_session_auth_hash()
    ):
        end_pending_sign_in(request)
        return None
    return user


def complete_sign_in(
    request: HttpRequest, *, user: User, device: Device | None = None, next_url: str | None = None
) -> HttpResponseRedirect:
    """Sign `user` in (verified by `device`, if given) and redirect to where they were headed.

    Without `next_url`, go where the pending sign-in was headed.
    """
    if next_url is None:
        next_url = request.session.get(PENDING_NEXT_KEY)
    end_pending_sign_in(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    if user.language:
        request.session[LANGUAGE_SESSION_KEY] = user.language
    _forget_failures(request, user)
    services.record_security_event(
        action=SecurityEvent.Action.SIGNED_IN,
        user=user,
        request=request,
        data={"mfa": device.persistent_id if device is not None else None},
    )
    return redirect(safe_next_url(request, next_url))


def _forget_failures(request: HttpRequest, user: User) -> None:
    # Only this account's failures from this address: anyone else's from here still count, or
    # signing in to one's own account between guesses would allow unlimited guesses.
    address = client_address(request)
    if address is not None:
        reset_attempts(ip=address, username=axes_username(request, {"username": user.email}))


def record_failed_sign_in(
    request: HttpRequest, *, email: str, action: str = SecurityEvent.Action.SIGN_IN_FAILED
) -> SecurityEvent:
    """Record a refused sign-in, on the account the typed address names if there is one.

    The person sees it on their Security page; the one who typed learns nothing either way.
    """
    email = axes_username(request, {"username": email})
    return services.record_security_event(
        action=action, user=selectors.get_account_by_email(email), email=email, request=request
    )


def second_factor_passed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in session that passed a second factor, if the account has one.

    A browser signed in before the person enrolled (or with a stolen password before that)
    must not add its own authenticator, replace backup codes, remove factors or change the
    password: that would undo the protection the person just added.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if selectors.has_mfa(request.user) and not request.user.is_verified():
            messages.warning(
                request,
                _(
                    "To change your security settings, sign out and sign in again with "
                    "your second factor."
                ),
            )
            return redirect("accounts:security")
        return view(request, *args, **kwargs)

    return wrapper
