"""The client address behind PROXY_COUNT proxies: one answer for throttles, records and audit."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import SecurityEvent
from common.http import client_address, normalize_address
from common.throttling import UserRateThrottle
from organizations.models import AuditEvent
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
CLIENT = "198.51.100.7"


def _sign_in(client, email, password=PASSWORD, *, remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **extra
    )


def _fail_from(client, settings, **where) -> None:
    """Spend the address's failures on accounts that do not exist."""
    for index in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, f"nobody{index}@example.com", "wrong", **where)


# --- Behind proxies ---------------------------------------------------------------------------


def test_behind_a_proxy_failures_lock_the_client_not_everyone_behind_the_proxy(
    client, user, settings
):
    settings.PROXY_COUNT = 1
    _fail_from(client, settings, remote=PROXY, forwarded=CLIENT)
    assert _sign_in(client, UserFactory().email, remote=PROXY, forwarded=CLIENT).status_code == 429
    response = _sign_in(client, user.email, remote=PROXY, forwarded="203.0.113.9")
    assert response.url == reverse("dashboard")


def test_behind_a_proxy_what_the_client_wrote_into_the_header_is_ignored(client, user, settings):
    settings.PROXY_COUNT = 1
    for index in range(settings.AXES_FAILURE_LIMIT):
        forged = f"192.0.2.{index}, {CLIENT}"
        _sign_in(client, f"nobody{index}@example.com", "wrong", remote=PROXY, forwarded=forged)
    response = _sign_in(client, user.email, remote=PROXY, forwarded=f"192.0.2.99, {CLIENT}")
    assert response.status_code == 429
    addresses = set(SecurityEvent.objects.values_list("client_address", flat=True))
    assert addresses == {CLIENT}


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(client, user, settings):
    settings.PROXY_COUNT = 2
    forwarded = f"192.0.2.1, {CLIENT}, {PROXY}"
    _sign_in(client, user.email, "wrong", remote="10.0.0.3", forwarded=forwarded)
    assert SecurityEvent.objects.get().client_address == CLIENT
    assert AccessAttempt.objects.get().ip_address == CLIENT


def test_without_proxies_a_forged_header_is_ignored(client, user, settings):
    settings.PROXY_COUNT = 0
    for index in range(settings.AXES_FAILURE_LIMIT):
        forged = f"192.0.2.{index}"
        _sign_in(client, f"nobody{index}@example.com", "wrong", remote=CLIENT, forwarded=forged)
    assert _sign_in(client, user.email, remote=CLIENT, forwarded="192.0.2.99").status_code == 429
    assert set(SecurityEvent.objects.values_list("client_address", flat=True)) == {CLIENT}


@pytest.mark.parametrize(
    ("proxy_count", "forwarded"),
    [
        (1, ""),
        (1, "not-an-address"),
        (1, f"{CLIENT}:443"),
        (1, f"{CLIENT} 203.0.113.1"),
        (1, f"{CLIENT}, unknown"),
        (1, "a\x00b"),
        (1, "9" * 5000),
        (2, CLIENT),  # shorter than the proxies that should have written it
    ],
)
def test_a_malformed_header_falls_back_to_the_proxy_address(
    client, user, settings, proxy_count, forwarded
):
    settings.PROXY_COUNT = proxy_count
    response = _sign_in(client, user.email, "wrong", remote=PROXY, forwarded=forwarded)
    assert response.status_code == 200
    assert SecurityEvent.objects.get().client_address == PROXY
    assert AccessAttempt.objects.get().ip_address == PROXY


def test_an_ipv4_client_on_an_ipv6_socket_is_one_ipv4_address(client, user, settings):
    settings.PROXY_COUNT = 1
    _sign_in(client, user.email, "wrong", remote=f"::ffff:{PROXY}", forwarded=f"::FFFF:{CLIENT}")
    _sign_in(client, user.email, "wrong", remote=PROXY, forwarded=CLIENT)
    assert SecurityEvent.objects.filter(client_address=CLIENT).count() == 2
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_the_audit_log_records_the_client_behind_the_proxy(client, user, settings):
    settings.PROXY_COUNT = 1
    client.force_login(user)
    client.post(
        reverse("organizations:organization-create"),
        {"name": "Behind a proxy"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"192.0.2.1, {CLIENT}",
    )
    event = AuditEvent.objects.get(action="organization.create")
    assert event.client_address == CLIENT
    organization = event.organization
    client.post(
        reverse("organizations:organization-settings", args=[organization.pk]),
        {"name": "Renamed behind a proxy", "notes": ""},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    event = AuditEvent.objects.filter(organization=organization).order_by("-sequence").first()
    assert (event.action, event.client_address) == ("organization.update", "203.0.113.9")
    response = client.post(
        reverse("api:organization-list"),
        {"name": "Through the API"},
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.10",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(
        action="organization.create", organization__name="Through the API"
    )
    assert event.client_address == "203.0.113.10"


def test_api_throttling_keys_callers_by_the_same_client_address(rf, settings):
    settings.PROXY_COUNT = 1
    request = rf.get("/api/v1/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {CLIENT}")
    assert UserRateThrottle().get_ident(Request(request)) == CLIENT
    assert [type(throttle) for throttle in APIView().get_throttles()] == [UserRateThrottle]


# --- The helper --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("::FFFF:cb00:7109", "203.0.113.9"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("", None),
        (None, None),
        ("localhost", None),
        ("203.0.113.9:80", None),
        ("[2001:db8::1]", None),
    ],
)
def test_addresses_have_one_spelling(value, expected):
    assert normalize_address(value) == expected


def test_no_request_has_no_address():
    assert client_address(None) is None
