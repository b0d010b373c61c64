"""The accounts tab of a device page, against a simulated camera over real HTTP."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import translation

from devices.vapix import DeviceRole, VapixClient
from organizations import audit
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.devices.onboarded import onboard
from tests.devices.test_accounts import MARKER_PASSWORD, RECORDER_AGENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def device(tenant, camera):
    return onboard(tenant.admin, tenant.site_a, camera)


def _url(name, device, *args):
    return reverse(f"devices:{name}", args=[device.organization_id, device.pk, *args])


def _page(response) -> str:
    return response.content.decode()


def _users_on(camera) -> dict:
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        return {user.name: user for user in client.list_users()}


def test_an_admin_sees_the_accounts_with_the_service_account_marked(client, tenant, device):
    client.force_login(tenant.admin.user)
    response = client.get(_url("device-accounts", device))
    assert response.status_code == 200
    page = _page(response)
    assert 'id="account-operator"' in page
    assert 'id="account-viewer"' in page
    root_row = page.split('id="account-root"')[1].split("</tr>")[0]
    assert "Used by" in root_row
    assert "this service" in root_row
    # No buttons for the account in use; buttons for the others.
    assert _url("device-account-password", device, "root") not in page
    assert _url("device-account-delete", device, "root") not in page
    assert _url("device-account-password", device, "operator") in page
    assert _url("device-account-delete", device, "viewer") in page
    # The tab is on the page, marked as the current one.
    assert f'href="{_url("device-accounts", device)}"' in page
    assert 'aria-current="page"' in page


def test_an_applications_account_is_marked_on_the_page(
    client, tenant, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_applications(camera.serial, [RECORDER_AGENT])
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as device_client:
        device_client.add_user("recorderagent", "agent-pass-1", DeviceRole.VIEWER)
    client.force_login(tenant.admin.user)
    page = _page(client.get(_url("device-accounts", device)))
    row = page.split('id="account-recorderagent"')[1].split("</tr>")[0]
    assert "Example Recorder Agent" in row
    assert _url("device-account-delete", device, "recorderagent") not in page
    # Refused by the service, not only hidden: a hand-made POST changes nothing.
    response = client.post(_url("device-account-delete", device, "recorderagent"))
    assert response.status_code == 409
    assert "Example Recorder Agent" in _page(response)
    assert "recorderagent" in _users_on(camera)


def test_an_admin_creates_an_account_from_the_page(client, tenant, device, camera):
    client.force_login(tenant.admin.user)
    response = client.post(
        _url("device-accounts", device),
        {"name": "nocuser", "password": MARKER_PASSWORD, "role": "operator", "ptz": "on"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == _url("device-accounts", device)
    page = _page(response)
    assert "nocuser" in page
    assert "is created" in page
    assert MARKER_PASSWORD not in page
    assert (_users_on(camera)["nocuser"].role, _users_on(camera)["nocuser"].ptz) == (
        DeviceRole.OPERATOR,
        True,
    )


def test_the_devices_refusal_is_shown_on_the_form_and_the_password_is_not(client, tenant, device):
    client.force_login(tenant.admin.user)
    response = client.post(
        _url("device-accounts", device),
        {"name": "viewer", "password": MARKER_PASSWORD, "role": "viewer"},
    )
    assert response.status_code == 409
    page = _page(response)
    assert "this user name already exists" in page
    assert MARKER_PASSWORD not in page


def test_a_name_the_device_would_refuse_is_explained_on_the_form(client, tenant, device, camera):
    client.force_login(tenant.admin.user)
    response = client.post(
        _url("device-accounts", device),
        {"name": "bad name", "password": MARKER_PASSWORD, "role": "viewer"},
    )
    assert response.status_code == 400
    assert "letters (A to Z, a to z) and digits" in _page(response)
    assert "bad name" not in _users_on(camera)


def test_an_admin_changes_a_password_from_the_page(client, tenant, device, camera):
    client.force_login(tenant.admin.user)
    url = _url("device-account-password", device, "operator")
    assert client.get(url).status_code == 200
    response = client.post(url, {"password": MARKER_PASSWORD})
    assert response.status_code == 302
    with VapixClient(
        camera.host, port=camera.port, username="operator", password=MARKER_PASSWORD
    ) as operator_client:
        assert operator_client.whoami().name == "operator"
    assert AuditEvent.objects.filter(action="device.account_password").count() == 1


def test_changing_the_service_accounts_password_is_refused_on_the_page(client, tenant, device):
    client.force_login(tenant.admin.user)
    response = client.post(
        _url("device-account-password", device, "root"), {"password": MARKER_PASSWORD}
    )
    assert response.status_code == 409
    assert "this service" in _page(response)
    assert MARKER_PASSWORD not in _page(response)


def test_an_admin_deletes_an_account_after_confirming(client, tenant, device, camera):
    client.force_login(tenant.admin.user)
    url = _url("device-account-delete", device, "viewer")
    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert "viewer" in _users_on(camera)
    assert client.post(url).status_code == 302
    assert "viewer" not in _users_on(camera)


def test_an_unreachable_device_is_said_on_the_page(
    client, tenant, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_fault(camera.serial, "offline")
    client.force_login(tenant.admin.user)
    response = client.get(_url("device-accounts", device))
    assert response.status_code == 502
    assert 'id="accounts-read-error"' in _page(response)


def test_a_malformed_account_name_in_the_address_is_not_found(client, tenant, device):
    client.force_login(tenant.admin.user)
    assert client.get(_url("device-account-delete", device, "no-such!")).status_code == 404


@pytest.mark.parametrize(
    ("role", "folder", "expected"),
    [
        ("owner", "site_a", 200),
        ("admin", "site_b", 200),
        ("operator", "site_a", 403),  # sees the device, may not manage its accounts
        ("operator", "site_b", 404),  # outside the operator's folders
        ("viewer", "building_a1", 403),
        ("viewer", "site_a", 404),
    ],
)
def test_who_may_open_the_accounts_pages(
    client, tenant, clean_camera_fleet, role, folder, expected
):
    camera = clean_camera_fleet.by_product("P3265-V")
    device = onboard(tenant.admin, getattr(tenant, folder), camera)
    client.force_login(getattr(tenant, role).user)
    for url in (
        _url("device-accounts", device),
        _url("device-account-password", device, "operator"),
        _url("device-account-delete", device, "operator"),
    ):
        assert client.get(url).status_code == expected, url
    if expected != 200:
        for url, data in (
            (_url("device-accounts", device), {"name": "x1", "password": "p", "role": "viewer"}),
            (_url("device-account-password", device, "operator"), {"password": "p"}),
            (_url("device-account-delete", device, "operator"), {}),
        ):
            assert client.post(url, data).status_code == expected, url
        assert set(_users_on(camera)) == {"root", "operator", "viewer"}


def test_the_accounts_tab_is_offered_to_admins_only(client, tenant, clean_camera_fleet):
    device = onboard(tenant.admin, tenant.building_a1, clean_camera_fleet.by_product("P3265-V"))
    detail = reverse("devices:device-detail", args=[tenant.organization.pk, device.pk])
    client.force_login(tenant.admin.user)
    assert _url("device-accounts", device) in _page(client.get(detail))
    client.force_login(tenant.viewer.user)
    page = _page(client.get(detail))
    assert _url("device-accounts", device) not in page


def test_the_accounts_page_and_removal_page_speak_japanese(client, tenant, device):
    client.force_login(tenant.admin.user)
    page = _page(client.get(_url("device-accounts", device), HTTP_ACCEPT_LANGUAGE="ja"))
    assert "デバイス上のアカウント" in page
    assert "アカウントを作成" in page
    assert "使用元" in page  # the service account's "used by" badge
    removal = _page(client.get(_url("device-remove", device), HTTP_ACCEPT_LANGUAGE="ja"))
    assert "保存されているデバイスのパスワードは破棄されます。" in removal


def test_account_changes_have_words_on_the_activity_page(tenant):
    with translation.override("en"):
        assert audit.event_type_label("device.account_create") == "Device account created"
        assert audit.event_type_label("device.account_delete") == "Device account deleted"
    with translation.override("ja"):
        assert (
            audit.event_type_label("device.account_password")
            == "デバイスアカウントのパスワードを変更"
        )


class _OddDevice(BaseHTTPRequestHandler):
    """A device (plain HTTP, no authentication asked) listing an account its own rules forbid."""

    ANSWERS = {
        "/axis-cgi/pwdgrp.cgi": (
            "text/plain",
            'admin="root"\r\nviewer="root,odd/name<b>"\r\ndigusers="root,odd/name<b>"\r\n',
        ),
        "/axis-cgi/applications/list.cgi": ("text/xml", '<reply result="ok">\n</reply>\n'),
        "/axis-cgi/systemready.cgi": (
            "application/json",
            '{"apiVersion": "1.4", "method": "systemready", '
            '"data": {"systemready": "yes", "needsetup": "no"}}',
        ),
    }

    def do_POST(self):  # the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type, body = self.ANSWERS.get(self.path, ("text/plain", ""))
        self.send_response(200 if self.path in self.ANSWERS else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST

    def log_message(self, *args):
        pass


def test_an_account_name_outside_the_devices_rules_is_shown_but_never_linked(client, tenant):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OddDevice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        device = DeviceFactory(folder=tenant.site_a, host="127.0.0.1", port=server.server_port)
        client.force_login(tenant.admin.user)
        response = client.get(_url("device-accounts", device))
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    page = _page(response)
    assert "odd/name&lt;b&gt;" in page
    assert "odd/name<b>" not in page
    assert "/accounts/odd" not in page


def test_the_change_and_delete_pages_say_up_front_what_would_refuse(client, tenant, device):
    client.force_login(tenant.admin.user)
    for name in ("device-account-password", "device-account-delete"):
        page = _page(client.get(_url(name, device, "root")))
        assert 'id="account-refusal"' in page
        assert "this service" in page
        page = _page(client.get(_url(name, device, "nobody")))
        assert "The device has no account “nobody”." in page
        page = _page(client.get(_url(name, device, "viewer")))
        assert 'id="account-refusal"' not in page
