"""Account pages: sign-up, two-step sign-in, e-mail verification, MFA, profile."""

import base64
import math

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from accounts import selectors, services, throttling
from accounts.forms import (
    CodeForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    ProfileForm,
    SecondFactorForm,
    SetPasswordForm,
    SignInForm,
    SignUpForm,
)
from accounts.middleware import LANGUAGE_SESSION_KEY
from accounts.models import SecurityEvent
from accounts.sign_in import (
    complete_sign_in,
    end_pending_sign_in,
    pending_user,
    record_failed_sign_in,
    safe_next_url,
    second_factor_passed,
    start_pending_sign_in,
)
from common.errors import DomainError
from common.forms import apply_domain_error
from common.http import client_address

SIGNUP_USER_KEY = "camfleet_signup_user"
TOTP_ENROLMENT_KEY = "camfleet_totp_enrolment"


def sign_in(request: HttpRequest) -> HttpResponse:
    """Step one: e-mail and password; a second step follows when the account has MFA."""
    if request.user.is_authenticated:
        return redirect(safe_next_url(request, request.GET.get("next")))
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST":
        # A new attempt ends any earlier half-finished one, whoever it was for.
        end_pending_sign_in(request)
        if form.is_valid():
            user = form.get_user()
            if not user.is_email_verified:
                request.session[SIGNUP_USER_KEY] = user.pk
                return redirect("accounts:verify-pending")
            next_url = request.POST.get("next") or request.GET.get("next")
            if selectors.has_mfa(user):
                start_pending_sign_in(request, user=user, next_url=next_url)
                return redirect("accounts:sign-in-mfa")
            return complete_sign_in(request, user=user, next_url=next_url)
        record_failed_sign_in(request, email=request.POST.get("username", ""))
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


def sign_in_mfa(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app, e-mail, or a backup code.

    Wrong codes count as failed sign-ins of the account and the address in django-axes, so
    one lockout with a retry time covers both steps. django-otp's throttle alone is per
    device, says nothing to the person, and does not stop the password step.
    """
    user = pending_user(request)
    if user is None:
        return redirect("accounts:login")
    credentials = {"username": user.email}
    if AxesProxyHandler.is_locked(request, credentials):
        end_pending_sign_in(request)
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
            return complete_sign_in(request, user=user, device=device)
        services.record_security_event(
            action=SecurityEvent.Action.MFA_FAILED, user=user, request=request
        )
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            # AxesMiddleware answers with the lockout page; the password is needed again.
            end_pending_sign_in(request)
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
    user = pending_user(request)
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
    if request.method == "POST":
        wait_seconds = throttling.count_sign_up_attempt(
            email=request.POST.get("email", ""), address=client_address(request)
        )
        if wait_seconds:
            # Not even validated: a refusal would tell whether the address has an account.
            minutes = math.ceil(wait_seconds / 60)
            message = ngettext(
                "Too many sign-up attempts. Try again in %(minutes)d minute.",
                "Too many sign-up attempts. Try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
            initial = {"email": request.POST.get("email", ""), "name": request.POST.get("name", "")}
            context = {"form": SignUpForm(initial=initial), "throttle_message": message}
            return render(request, "accounts/sign_up.html", context, status=429)
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
            apply_domain_error(form, error, "email")
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
    record_failed_sign_in(request, email=email, action=SecurityEvent.Action.LOCKED_OUT)
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
    devices = selectors.confirmed_devices(request.user)
    rows = []
    for device in devices:
        kind = {"TOTPDevice": "totp", "EmailDevice": "email", "StaticDevice": "static"}[
            type(device).__name__
        ]
        remaining = device.token_set.count() if kind == "static" else None
        rows.append({"device": device, "kind": kind, "remaining": remaining})
    context = {
        "rows": rows,
        "has_mfa": selectors.has_mfa(request.user),
        "events": selectors.recent_security_events(request.user),
    }
    return render(request, "accounts/security.html", context)


def _qr_data_uri(text: str) -> str:
    # svg_data_uri keeps the SVG namespace that an <img> needs (svg_inline leaves it out).
    return segno.make(text, error="m").svg_data_uri(scale=5)


@second_factor_passed
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
            apply_domain_error(form, error, "token")
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


@second_factor_passed
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
            apply_domain_error(form, error, "token")
        else:
            update_session_auth_hash(request, request.user)  # other browsers are signed out
            otp_login(request, device)
            messages.success(request, _("E-mail codes added."))
            return redirect("accounts:security")
    return render(request, "accounts/enrol_email.html", {"form": form})


@second_factor_passed
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Create a fresh set of backup codes and show them once."""
    if request.method == "POST" or not any(
        type(device).__name__ == "StaticDevice"
        for device in selectors.confirmed_devices(request.user)
    ):
        try:
            codes = services.create_backup_codes(user=request.user, request=request)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("accounts:security")
        return render(request, "accounts/backup_codes.html", {"codes": codes})
    return render(request, "accounts/backup_codes.html", {"codes": None})


@second_factor_passed
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
    return redirect(safe_next_url(request, request.POST.get("next")))


@method_decorator(second_factor_passed, name="dispatch")
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
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_security_event(
            action=SecurityEvent.Action.PASSWORD_RESET, user=form.user, request=self.request
        )
        return response
