"""The one door to a device: checked address, pinned certificate, errors with stable codes."""

import pytest
from django.test import override_settings

from devices import connection
from devices.errors import AddressNotAllowed, CertificateChanged
from devices.models import Device
from devices.vapix import (
    AuthFailed,
    CertificateMismatch,
    DeviceRefused,
    InsufficientPrivilege,
    NotAxisDevice,
    Timeout,
    UnexpectedResponse,
    Unreachable,
)
from tests.devices.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _device_for(camera, **fields) -> Device:
    values = {
        "host": "localhost",
        "port": camera.port,
        "username": camera.username,
        "password": camera.password,
        "serial_number": camera.serial,
    }
    return DeviceFactory(**(values | fields))


def test_a_stored_device_is_reached_at_the_checked_ip_not_by_name(clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    with connection.open_client(_device_for(camera)) as client:
        assert client.host in ("127.0.0.1", "::1")  # the name was resolved once, here
        assert client.get_device_info().serial_number == camera.serial


def test_https_devices_are_reached_with_their_pinned_certificate(clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    device = _device_for(
        camera,
        scheme=Device.Scheme.HTTPS,
        port=camera.https_port,
        certificate_fingerprint=camera.certificate_sha256,
    )
    with connection.open_client(device) as client:
        assert client.get_device_info().serial_number == camera.serial
    device.certificate_fingerprint = "0" * 64
    with connection.open_client(device) as client, pytest.raises(CertificateMismatch) as refused:
        client.get_device_info()
    assert connection.device_error(refused.value).code == "certificate_untrusted"


def test_no_client_while_a_changed_certificate_waits_for_an_admin():
    device = DeviceFactory(status=Device.Status.CERTIFICATE_CHANGED)
    with pytest.raises(CertificateChanged) as refused:
        connection.open_client(device)
    assert refused.value.code == "certificate_untrusted"
    assert refused.value.http_status == 502


@override_settings(DEVICE_ALLOW_LOOPBACK=False)
def test_an_address_no_longer_allowed_is_not_connected_to():
    device = DeviceFactory(host="127.0.0.1", port=80)
    with pytest.raises(AddressNotAllowed):
        connection.open_client(device)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (Unreachable("refused"), "unreachable"),
        (Timeout("slow"), "timeout"),
        (AuthFailed("401"), "auth_failed"),
        (InsufficientPrivilege("403"), "auth_failed"),
        (NotAxisDevice("nginx"), "not_axis_device"),
        (CertificateMismatch("pin", expected="a", presented="b"), "certificate_untrusted"),
        (DeviceRefused(2004, "not supported", api="pwdgrp"), "device_refused"),
        (UnexpectedResponse("garbage"), "device_unavailable"),
    ],
)
def test_every_client_error_has_a_stable_code_and_a_message(error, code):
    domain_error = connection.device_error(error)
    assert domain_error.code == code
    assert str(domain_error.message)
