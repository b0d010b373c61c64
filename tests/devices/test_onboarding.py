"""Onboarding one device against the simulator over real HTTP(S): every failure kind, the pin."""

import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.auth import HTTPDigestAuth

from common.errors import Forbidden, Invalid, NotFound
from devices import onboarding
from devices.models import Device
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.support.fleet import add_admin_account


def _onboard(actor, folder, camera, **overrides):
    arguments = {
        "actor": actor,
        "folder_id": folder.pk,
        "host": camera.host,
        "port": camera.port,
        "scheme": "http",
        "username": camera.username,
        "password": camera.password,
        **overrides,
    }
    return onboarding.onboard_device(**arguments)


def _refused(code, call, *args, **kwargs):
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the code is what is checked
        call(*args, **kwargs)
    assert getattr(refused.value, "code", None) == code, refused.value
    assert not Device.objects.exists()
    return refused.value


@contextmanager
def _silent_listener():
    """A loopback socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for peer in accepted:
            peer.close()
        server.close()


class _PlainHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@contextmanager
def _plain_http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_an_admin_onboards_a_camera_with_its_identity(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("Q6135-LE")
    device = _onboard(tenant.admin, tenant.site_a, camera)
    device.refresh_from_db()
    assert device.organization == tenant.organization
    assert device.folder == tenant.site_a
    assert device.serial_number == camera.serial.upper()
    assert device.product_number == "Q6135-LE"
    assert device.firmware_version == camera.version
    assert device.mac_address == ":".join(camera.serial[i : i + 2] for i in range(0, 12, 2))
    assert device.has_ptz is True
    assert device.product_name
    assert device.hardware_id
    assert (device.scheme, device.host, device.port) == ("http", camera.host, camera.port)
    assert device.certificate_fingerprint == ""
    assert device.password.reveal() == camera.password
    assert AuditEvent.objects.filter(action="device.create", target_id=str(device.pk)).exists()


def test_a_camera_without_ptz_is_stored_without_it(tenant, clean_camera_fleet):
    device = _onboard(tenant.admin, tenant.top, clean_camera_fleet.by_product("P3265-V"))
    assert device.has_ptz is False


def test_old_firmware_is_read_from_param_cgi(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M3024-L")
    device = _onboard(tenant.admin, tenant.top, camera)
    assert device.product_number == "M3024-L"
    assert device.firmware_version == camera.version
    assert device.serial_number == camera.serial.upper()
    assert device.mac_address


def test_https_onboarding_pins_the_certificate(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("P3265-V")
    device = _onboard(tenant.admin, tenant.top, camera, scheme="https", port=camera.https_port)
    assert device.scheme == "https"
    assert device.port == camera.https_port
    assert device.certificate_fingerprint == camera.certificate_sha256.replace(":", "").lower()


def test_https_with_the_expected_fingerprint_onboards(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("P3265-V")
    device = _onboard(
        tenant.admin,
        tenant.top,
        camera,
        scheme="https",
        port=camera.https_port,
        expected_fingerprint=camera.certificate_sha256.upper(),
    )
    assert device.certificate_fingerprint == camera.certificate_sha256.replace(":", "").lower()


def test_another_fingerprint_than_expected_is_certificate_untrusted(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("P3265-V")
    error = _refused(
        "certificate_untrusted",
        _onboard,
        tenant.admin,
        tenant.top,
        camera,
        scheme="https",
        port=camera.https_port,
        expected_fingerprint="ab" * 32,
    )
    assert error.http_status == 400
    assert "expected_fingerprint" in error.fields


def test_a_closed_port_is_unreachable(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    error = _refused("unreachable", _onboard, tenant.admin, tenant.top, camera, port=_closed_port())
    assert error.http_status == 400
    assert "host" in error.fields


def test_a_device_that_never_answers_is_a_timeout(tenant, clean_camera_fleet, settings):
    settings.DEVICE_CONNECT_TIMEOUT = 0.5
    settings.DEVICE_READ_TIMEOUT = 0.3
    camera = clean_camera_fleet.cameras[0]
    with _silent_listener() as port:
        error = _refused("timeout", _onboard, tenant.admin, tenant.top, camera, port=port)
    assert error.http_status == 400


def test_a_wrong_password_is_auth_failed(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    error = _refused(
        "auth_failed", _onboard, tenant.admin, tenant.top, camera, password="not-the-password"
    )
    assert error.http_status == 400
    assert "password" in error.fields


def test_a_plain_web_server_is_not_an_axis_device(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    with _plain_http_server() as port:
        error = _refused("not_axis_device", _onboard, tenant.admin, tenant.top, camera, port=port)
    assert error.http_status == 400


def test_the_same_camera_twice_is_already_onboarded(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[1]
    _onboard(tenant.admin, tenant.top, camera)
    with pytest.raises(Exception) as refused:  # noqa: PT011
        _onboard(tenant.admin, tenant.site_b, camera)
    assert refused.value.code == "already_onboarded"
    assert refused.value.http_status == 409
    assert Device.objects.count() == 1


def test_a_camera_of_another_organization_is_refused_naming_none(
    tenant, other_tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[1]
    _onboard(other_tenant.admin, other_tenant.top, camera)
    with pytest.raises(Exception) as refused:  # noqa: PT011
        _onboard(tenant.admin, tenant.top, camera)
    assert refused.value.code == "already_onboarded"
    assert other_tenant.organization.name not in str(refused.value.message)
    assert not Device.objects.filter(organization=tenant.organization).exists()


@pytest.mark.parametrize("host", ["169.254.10.20", "169.254.169.254"])
def test_link_local_and_metadata_addresses_are_not_allowed(tenant, clean_camera_fleet, host):
    camera = clean_camera_fleet.cameras[0]
    _refused("address_not_allowed", _onboard, tenant.admin, tenant.top, camera, host=host)


def test_loopback_is_not_allowed_without_the_development_setting(
    tenant, clean_camera_fleet, settings
):
    settings.DEVICE_ALLOW_LOOPBACK = False
    camera = clean_camera_fleet.cameras[0]
    error = _refused("address_not_allowed", _onboard, tenant.admin, tenant.top, camera)
    assert error.http_status == 400


def test_a_name_that_does_not_resolve_is_unreachable(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    _refused("unreachable", _onboard, tenant.admin, tenant.top, camera, host="no-such.invalid")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"scheme": "ftp"}, "invalid_scheme"),
        ({"port": "99999"}, "invalid_port"),
        ({"host": "http://10.0.0.1/"}, "invalid_host"),
        ({"username": ""}, "invalid_username"),
        ({"password": ""}, "invalid_password"),
        ({"expected_fingerprint": "12:34"}, "invalid_fingerprint"),
    ],
)
def test_bad_input_is_refused_before_connecting(tenant, clean_camera_fleet, overrides, code):
    camera = clean_camera_fleet.cameras[0]
    error = _refused(code, _onboard, tenant.admin, tenant.top, camera, **overrides)
    assert isinstance(error, Invalid)
    assert error.fields


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_onboard_and_nothing_is_contacted(
    tenant, clean_camera_fleet, role
):
    camera = clean_camera_fleet.cameras[0]
    # A refused address would answer address_not_allowed if the network were reached first.
    with pytest.raises(Forbidden):
        _onboard(getattr(tenant, role), tenant.site_a, camera, host="169.254.1.1")
    assert not Device.objects.exists()


def test_a_folder_of_another_organization_is_404(tenant, other_tenant, clean_camera_fleet):
    with pytest.raises(NotFound):
        _onboard(tenant.admin, other_tenant.top, clean_camera_fleet.cameras[0])
    assert not Device.objects.exists()


def test_new_credentials_are_checked_against_the_device_then_stored(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    device = _onboard(tenant.admin, tenant.top, camera)
    with pytest.raises(Exception) as refused:  # noqa: PT011
        onboarding.change_device_credentials(
            actor=tenant.admin, device=device, username="root", password="wrong-password"
        )
    assert refused.value.code == "auth_failed"
    device.refresh_from_db()
    assert device.password.reveal() == camera.password
    add_admin_account(camera, "fleetadmin", "Second-Admin-2026")
    onboarding.change_device_credentials(
        actor=tenant.admin, device=device, username="fleetadmin", password="Second-Admin-2026"
    )
    device.refresh_from_db()
    assert device.username == "fleetadmin"
    assert device.password.reveal() == "Second-Admin-2026"
    event = AuditEvent.objects.get(action="device.credentials_change")
    assert "Second-Admin-2026" not in str(event.data)


def test_credentials_of_another_camera_at_the_address_are_refused(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    device = DeviceFactory(
        folder=tenant.top, host=camera.host, port=camera.port, serial_number="ACCC8E000001"
    )
    with pytest.raises(Exception) as refused:  # noqa: PT011
        onboarding.change_device_credentials(
            actor=tenant.admin, device=device, username="root", password=camera.password
        )
    assert refused.value.code == "serial_number_mismatch"
    device.refresh_from_db()
    assert device.password.reveal() != camera.password


@pytest.mark.django_db(transaction=True)
def test_two_organizations_onboarding_one_camera_at_once_get_it_once(race, clean_camera_fleet):
    from tests.support.cast import build_tenant

    first, second = build_tenant("First Co"), build_tenant("Second Co")
    camera = clean_camera_fleet.by_product("M1065-LW")
    outcomes = race(
        lambda: _onboard(first.admin, first.top, camera),
        lambda: _onboard(second.admin, second.top, camera),
    )
    devices = [outcome for outcome in outcomes if isinstance(outcome, Device)]
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, Device)]
    assert len(devices) == 1, outcomes
    assert [refusal.code for refusal in refusals] == ["already_onboarded"]
    assert Device.objects.count() == 1


def test_a_name_resolving_to_loopback_is_not_allowed_without_the_setting(
    tenant, clean_camera_fleet, settings
):
    settings.DEVICE_ALLOW_LOOPBACK = False
    camera = clean_camera_fleet.cameras[0]
    _refused("address_not_allowed", _onboard, tenant.admin, tenant.top, camera, host="localhost")


def test_a_resolver_that_never_answers_is_cut_off(tenant, clean_camera_fleet, monkeypatch):
    """getaddrinfo has no timeout: the lookup is time-boxed (the resolver is the OS's, stubbed)."""
    release = threading.Event()

    def silent_resolver(*args, **kwargs):
        release.wait(5)
        raise socket.gaierror("no answer")

    monkeypatch.setattr(onboarding, "RESOLVE_TIMEOUT", 0.3)
    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    camera = clean_camera_fleet.cameras[0]
    started = time.monotonic()
    try:
        error = _refused("timeout", _onboard, tenant.admin, tenant.top, camera, host="slow.example")
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert "host" in error.fields


def _factory_default(fleet, camera):
    """Reset a camera to factory state: no account at all (systemready needsetup)."""
    response = requests.post(
        camera.base_url + "/axis-cgi/firmwaremanagement.cgi",
        json={"apiVersion": "1.0", "method": "factoryDefault"},
        auth=HTTPDigestAuth(camera.username, camera.password),
        timeout=10,
    )
    assert response.json()["data"] == {}
    fleet.wait_for(
        camera.serial, lambda state: state["needs_setup"] and state["phase"] == "running"
    )


@pytest.mark.parametrize("account", ["viewer", "operator"])
def test_an_account_that_is_not_the_devices_administrator_is_refused(
    tenant, clean_camera_fleet, account
):
    camera = clean_camera_fleet.by_product("P3265-V")
    password = getattr(camera, f"{account}_password")
    refused = _refused(
        "insufficient_privilege",
        _onboard,
        tenant.admin,
        tenant.top,
        camera,
        username=account,
        password=password,
    )
    assert account in refused.fields["username"][0]
    assert "administrator" in refused.fields["username"][0]


def test_a_viewer_account_is_refused_as_new_credentials(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    device = _onboard(tenant.admin, tenant.top, camera)
    with pytest.raises(Invalid) as refused:
        onboarding.change_device_credentials(
            actor=tenant.admin, device=device, username="viewer", password=camera.viewer_password
        )
    assert refused.value.code == "insufficient_privilege"
    device.refresh_from_db()
    assert device.username == camera.username
    assert device.password.reveal() == camera.password


def test_a_factory_fresh_camera_gets_the_entered_account_as_its_administrator(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.by_product("M1075-L")
    _factory_default(clean_camera_fleet, camera)
    device = _onboard(
        tenant.admin, tenant.top, camera, username="fleetadmin", password="Fleet-Admin-2026"
    )
    assert device.username == "fleetadmin"
    assert device.password.reveal() == "Fleet-Admin-2026"
    state = clean_camera_fleet.state(camera.serial)
    assert state["needs_setup"] is False
    assert state["users"] == ["fleetadmin"]
    answer = requests.get(
        camera.base_url + "/axis-cgi/usergroup.cgi",
        auth=HTTPDigestAuth("fleetadmin", "Fleet-Admin-2026"),
        timeout=10,
    )
    assert "admin" in answer.text.split()


def test_old_firmware_set_up_fresh_takes_only_root_and_root_is_stored(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M3066-V")  # AXIS OS 10.12: first admin must be root
    _factory_default(clean_camera_fleet, camera)
    device = _onboard(
        tenant.admin, tenant.top, camera, username="fleetadmin", password="Fleet-Admin-2026"
    )
    assert device.username == "root"
    assert device.password.reveal() == "Fleet-Admin-2026"
    assert clean_camera_fleet.state(camera.serial)["users"] == ["root"]


def test_a_fresh_camera_refusing_the_password_stays_untouched(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    _factory_default(clean_camera_fleet, camera)
    refused = _refused(
        "invalid_password",
        _onboard,
        tenant.admin,
        tenant.top,
        camera,
        username="fleetadmin",
        password="not ascii: ü",
    )
    assert "first administrator" in refused.fields["password"][0]
    assert clean_camera_fleet.state(camera.serial)["needs_setup"] is True
