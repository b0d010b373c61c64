"""Helpers of the server tests: a registered server with its raw token, check-in calls."""

import pytest
from django.test import override_settings

from devices.servers import services


@pytest.fixture(autouse=True)
def _no_check_in_throttle():
    """Check-ins in tests come back to back; the throttle has tests of its own."""
    with override_settings(SERVER_CHECK_IN_MIN_INTERVAL=0):
        yield


def register(admin, folder, *, name="Recorder 1", version="6.8.0"):
    """Register a server through the real services; return (server, raw server token)."""
    _token, raw = services.create_registration_token(
        actor=admin, folder_id=folder.pk, name=name, valid_hours=24
    )
    return services.register_server(registration_token=raw, name=name, software_version=version)


def check_in(client, raw_token, **body):
    """POST a check-in with the server token; return the response."""
    body.setdefault("software_version", "6.8.0")
    return client.post(
        "/api/v1/servers/check-in",
        body,
        content_type="application/json",
        headers={"Authorization": f"Server {raw_token}"},
    )


@pytest.fixture
def registered(admin, folders):
    """A server registered into site_a (the operator's grant), with its raw token."""
    return register(admin, folders.site_a)
