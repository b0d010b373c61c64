"""The two-step sign-in, through its public functions, on real requests with real sessions."""

from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sign_in
from accounts.middleware import LANGUAGE_SESSION_KEY
from accounts.models import SecurityEvent
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.10"


@pytest.fixture
def request_for(rf):
    """Return a factory of requests that share one real database session, as one browser."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session.create()

    def build(path: str = "/", *, address: str = ADDRESS, user=None, **data):
        method = rf.post if data else rf.get
        request = method(path, data, REMOTE_ADDR=address)
        request.session = session
        request.user = user or AnonymousUser()
        return request

    return build


def _fail(request_for, email: str, *, address: str = ADDRESS) -> None:
    request = request_for(address=address)
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)


# --- The pending sign-in ------------------------------------------------------------------------


def test_a_started_sign_in_has_a_fresh_session_key_and_remembers_the_account(request_for, user):
    request = request_for()
    before = request.session.session_key
    sign_in.start_pending_sign_in(request, user=user, next_url="/o/")
    assert request.session.session_key != before
    assert sign_in.pending_user(request_for()) == user


def test_a_pending_sign_in_expires_after_five_minutes(request_for, user):
    sign_in.start_pending_sign_in(request_for(), user=user, next_url=None)
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        assert sign_in.pending_user(request_for()) is None
    assert sign_in.pending_user(request_for()) is None  # ended, not only hidden


def test_a_pending_sign_in_ends_when_the_password_changes(request_for, user):
    sign_in.start_pending_sign_in(request_for(), user=user, next_url=None)
    user.set_password("another-long-password-1")
    user.save()
    assert sign_in.pending_user(request_for()) is None


def test_a_pending_sign_in_ends_when_the_account_is_disabled(request_for, user):
    sign_in.start_pending_sign_in(request_for(), user=user, next_url=None)
    user.is_active = False
    user.save()
    assert sign_in.pending_user(request_for()) is None


def test_a_pending_sign_in_can_be_ended(request_for, user):
    sign_in.start_pending_sign_in(request_for(), user=user, next_url="/o/")
    sign_in.end_pending_sign_in(request_for())
    assert sign_in.pending_user(request_for()) is None


def test_a_session_value_that_is_not_a_pending_sign_in_is_none(request_for):
    request = request_for()
    request.session[sign_in.PENDING_USER_KEY] = "not a dictionary"
    assert sign_in.pending_user(request) is None


# --- Completing it ------------------------------------------------------------------------------


def test_completing_signs_in_records_the_factor_and_goes_where_the_pending_sign_in_was_headed(
    request_for, user
):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    user.language = "ja"
    user.save()
    sign_in.start_pending_sign_in(request_for(), user=user, next_url="/o/new/")
    request = request_for()
    response = sign_in.complete_sign_in(request, user=user, device=device)
    assert response.url == "/o/new/"
    assert request.session[SESSION_KEY] == str(user.pk)
    assert request.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert request.session[LANGUAGE_SESSION_KEY] == "ja"
    assert sign_in.pending_user(request_for()) is None
    event = SecurityEvent.objects.get(user=user, action=SecurityEvent.Action.SIGNED_IN)
    assert (event.client_address, event.data) == (ADDRESS, {"mfa": device.persistent_id})


def test_completing_never_leaves_the_site(request_for, user):
    response = sign_in.complete_sign_in(request_for(), user=user, next_url="https://evil.example/")
    assert response.url == reverse("dashboard")


def test_completing_clears_the_failures_of_that_account_from_that_address_only(request_for, user):
    other = UserFactory()
    for email, address in [
        (user.email, ADDRESS),
        (user.email, "192.0.2.99"),
        (other.email, ADDRESS),
    ]:
        _fail(request_for, email, address=address)
    sign_in.complete_sign_in(request_for(), user=user)
    left = set(AccessAttempt.objects.values_list("username", "ip_address"))
    assert left == {(user.email, "192.0.2.99"), (other.email, ADDRESS)}


# --- Failed attempts ----------------------------------------------------------------------------


def test_a_failed_password_is_recorded_on_the_account_it_names(request_for, user):
    sign_in.record_failed_sign_in(request_for(), email=f" {user.email.upper()} ")
    event = SecurityEvent.objects.get(action=SecurityEvent.Action.SIGN_IN_FAILED)
    assert (event.user, event.email, event.client_address) == (user, user.email, ADDRESS)


def test_a_failed_password_for_no_account_is_recorded_without_one(request_for):
    sign_in.record_failed_sign_in(request_for(), email="nobody@example.com\x00")
    event = SecurityEvent.objects.get(action=SecurityEvent.Action.SIGN_IN_FAILED)
    assert (event.user, event.email) == (None, "nobody@example.com")


def test_one_account_is_one_throttle_whatever_the_spelling(request_for, user):
    spellings = [user.email.upper(), f" {user.email} ", user.email.replace("e", "\uff45")]
    names = {sign_in.axes_username(request_for(), {"username": typed}) for typed in spellings}
    assert names == {user.email}
    assert sign_in.axes_username(request_for(username=user.email.upper()), None) == user.email


# --- Pages that need the second factor ----------------------------------------------------------


def test_a_session_without_the_second_factor_of_an_account_that_has_one_is_sent_away(
    request_for, user
):
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    view = sign_in.second_factor_passed(lambda request: HttpResponse("secret"))
    request = request_for(user=user)
    OTPMiddleware(lambda request: HttpResponse())(request)  # sets user.is_verified
    request._messages = FallbackStorage(request)
    response = view(request)
    assert response.url == reverse("accounts:security")


def test_a_session_of_an_account_without_a_second_factor_passes(request_for, user):
    view = sign_in.second_factor_passed(lambda request: HttpResponse("secret"))
    request = request_for(user=user)
    OTPMiddleware(lambda request: HttpResponse())(request)
    assert view(request).content == b"secret"
