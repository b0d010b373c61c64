"""Account pages: sign-up, two-step sign-in, e-mail verification, MFA, profile."""

import base64

import segno
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from accounts import selectors, services
from accounts.forms import (
    CodeForm,
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


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _complete_sign_in(request: HttpRequest, user: User, device=None) -> HttpResponseRedirect:
    next_url = request.session.pop(PENDING_NEXT_KEY, None)
    request.session.pop(PENDING_USER_KEY, None)
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
        if form.is_valid():
            user = form.get_user()
            if not user.is_email_verified:
                request.session[SIGNUP_USER_KEY] = user.pk
                return redirect("accounts:verify-pending")
            request.session[PENDING_NEXT_KEY] = request.POST.get("next") or request.GET.get("next")
            if services.has_mfa(user):
                request.session[PENDING_USER_KEY] = user.pk
                return redirect("accounts:sign-in-mfa")
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
    """Step two: a code from the authenticator app, e-mail, or a backup code."""
    user = selectors.get_account(request.session.get(PENDING_USER_KEY), active_only=True)
    if user is None:
        return redirect("accounts:login")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # match_token tries every confirmed device; each refuses a code that was used before.
        device = match_token(user, form.cleaned_data["token"].strip())
        if device is not None:
            return _complete_sign_in(request, user, device)
        services.record_security_event(
            action=SecurityEvent.Action.MFA_FAILED, user=user, request=request
        )
        form.add_error("token", _("That code is not correct, has expired or was already used."))
    has_email = selectors.confirmed_email_device(user) is not None
    return render(request, "accounts/sign_in_mfa.html", {"form": form, "has_email": has_email})


@require_POST
def send_email_code(request: HttpRequest) -> HttpResponse:
    """Send a sign-in code to the pending account's confirmed e-mail device."""
    user = selectors.get_account(request.session.get(PENDING_USER_KEY), active_only=True)
    if user is None:
        return redirect("accounts:login")
    device = selectors.confirmed_email_device(user)
    if device is not None:
        device.generate_challenge()
        messages.info(request, _("We sent a code to your e-mail address."))
    return redirect("accounts:sign-in-mfa")


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
        services.send_verification_email(user=user, request=request)
        messages.info(request, _("We sent the link again."))
        return redirect("accounts:verify-pending")
    return render(request, "accounts/verify_pending.html", {"pending_user": user})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.verify_email(token=token, request=request)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("accounts:login")
    # The browser that signed up may continue signed in; any other browser signs in first.
    if request.session.get(SIGNUP_USER_KEY) == user.pk and not request.user.is_authenticated:
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
        action=SecurityEvent.Action.LOCKED_OUT, email=email or "", request=request
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
    return render(
        request, "accounts/security.html", {"rows": rows, "has_mfa": services.has_mfa(request.user)}
    )


def _qr_data_uri(text: str) -> str:
    svg = segno.make(text, error="m").svg_inline(scale=5)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
def enrol_totp(request: HttpRequest) -> HttpResponse:
    device = services.start_totp_enrolment(user=request.user)
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


@login_required
def enrol_email(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "send" in request.POST:
        services.start_email_enrolment(user=request.user)
        messages.info(request, _("We sent a code to %(email)s.") % {"email": request.user.email})
        return redirect("accounts:enrol-email")
    if request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_email_device(
                user=request.user, token=form.cleaned_data["token"], request=request
            )
        except DomainError as error:
            form.add_error("token", str(error.message))
        else:
            otp_login(request, device)
            messages.success(request, _("E-mail codes added."))
            return redirect("accounts:security")
    return render(request, "accounts/enrol_email.html", {"form": form})


@login_required
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


@login_required
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


class PasswordChangeView(auth_views.PasswordChangeView):
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
