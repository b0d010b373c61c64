"""Account pages: sign-up, two-step sign-in, e-mail verification, MFA, profile."""

import base64
import time
from collections.abc import Callable
from functools import wraps

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from accounts import selectors, services
from accounts.forms import (
    CodeForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    ProfileForm,
    SecondFactorForm,
    SignInForm,
    SignUpForm,
)
from accounts.middleware import LANGUAGE_SESSION_KEY
from accounts.models import SecurityEvent, User
from common.errors import DomainError

PENDING_USER_KEY = "camfleet_pending_user"
PENDING_NEXT_KEY = "camfleet_pending_next"
SIGNUP_USER_KEY = "camfleet_signup_user"
TOTP_ENROLMENT_KEY = "camfleet_totp_enrolment"
# Between the password and the code: long enough to open an app or a mailbox, short enough
# that a browser left on the code page is not half signed in for the rest of the day.
PENDING_MAX_AGE_SECONDS = 5 * 60


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _start_pending_sign_in(request: HttpRequest, user: User, next_url: str | None) -> None:
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


def _end_pending_sign_in(request: HttpRequest) -> None:
    request.session.pop(PENDING_USER_KEY, None)
    request.session.pop(PENDING_NEXT_KEY, None)


def _pending_user(request: HttpRequest) -> User | None:
    """Return the account waiting for its second factor, or None (ended, expired, changed)."""
    pending = request.session.get(PENDING_USER_KEY)
    if not isinstance(pending, dict):
        _end_pending_sign_in(request)
        return None
    user = None
    if time.time() - float(pending.get("started_at", 0)) <= PENDING_MAX_AGE_SECONDS:
        user = selectors.get_account(pending.get("user"), active_only=True)
    if user is None or not constant_time_compare(
        str(pending.get("hash", "")), user.get_session_auth_hash()
    ):
        _end_pending_sign_in(request)
        return None
    return user


def _second_factor_passed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in session that passed a second factor, if the account has one.

    A browser signed in before the person enrolled (or with a stolen password before that)
    must not add its own authenticator, replace backup codes, remove factors or change the
    password: that would undo the protection the person just added.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if services.has_mfa(request.user) and not request.user.is_verified():
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


def _complete_sign_in(request: HttpRequest, user: User, device=None) -> HttpResponseRedirect:
    next_url = request.session.get(PENDING_NEXT_KEY)
    _end_pending_sign_in(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    if user.language:
        request.session[LANGUAGE_SESSION_KEY] = user.language
    services.record_security_event(
        action=SecurityEvent.Action.SIGNED_IN,
        user=user,
        request=request,
        data={"mfa": device.persistent_id if device is not None else None},
    )
    return redirect(_safe_next(request, next_url))


def sign_in(request: HttpRequest) -> HttpResponse:
    """Step one: e-mail and password; a second step follows when the account has MFA."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next")))
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST":
        # A new attempt ends any earlier half-finished one, whoever it was for.
        _end_pending_sign_in(request)
        if form.is_valid():
            user = form.get_user()
            if not user.is_email_verified:
                request.session[SIGNUP_USER_KEY] = user.pk
                return redirect("accounts:verify-pending")
            next_url = request.POST.get("next") or request.GET.get("next")
            if services.has_mfa(user):
                _start_pending_sign_in(request, user, next_url)
                return redirect("accounts:sign-in-mfa")
            request.session[PENDING_NEXT_KEY] = next_url
            return _complete_sign_in(request, user)
        services.record_security_event(
            action=SecurityEvent.Action.SIGN_IN_FAILED,
            email=request.POST.get("username", ""),
            request=request,
        )
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


def sign_in_mfa(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app, e-mail, or a backup code.

    Wrong codes count as failed sign-ins of the account and the address in django-axes, so
    one lockout with a retry time covers both steps. django-otp's throttle alone is per
    device, says nothing to the person, and does not stop the password step.
    """
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    credentials = {"username": user.email}
    if AxesProxyHandler.is_locked(request, credentials):
        _end_pending_sign_in(request)
        return lockout(request, credentials)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # django-otp refuses every code unchecked for 1, 2, 4 … seconds after a wrong one;
        # say so rather than call a right code wrong. It still counts as an attempt.
        wait_seconds = selectors.second_factor_wait_seconds(user)
        # match_token tries every confirmed device (locked for update); each refuses a code
        # that was used before.
        device = None if wait_seconds else match_token(user, form.cleaned_data["token"].strip())
        if device is not None:
            return _complete_sign_in(request, user, device)
        services.record_security_event(
            action=SecurityEvent.Action.MFA_FAILED, user=user, request=request
        )
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            # AxesMiddleware answers with the lockout page; the password is needed again.
            _end_pending_sign_in(request)
            return redirect("accounts:login")
        if wait_seconds:
            message = ngettext(
                "After a wrong code, wait %(seconds)d second before the next one.",
                "After a wrong code, wait %(seconds)d seconds before the next one.",
                wait_seconds,
            ) % {"seconds": wait_seconds}
        else:
            message = _("That code is not correct, has expired or was already used.")
        form.add_error("token", message)
    has_email = selectors.confirmed_email_device(user) is not None
    return render(request, "accounts/sign_in_mfa.html", {"form": form, "has_email": has_email})


@require_POST
def send_email_code(request: HttpRequest) -> HttpResponse:
    """Send a sign-in code to the pending account's confirmed e-mail device (once a minute)."""
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    device = selectors.confirmed_email_device(user)
    if device is not None:
        _tell_email_code_result(request, services.send_email_code(device=device))
    return redirect("accounts:sign-in-mfa")


def _tell_email_code_result(request: HttpRequest, wait_seconds: int) -> None:
    if wait_seconds:
        messages.warning(
            request,
            _("Wait %(seconds)d seconds before asking for another code.")
            % {"seconds": wait_seconds},
        )
    else:
        messages.info(request, _("We sent a code to your e-mail address."))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.record_security_event(
            action=SecurityEvent.Action.SIGNED_OUT, user=request.user, request=request
        )
    language = request.session.get(LANGUAGE_SESSION_KEY)
    logout(request)
    if language:
        request.session[LANGUAGE_SESSION_KEY] = language
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
                language=request.LANGUAGE_CODE,
                request=request,
            )
        except DomainError as error:
            form.add_error("email", str(error.message))
        else:
            request.session[SIGNUP_USER_KEY] = user.pk
            return redirect("accounts:verify-pending")
    return render(request, "accounts/sign_up.html", {"form": form})


def verify_pending(request: HttpRequest) -> HttpResponse:
    """Tell the person to open the link we sent, with a button to send it again."""
    user = selectors.get_account(request.session.get(SIGNUP_USER_KEY))
    if user is None:
        return redirect("accounts:login")
    if request.method == "POST" and not user.is_email_verified:
        if services.resend_verification_email(user=user, request=request):
            messages.info(request, _("We sent the link again."))
        else:
            messages.warning(request, _("We sent a link less than a minute ago. Wait a moment."))
        return redirect("accounts:verify-pending")
    return render(request, "accounts/verify_pending.html", {"pending_user": user})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    signing_up = selectors.get_account(request.session.get(SIGNUP_USER_KEY), active_only=True)
    # Only the click that verifies the address signs in: the link stays valid for days and a
    # later click must not skip a password, or a second factor added meanwhile.
    was_unverified = signing_up is not None and not signing_up.is_email_verified
    try:
        user = services.verify_email(token=token, request=request)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("accounts:login")
    # The browser that signed up may continue signed in; any other browser signs in first.
    if (
        was_unverified
        and signing_up.pk == user.pk
        and user.is_active
        and not request.user.is_authenticated
    ):
        request.session.pop(SIGNUP_USER_KEY)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        services.record_security_event(
            action=SecurityEvent.Action.SIGNED_IN, user=user, request=request
        )
        messages.success(
            request,
            _("Your e-mail address is verified. Protect your account with a second factor."),
        )
        return redirect("accounts:security")
    messages.success(request, _("Your e-mail address is verified. You can sign in now."))
    return redirect("accounts:login")


def lockout(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    """Answer a throttled sign-in with the time to wait (called by django-axes)."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    email = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    services.record_security_event(
        action=SecurityEvent.Action.LOCKED_OUT,
        email=services.axes_username(request, {"username": email}),
        request=request,
    )
    message = (
        _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes}
        if minutes
        else _("Too many failed sign-ins. Ask an administrator to unlock the account.")
    )
    context = {"form": SignInForm(request), "lockout_message": message}
    return render(request, "accounts/sign_in.html", context, status=429)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """List the account's second factors with enrol and remove actions."""
    devices = services.confirmed_devices(request.user)
    rows = []
    for device in devices:
        kind = {"TOTPDevice": "totp", "EmailDevice": "email", "StaticDevice": "static"}[
            type(device).__name__
        ]
        remaining = device.token_set.count() if kind == "static" else None
        rows.append({"device": device, "kind": kind, "remaining": remaining})
    context = {
        "rows": rows,
        "has_mfa": services.has_mfa(request.user),
        "events": selectors.recent_security_events(request.user),
    }
    return render(request, "accounts/security.html", context)


def _qr_data_uri(text: str) -> str:
    # svg_data_uri keeps the SVG namespace that an <img> needs (svg_inline leaves it out).
    return segno.make(text, error="m").svg_data_uri(scale=5)


@_second_factor_passed
def enrol_totp(request: HttpRequest) -> HttpResponse:
    device = services.start_totp_enrolment(
        user=request.user, device_id=request.session.get(TOTP_ENROLMENT_KEY)
    )
    request.session[TOTP_ENROLMENT_KEY] = device.pk
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_totp(
                user=request.user,
                device_id=device.pk,
                token=form.cleaned_data["token"],
                request=request,
            )
        except DomainError as error:
            form.add_error("token", str(error.message))
        else:
            request.session.pop(TOTP_ENROLMENT_KEY, None)
            update_session_auth_hash(request, request.user)  # other browsers are signed out
            otp_login(request, device)
            messages.success(
                request, _("Authenticator app added. Keep these backup codes somewhere safe.")
            )
            return redirect("accounts:backup-codes")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/enrol_totp.html",
        {
            "form": form,
            "secret": secret,
            "qr": _qr_data_uri(device.config_url),
        },
    )


@_second_factor_passed
def enrol_email(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "send" in request.POST:
        wait_seconds = services.start_email_enrolment(user=request.user)
        if wait_seconds:
            _tell_email_code_result(request, wait_seconds)
        else:
            messages.info(
                request, _("We sent a code to %(email)s.") % {"email": request.user.email}
            )
        return redirect("accounts:enrol-email")
    if request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_email_device(
                user=request.user, token=form.cleaned_data["token"], request=request
            )
        except DomainError as error:
            form.add_error("token", str(error.message))
        else:
            update_session_auth_hash(request, request.user)  # other browsers are signed out
            otp_login(request, device)
            messages.success(request, _("E-mail codes added."))
            return redirect("accounts:security")
    return render(request, "accounts/enrol_email.html", {"form": form})


@_second_factor_passed
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Create a fresh set of backup codes and show them once."""
    if request.method == "POST" or not any(
        type(device).__name__ == "StaticDevice"
        for device in services.confirmed_devices(request.user)
    ):
        try:
            codes = services.create_backup_codes(user=request.user, request=request)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("accounts:security")
        return render(request, "accounts/backup_codes.html", {"codes": codes})
    return render(request, "accounts/backup_codes.html", {"codes": None})


@_second_factor_passed
def remove_device(request: HttpRequest, kind: str, device_id: int) -> HttpResponse:
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_mfa_device(
                user=request.user,
                kind=kind,
                device_id=device_id,
                password=form.cleaned_data["password"],
                request=request,
            )
        except DomainError as error:
            if error.http_status == 404:
                messages.error(request, str(error.message))
                return redirect("accounts:security")
            form.add_error("password", str(error.message))
        else:
            update_session_auth_hash(request, request.user)  # other browsers are signed out
            messages.success(request, _("The second factor was removed."))
            return redirect("accounts:security")
    return render(request, "accounts/remove_device.html", {"form": form, "kind": kind})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user.language:
            request.session[LANGUAGE_SESSION_KEY] = user.language
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language (remembered on the account when signed in)."""
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        request.session[LANGUAGE_SESSION_KEY] = language
        if request.user.is_authenticated:
            services.set_language(user=request.user, language=language)
    return redirect(_safe_next(request, request.POST.get("next")))


@method_decorator(_second_factor_passed, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_security_event(
            action=SecurityEvent.Action.PASSWORD_CHANGED,
            user=self.request.user,
            request=self.request,
        )
        messages.success(self.request, _("Your password was changed."))
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_security_event(
            action=SecurityEvent.Action.PASSWORD_RESET, user=form.user, request=self.request
        )
        return response
