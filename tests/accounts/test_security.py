"""Sign-in and MFA reviewed like an attacker: each test is one way in that must stay shut."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp import match_token
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import SecurityEvent, User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def _code(device: TOTPDevice) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:06d}"


def _wrong_code(device: TOTPDevice) -> str:
    return "000000" if _code(device) != "000000" else "111111"


def _sign_in(client, email, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **extra
    )


# --- The second step ---------------------------------------------------------------------


def test_wrong_codes_lock_the_account_with_a_retry_time_and_end_the_pending_sign_in(
    client, user, settings
):
    device = _totp_device(user)
    _sign_in(client, user.email)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("accounts:sign-in-mfa"), {"token": _wrong_code(device)})
        assert response.status_code == 200
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _wrong_code(device)})
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    # The pending sign-in is gone: even the right code needs the password again, which is locked.
    assert client.get(reverse("accounts:sign-in-mfa")).url == reverse("accounts:login")
    assert _sign_in(client, user.email).status_code == 429
    assert SecurityEvent.objects.filter(action=SecurityEvent.Action.LOCKED_OUT).exists()


def test_backup_codes_are_throttled_like_every_other_code(client, user, settings):
    _totp_device(user)
    codes = services.create_backup_codes(user=user)
    _sign_in(client, user.email)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:sign-in-mfa"), {"token": "12345678"})
    assert _sign_in(client, user.email).status_code == 429
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": codes[0]})
    assert response.url == reverse("accounts:login")
    assert StaticDevice.objects.get(user=user).token_set.count() == len(codes)


def test_a_code_sent_too_soon_after_a_wrong_one_is_answered_with_the_wait(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    with time_machine.travel(timezone.now(), tick=False):
        client.post(reverse("accounts:sign-in-mfa"), {"token": _wrong_code(device)})
        response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.status_code == 200
    assert "After a wrong code, wait 1 second before the next one." in response.content.decode()
    # The code was not checked, so it is still good a moment later.
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("dashboard")


def test_wrong_codes_are_not_written_down(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    wrong = _wrong_code(device)
    client.post(reverse("accounts:sign-in-mfa"), {"token": wrong})
    stored = [attempt.post_data for attempt in AccessAttempt.objects.all()]
    stored += [str(event.data) for event in SecurityEvent.objects.all()]
    assert stored
    assert not any(wrong in text for text in stored)
    assert not any(PASSWORD in text for text in stored)
    assert not AccessFailureLog.objects.filter(username__contains=wrong).exists()


def test_an_email_code_works_once_and_expires(client, user):
    services.start_email_enrolment(user=user)
    services.confirm_email_device(user=user, token=re.search(r"\d{6}", mail.outbox[-1].body)[0])
    _sign_in(client, user.email)
    client.post(reverse("accounts:sign-in-email-code"))
    code = re.search(r"\d{6}", mail.outbox[-1].body)[0]
    assert client.post(reverse("accounts:sign-in-mfa"), {"token": code}).status_code == 302
    client.post(reverse("accounts:logout"))
    _sign_in(client, user.email)
    assert client.post(reverse("accounts:sign-in-mfa"), {"token": code}).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client.post(reverse("accounts:sign-in-email-code"))
        code = re.search(r"\d{6}", mail.outbox[-1].body)[0]
    with time_machine.travel(timezone.now() + timedelta(minutes=13)):
        _sign_in(client, user.email)
        assert client.post(reverse("accounts:sign-in-mfa"), {"token": code}).status_code == 200


def test_sending_a_code_by_email_waits_a_minute_between_messages_and_says_so(client, user):
    services.start_email_enrolment(user=user)
    services.confirm_email_device(user=user, token=re.search(r"\d{6}", mail.outbox[-1].body)[0])
    _sign_in(client, user.email)
    sent = len(mail.outbox)
    client.post(reverse("accounts:sign-in-email-code"))
    response = client.post(reverse("accounts:sign-in-email-code"), follow=True)
    assert len(mail.outbox) == sent + 1
    assert "Wait" in response.content.decode()


# --- The half-signed-in session ------------------------------------------------------------


def test_the_password_step_gives_the_browser_a_new_session_key(client, user):
    _totp_device(user)
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    _sign_in(client, user.email)
    assert client.session.session_key != before


def test_a_pending_sign_in_expires_after_five_minutes(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_new_sign_in_attempt_drops_the_pending_account(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    _sign_in(client, UserFactory().email, password="wrong-password")
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_pending_sign_in_ends_when_the_password_changes(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    user.set_password("another-long-password-1")
    user.save()
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("accounts:login")


def test_a_pending_sign_in_reaches_no_page(client, user):
    _totp_device(user)
    _sign_in(client, user.email)
    for name in ("dashboard", "accounts:security", "accounts:enrol-totp", "accounts:profile"):
        assert client.get(reverse(name)).url.startswith(reverse("accounts:login"))


def test_next_survives_the_second_step_but_never_leaves_the_site(client, user):
    device = _totp_device(user)
    client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": PASSWORD, "next": "//evil.example/"},
    )
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("dashboard")


def test_a_verification_link_does_not_sign_in_once_the_address_was_verified(client, user):
    user.email_verified_at = None
    user.save()
    _sign_in(client, user.email)  # remembers the unverified account in this browser
    token = services.make_verification_token(user)
    services.verify_email(token=token)  # opened on the phone
    _totp_device(user)  # and then the person added a second factor
    client.get(reverse("accounts:verify-email", args=[token]))
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_verification_link_does_not_sign_in_a_disabled_account(client):
    client.post(
        reverse("accounts:sign-up"), {"email": "new@example.com", "password": "long-enough-pass-42"}
    )
    user = User.objects.get(email="new@example.com")
    user.is_active = False
    user.save()
    client.get(reverse("accounts:verify-email", args=[services.make_verification_token(user)]))
    assert not SecurityEvent.objects.filter(action=SecurityEvent.Action.SIGNED_IN).exists()
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_verification_link_is_sent_again_at_most_once_a_minute(client, user):
    user.email_verified_at = None
    user.save()
    _sign_in(client, user.email)
    for _ in range(3):
        client.post(reverse("accounts:verify-pending"))
    assert len(mail.outbox) == 1


# --- Sessions that did not pass the second factor ------------------------------------------


def test_a_session_without_the_second_factor_cannot_add_one(client, user):
    _totp_device(user)
    client.force_login(user)  # e.g. a browser signed in before the person enrolled
    response = client.get(reverse("accounts:enrol-totp"))
    assert response.url == reverse("accounts:security")
    client.post(reverse("accounts:enrol-email"), {"send": "1"})
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert mail.outbox == []


def test_a_session_without_the_second_factor_cannot_replace_backup_codes(client, user):
    _totp_device(user)
    codes = services.create_backup_codes(user=user)
    client.force_login(user)
    client.post(reverse("accounts:backup-codes"))
    assert set(StaticDevice.objects.get(user=user).token_set.values_list("token", flat=True)) == (
        set(codes)
    )


def test_a_session_without_the_second_factor_cannot_remove_one(client, user):
    device = _totp_device(user)
    client.force_login(user)
    client.post(reverse("accounts:remove-device", args=["totp", device.pk]), {"password": PASSWORD})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_session_without_the_second_factor_cannot_change_the_password(client, user):
    _totp_device(user)
    client.force_login(user)
    client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "brand-new-pass-77",
            "new_password2": "brand-new-pass-77",
        },
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_adding_a_second_factor_signs_out_every_other_browser(user):
    from django.test import Client

    earlier, enrolling = Client(), Client()
    earlier.force_login(user)  # e.g. someone who signed in with a stolen password
    enrolling.force_login(user)
    enrolling.get(reverse("accounts:enrol-totp"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    enrolling.post(reverse("accounts:enrol-totp"), {"token": _code(device)})
    assert earlier.get(reverse("dashboard")).status_code == 302
    assert enrolling.get(reverse("accounts:security")).status_code == 200
    # The enrolling browser passed the new factor and may go on changing settings.
    assert enrolling.get(reverse("accounts:backup-codes")).status_code == 200


def test_removing_a_second_factor_signs_out_every_other_browser(client, user):
    from django.test import Client

    device = _totp_device(user)
    other = Client()
    for browser in (client, other):
        _sign_in(browser, user.email)
        with time_machine.travel(timezone.now() + timedelta(seconds=30 * (browser is other))):
            browser.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert other.get(reverse("dashboard")).status_code == 200
    client.post(reverse("accounts:remove-device", args=["totp", device.pk]), {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert other.get(reverse("dashboard")).status_code == 302
    assert client.get(reverse("accounts:security")).status_code == 200


def test_an_authenticator_app_started_in_another_browser_does_not_share_its_secret(user):
    from django.test import Client

    intruder, owner = Client(), Client()
    intruder.force_login(user)
    intruder_secret = intruder.get(reverse("accounts:enrol-totp")).context["secret"]
    owner.force_login(user)
    owner_secret = owner.get(reverse("accounts:enrol-totp")).context["secret"]
    assert owner_secret != intruder_secret
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    owner.post(reverse("accounts:enrol-totp"), {"token": _code(device)})
    # The intruder's page can no longer confirm anything.
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()


# --- Throttling of the password step ---------------------------------------------------------


def test_case_and_space_variants_of_an_address_share_one_lockout(client, user, settings):
    variants = [user.email.upper(), user.email.title(), f" {user.email} ", user.email.swapcase()]
    variants += [user.email.capitalize()]
    for index, variant in enumerate(variants[: settings.AXES_FAILURE_LIMIT]):
        _sign_in(client, variant, password="wrong", REMOTE_ADDR=f"10.0.0.{index + 1}")
    response = _sign_in(client, user.email, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429


def test_a_lockout_reads_the_same_for_an_unknown_address(client, user, settings):
    def lockout_page(email: str, network: int) -> str:
        for index in range(settings.AXES_FAILURE_LIMIT + 1):
            response = _sign_in(client, email, "wrong", REMOTE_ADDR=f"10.{network}.0.{index}")
        assert response.status_code == 429
        page = response.content.decode().replace(email, "EMAIL")
        return re.sub(r"[A-Za-z0-9]{64}", "CSRF", page)  # the CSRF tokens differ, nothing else

    assert lockout_page(user.email, 1) == lockout_page("nobody@example.com", 2)


def test_a_disabled_account_reads_like_a_wrong_password(client, user):
    user.is_active = False
    user.save()
    response = _sign_in(client, user.email)
    assert "The e-mail address or password is not correct." in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_signing_in_to_ones_own_account_keeps_the_failures_against_another(client, user, settings):
    # Four guesses at someone else's password, then a sign-in of one's own account, repeated.
    attacker = UserFactory()
    for _ in range(10):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            _sign_in(client, user.email, password="a-guess")
        _sign_in(client, attacker.email)
        client.post(reverse("accounts:logout"))
    response = _sign_in(client, user.email)
    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_signing_in_to_ones_own_account_keeps_the_wrong_codes_against_another(
    client, user, settings
):
    device = _totp_device(user)  # the password is known, the second factor is guessed
    attacker = UserFactory()
    for _ in range(3):
        _sign_in(client, user.email)
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            client.post(reverse("accounts:sign-in-mfa"), {"token": _wrong_code(device)})
        _sign_in(client, attacker.email)
        client.post(reverse("accounts:logout"))
    assert _sign_in(client, user.email).status_code == 429


def test_a_sign_in_clears_the_earlier_failures_of_that_account(client, user, settings):
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            _sign_in(client, user.email, password="a-typo")
        assert _sign_in(client, user.email).url == reverse("dashboard")
        client.post(reverse("accounts:logout"))


def test_a_sign_in_with_a_second_factor_clears_the_earlier_wrong_codes(client, user, settings):
    device = _totp_device(user)
    _sign_in(client, user.email)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            client.post(reverse("accounts:sign-in-mfa"), {"token": _wrong_code(device)})
        clock.shift(timedelta(seconds=30))  # past django-otp's own wait after wrong codes
        response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("dashboard")
    assert not AccessAttempt.objects.filter(username=user.email).exists()


# --- Throttling of sign-up -------------------------------------------------------------------


NEW_PASSWORD = "a-long-new-password-7"


def _sign_up(client, email, password=NEW_PASSWORD, **extra):
    return client.post(reverse("accounts:sign-up"), {"email": email, "password": password}, **extra)


def test_sign_up_attempts_for_one_address_are_throttled_with_a_retry_time(client, user, settings):
    # Also from ever new client addresses: the address being signed up is its own throttle.
    for index in range(settings.SIGN_UP_ATTEMPTS_PER_EMAIL):
        response = _sign_up(client, user.email.upper(), REMOTE_ADDR=f"10.0.0.{index + 1}")
        assert response.status_code == 200
    response = _sign_up(client, "new@example.com", REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 302
    response = _sign_up(client, f" {user.email} ", REMOTE_ADDR="10.0.1.2")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many sign-up attempts. Try again in 15 minutes." in page
    # Throttled attempts learn nothing: not even whether the address has an account.
    assert "already exists" not in page


def test_sign_up_attempts_from_one_client_address_are_throttled(client, settings):
    for index in range(settings.SIGN_UP_ATTEMPTS_PER_ADDRESS):
        _sign_up(client, f"new{index}@example.com", password="short", REMOTE_ADDR="10.0.0.1")
    response = _sign_up(client, "another@example.com", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert "Too many sign-up attempts. Try again in 15 minutes." in response.content.decode()
    assert not User.objects.filter(email="another@example.com").exists()
    assert not mail.outbox
    assert _sign_up(client, "another@example.com", REMOTE_ADDR="10.0.0.2").status_code == 302


def test_sign_up_may_be_tried_again_once_the_wait_is_over(client, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(settings.SIGN_UP_ATTEMPTS_PER_EMAIL):
            _sign_up(client, "new@example.com", password="short")
        clock.shift(timedelta(minutes=14))
        assert "Try again in 1 minute." in _sign_up(client, "new@example.com").content.decode()
        clock.shift(timedelta(minutes=1, seconds=1))
        assert _sign_up(client, "new@example.com").status_code == 302


# --- Passwords -------------------------------------------------------------------------------


def test_changing_the_password_signs_out_other_browsers_only(client, user):
    from django.test import Client

    other = Client()
    other.force_login(user)
    client.force_login(user)
    client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "brand-new-pass-77",
            "new_password2": "brand-new-pass-77",
        },
    )
    assert client.get(reverse("dashboard")).status_code == 200
    assert other.get(reverse("dashboard")).status_code == 302
    event = SecurityEvent.objects.get(action=SecurityEvent.Action.PASSWORD_CHANGED)
    assert event.client_address == "127.0.0.1"


def test_password_reset_answers_the_same_for_an_unknown_address(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("accounts:password-reset"), {"email": user.email})
        unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert len(mail.outbox) == 1


def test_password_reset_sends_at_most_one_link_a_minute_to_an_address(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for variant in (user.email, user.email.upper(), user.email):
            response = client.post(reverse("accounts:password-reset"), {"email": variant})
            assert response.url == reverse("accounts:password-reset-done")
    assert len(mail.outbox) == 1


def test_password_reset_mail_leaves_after_the_answer(
    client, user, django_capture_on_commit_callbacks
):
    # Sent inside the request, an SMTP round trip would time a known address apart.
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("accounts:password-reset"), {"email": user.email})
    assert response.url == reverse("accounts:password-reset-done")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert user.email in mail.outbox[0].to


def test_signing_out_ends_a_pending_sign_in(client, user):
    device = _totp_device(user)
    _sign_in(client, user.email)
    client.post(reverse("accounts:logout"))
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("accounts:login")


def test_password_reset_signs_out_every_browser_and_is_recorded(
    client, user, django_capture_on_commit_callbacks
):
    from django.test import Client

    other = Client()
    other.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password-reset"), {"email": user.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]
    response = client.get(link, follow=True)
    client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"},
    )
    assert other.get(reverse("dashboard")).status_code == 302
    event = SecurityEvent.objects.get(action=SecurityEvent.Action.PASSWORD_RESET)
    assert event.client_address == "127.0.0.1"


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["per\x00son@example.com", "x" * 5000 + "@example.com", "not an address"]
)
def test_a_bad_address_on_the_sign_in_page_is_a_form_error(client, email):
    response = _sign_in(client, email)
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("email", ["a\x00b@example.com", "y" * 5000 + "@example.com"])
def test_a_bad_address_on_the_sign_up_page_is_a_form_error(client, email):
    response = client.post(
        reverse("accounts:sign-up"), {"email": email, "password": "long-enough-pass-42"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.exists()


def test_sign_up_with_a_variant_of_a_taken_address_is_refused(client, user):
    variant = f"  {user.email.upper()} "
    response = client.post(
        reverse("accounts:sign-up"), {"email": variant, "password": "long-enough-pass-42"}
    )
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_a_fullwidth_variant_of_an_address_signs_in_to_the_same_account(client, user):
    local, domain = user.email.split("@")
    fullwidth = local + "@" + "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in domain)
    response = _sign_in(client, fullwidth)
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("token", ["\x00123456", "9" * 5000])
def test_a_bad_code_is_a_form_error(client, user, token):
    _totp_device(user)
    _sign_in(client, user.email)
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": token})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]


# --- The person's own record -----------------------------------------------------------------


def test_security_page_shows_the_last_twenty_events_of_the_account_only(client, user):
    for index in range(25):
        services.record_security_event(
            action=SecurityEvent.Action.SIGN_IN_FAILED, user=user, data={"n": index}
        )
    SecurityEvent.objects.update(client_address="192.0.2.7")
    other = UserFactory()
    services.record_security_event(action=SecurityEvent.Action.MFA_REMOVED, user=other)
    client.force_login(user)
    response = client.get(reverse("accounts:security"))
    events = response.context["events"]
    assert len(events) == 20
    assert all(event.user_id == user.pk for event in events)
    page = response.content.decode()
    assert "Sign-in failed" in page
    assert "192.0.2.7" in page
    assert "Removed a second factor" not in page


def test_a_wrong_password_shows_on_the_security_page_of_the_account(client, user):
    _sign_in(client, user.email.upper(), password="a-guess", REMOTE_ADDR="192.0.2.44")
    client.force_login(user)
    response = client.get(reverse("accounts:security"))
    event = response.context["events"][0]
    assert (event.action, event.client_address) == (
        SecurityEvent.Action.SIGN_IN_FAILED,
        "192.0.2.44",
    )
    page = response.content.decode()
    assert "Sign-in failed" in page
    assert "192.0.2.44" in page
    assert f'<time datetime="{timezone.localtime(event.created_at).isoformat()}' in page


def test_a_lockout_shows_on_the_security_page_of_the_account(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, user.email, password="a-guess")
    client.force_login(user)
    actions = [event.action for event in client.get(reverse("accounts:security")).context["events"]]
    assert SecurityEvent.Action.LOCKED_OUT in actions


def test_a_wrong_password_reads_the_same_for_an_unknown_address(client, user):
    def answer(email: str) -> str:
        response = _sign_in(client, email, password="a-guess")
        page = response.content.decode().replace(email, "EMAIL")
        return re.sub(r"[A-Za-z0-9]{64}", "CSRF", page)

    assert answer(user.email) == answer("nobody@example.com")


# --- The admin -------------------------------------------------------------------------------


def test_the_admin_signs_in_through_the_account_pages_only(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = _totp_device(staff)
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": staff.email, "password": PASSWORD, "otp_token": _code(device)},
    )
    assert response.url == reverse("accounts:login") + "?next=%2Fadmin%2F"
    assert client.get(reverse("admin:index")).status_code == 302
    _sign_in(client, staff.email)
    response = client.post(reverse("accounts:sign-in-mfa"), {"token": _code(device)})
    assert response.url == reverse("dashboard"), response.content.decode()[-3000:]
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_signed_in_without_a_second_factor_are_told_how_to_open_the_admin(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:security")
    assert "Add a second factor to open the admin." in response.content.decode()


# --- Races -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_backup_code_sent_twice_at_once_signs_in_once(monkeypatch):
    import threading
    import time

    from django.db import connection
    from django_otp.plugins.otp_static.models import StaticToken

    # match_token locks the devices (select_for_update); widen the window it closes.
    delete = StaticToken.delete
    monkeypatch.setattr(StaticToken, "delete", lambda self: time.sleep(0.3) or delete(self))
    user = UserFactory()
    _totp_device(user)
    code = services.create_backup_codes(user=user)[0]
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def attempt() -> None:
        try:
            barrier.wait()
            results.append(match_token(user, code) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
