import re
from urllib.parse import unquote

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import SecurityEvent, User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _totp_device(user, **kwargs) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True, **kwargs)


def _code(device: TOTPDevice, offset: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    return f"{value:06d}"


def _sign_in(client, user, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": password})


def test_sign_up_sends_a_verification_link_that_signs_the_new_account_in(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:sign-up"),
            {"name": "Ann", "email": "Ann@Example.com", "password": "long-enough-pass-42"},
        )
    assert response.status_code == 302
    assert response.url == reverse("accounts:verify-pending")
    user = User.objects.get(email="ann@example.com")
    assert not user.is_email_verified
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link)
    assert response.url == reverse("accounts:security")
    user.refresh_from_db()
    assert user.is_email_verified
    assert client.get(reverse("dashboard")).status_code == 200


def test_sign_up_refuses_a_taken_address_and_a_weak_password(client, user):
    response = client.post(
        reverse("accounts:sign-up"), {"email": user.email.upper(), "password": "12345678901"}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert "entirely numeric" in response.content.decode()
    assert User.objects.count() == 1


def test_a_forged_verification_link_is_refused(client, user):
    user.email_verified_at = None
    user.save()
    response = client.get(reverse("accounts:verify-email", args=["not-a-token"]), follow=True)
    assert "not valid" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_email_verified


def test_unverified_account_cannot_sign_in_until_it_verifies(client, user):
    user.email_verified_at = None
    user.save()
    response = _sign_in(client, user)
    assert response.url == reverse("accounts:verify-pending")
    assert client.get(reverse("dashboard")).status_code == 302


def test_sign_in_without_mfa_reaches_the_dashboard_and_is_recorded(client, user):
    response = _sign_in(client, user)
    assert response.url == reverse("dashboard")
    assert SecurityEvent.objects.filter(user=user, action=SecurityEvent.Action.SIGNED_IN).exists()


def test_wrong_password_is_refused_and_recorded(client, user):
    response = _sign_in(client, user, password="wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert SecurityEvent.objects.filter(
        email=user.email, action=SecurityEvent.Action.SIGN_IN_FAILED
    ).exists()


def test_account_with_totp_must_give_a_code_and_a_used_code_is_refused(client, user):
    device = _totp_device(user)
    response = _sign_in(client, user)
    assert response.url == reverse("accounts:sign-in-mfa")
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in yet
    code = _code(device)
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": code})
    assert response.url == reverse("dashboard")
    client.post(reverse("accounts:logout"))

    _sign_in(client, user)
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": code})
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert SecurityEvent.objects.filter(user=user, action=SecurityEvent.Action.MFA_FAILED).exists()


def test_backup_code_works_once(client, user):
    _totp_device(user)
    codes = services.create_backup_codes(user=user)
    _sign_in(client, user)
    assert client.post(reverse("accounts:sign-in-mfa"), {"token": codes[0]}).url == reverse(
        "dashboard"
    )
    client.post(reverse("accounts:logout"))
    _sign_in(client, user)
    assert client.post(reverse("accounts:sign-in-mfa"), {"token": codes[0]}).status_code == 200
    assert StaticDevice.objects.get(user=user).token_set.count() == len(codes) - 1


def test_email_code_signs_in(client, user):
    services.start_email_enrolment(user=user)
    code = re.search(r"\d{6}", mail.outbox[-1].body).group(0)
    services.confirm_email_device(user=user, token=code)
    _sign_in(client, user)
    client.post(reverse("accounts:sign-in-email-code"))
    code = re.search(r"\d{6}", mail.outbox[-1].body).group(0)
    assert client.post(reverse("accounts:sign-in-mfa"), {"token": code}).url == reverse("dashboard")


def test_totp_enrolment_needs_a_correct_code(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:enrol-totp")).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        reverse("accounts:enrol-totp"),
        {"token": "000000" if _code(device) != "000000" else "111111"},
    )
    assert "not correct" in response.content.decode()
    response = client.post(reverse("accounts:enrol-totp"), {"token": _code(device)})
    assert response.url == reverse("accounts:backup-codes")
    device.refresh_from_db()
    assert device.confirmed
    assert SecurityEvent.objects.filter(user=user, action=SecurityEvent.Action.MFA_ADDED).exists()


def test_removing_a_factor_requires_the_password(client, user):
    device = _totp_device(user)
    _sign_in(client, user)
    client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    url = reverse("accounts:remove-device", args=["totp", device.pk])
    response = client.post(url, {"password": "wrong"})
    assert "not correct" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    response = client.post(url, {"password": PASSWORD})
    assert response.url == reverse("accounts:security")
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_someone_elses_factor_cannot_be_removed(client, user):
    other_device = _totp_device(UserFactory())
    client.force_login(user)
    url = reverse("accounts:remove-device", args=["totp", other_device.pk])
    client.post(url, {"password": PASSWORD})
    assert TOTPDevice.objects.filter(pk=other_device.pk).exists()


def test_repeated_failures_lock_the_account_with_a_retry_time(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, user, password="wrong-password")
    response = _sign_in(client, user)  # even the right password is refused now
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    assert SecurityEvent.objects.filter(action=SecurityEvent.Action.LOCKED_OUT).exists()


def test_failures_from_one_address_lock_that_address_for_other_accounts(client, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"), {"username": f"nobody{index}@example.com", "password": "x"}
        )
    response = _sign_in(client, UserFactory())
    assert response.status_code == 429


def test_password_reset_by_email(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password-reset"), {"email": user.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body
    ).group(1)
    response = client.get(link, follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"},
    )
    assert response.url == reverse("accounts:password-reset-complete")
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-77")


def test_admin_needs_a_verified_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 302  # signed in, but no MFA
    client.logout()
    device = _totp_device(staff)
    _sign_in(client, staff)
    client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist") + "?q=example").status_code == 200


def test_language_switch_is_remembered_on_the_account(client, user):
    client.force_login(user)
    client.post(reverse("accounts:set-language"), {"language": "ja", "next": "/dashboard/"})
    user.refresh_from_db()
    assert user.language == "ja"
    response = client.get(reverse("dashboard"))
    assert response["Content-Language"] == "ja"


def test_unknown_language_is_ignored(client, user):
    client.force_login(user)
    client.post(reverse("accounts:set-language"), {"language": "xx"})
    user.refresh_from_db()
    assert user.language == ""


def test_open_redirect_after_sign_in_is_refused(client, user):
    response = client.post(
        reverse("accounts:login") + "?next=https://evil.example/",
        {"username": user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.url == reverse("dashboard")


def test_totp_enrolment_shows_a_qr_code_an_img_can_display(client, user):
    client.force_login(user)
    page = client.get(reverse("accounts:enrol-totp")).content.decode()
    source = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page).group(1)
    svg = unquote(source.split(",", 1)[1])
    # Without the namespace an <img> shows nothing.
    assert re.search(r"<svg xmlns=[\"']http://www.w3.org/2000/svg[\"']", svg)


def test_profile_offers_the_browser_default_language_and_only_real_places(client, user):
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Browser default" in page
    assert "---------" not in page
    assert '<option value="Asia/Tokyo">' in page  # labelled "Tokyo (UTC+09:00)" under Asia
    assert ">Factory<" not in page
    assert ">localtime<" not in page


def test_password_change_asks_for_the_current_password(client, user):
    client.force_login(user)
    assert "Current password" in client.get(reverse("accounts:password-change")).content.decode()
