"""Device accounts in the API, against a simulated camera over real HTTP."""

import pytest
from django.urls import reverse

from devices import services
from devices.vapix import DeviceRole, VapixClient
from tests.devices.onboarded import onboard
from tests.devices.test_accounts import MARKER_PASSWORD, RECORDER_AGENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def device(tenant, camera):
    return onboard(tenant.admin, tenant.site_a, camera)


def _list_url(device):
    return reverse("api:device-account-list", args=[device.organization_id, device.pk])


def _detail_url(device, name):
    return reverse("api:device-account-detail", args=[device.organization_id, device.pk, name])


def _users_on(camera) -> dict:
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        return {user.name: user for user in client.list_users()}


def test_the_list_marks_the_service_account(api, tenant, device):
    response = api.login(tenant.admin).get(_list_url(device))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    by_name = {account["name"]: account for account in body["results"]}
    assert by_name["root"]["protected"] is True
    assert by_name["root"]["used_by"][0]["kind"] == "service"
    assert by_name["operator"] == {
        "name": "operator",
        "role": "operator",
        "ptz": False,
        "used_by": [],
        "protected": False,
    }


def test_create_change_and_delete_through_an_api_token(api, tenant, device, camera):
    api.use_token_of(tenant.admin)
    created = api.post(
        _list_url(device),
        {"name": "script1", "password": MARKER_PASSWORD, "role": "admin", "ptz": True},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["role"] == "admin"
    assert MARKER_PASSWORD not in created.content.decode()
    assert (_users_on(camera)["script1"].role, _users_on(camera)["script1"].ptz) == (
        DeviceRole.ADMIN,
        True,
    )
    changed = api.patch(_detail_url(device, "script1"), {"password": MARKER_PASSWORD + "2"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "script1"
    with VapixClient(
        camera.host, port=camera.port, username="script1", password=MARKER_PASSWORD + "2"
    ) as script_client:
        assert script_client.whoami().name == "script1"
    assert api.delete(_detail_url(device, "script1")).status_code == 204
    assert "script1" not in _users_on(camera)


def test_bad_input_is_400_with_the_field(api, tenant, device):
    api.login(tenant.admin)
    response = api.post(
        _list_url(device), {"name": "no spaces", "password": MARKER_PASSWORD, "role": "viewer"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_account_name"
    assert "name" in response.json()["error"]["fields"]
    response = api.post(_list_url(device), {"name": "ok1", "password": "", "role": "boss"})
    assert response.status_code == 400
    assert {"password", "role"} <= set(response.json()["error"]["fields"])


def test_the_devices_refusal_is_409_with_its_words(api, tenant, device):
    response = api.login(tenant.admin).post(
        _list_url(device), {"name": "operator", "password": MARKER_PASSWORD, "role": "viewer"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "device_refused"
    assert "already exists" in response.json()["error"]["message"]


def test_accounts_in_use_are_refused_in_the_api(api, tenant, device, camera, clean_camera_fleet):
    clean_camera_fleet.set_applications(camera.serial, [RECORDER_AGENT])
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as device_client:
        device_client.add_user("recorderagent", "agent-pass-1", DeviceRole.VIEWER)
    api.login(tenant.admin)
    for name in ("root", "recorderagent"):
        patched = api.patch(_detail_url(device, name), {"password": MARKER_PASSWORD})
        assert patched.status_code == 409
        assert patched.json()["error"]["code"] == "account_in_use"
        deleted = api.delete(_detail_url(device, name))
        assert deleted.status_code == 409
    assert {"root", "recorderagent"} <= set(_users_on(camera))


def test_an_account_the_device_does_not_have_is_404(api, tenant, device):
    api.login(tenant.admin)
    assert api.delete(_detail_url(device, "nobody")).status_code == 404
    assert api.delete(_detail_url(device, "bad-name!")).status_code == 404


@pytest.mark.parametrize(
    ("role", "folder", "expected"),
    [
        ("operator", "site_a", 403),
        ("operator", "site_b", 404),
        ("viewer", "building_a1", 403),
        ("viewer", "site_a", 404),
    ],
)
def test_operators_and_viewers_get_403_or_404(
    api, tenant, clean_camera_fleet, role, folder, expected
):
    camera = clean_camera_fleet.by_product("P3265-V")
    device = onboard(tenant.admin, getattr(tenant, folder), camera)
    api.login(getattr(tenant, role))
    assert api.get(_list_url(device)).status_code == expected
    create = {"name": "x1", "password": MARKER_PASSWORD, "role": "viewer"}
    assert api.post(_list_url(device), create).status_code == expected
    patch = {"password": MARKER_PASSWORD}
    assert api.patch(_detail_url(device, "operator"), patch).status_code == expected
    assert api.delete(_detail_url(device, "operator")).status_code == expected
    assert set(_users_on(camera)) == {"root", "operator", "viewer"}


def test_another_organizations_device_is_404(api, other_tenant, device):
    api.login(other_tenant.owner)
    assert api.get(_list_url(device)).status_code == 404
    assert api.delete(_detail_url(device, "viewer")).status_code == 404


def test_a_device_whose_certificate_changed_gets_no_credentials(api, tenant, device, camera):
    services.record_device_status(device_id=device.pk, status="certificate_changed")
    response = api.login(tenant.admin).get(_list_url(device))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "certificate_untrusted"
    response = api.post(
        _list_url(device), {"name": "nocuser", "password": MARKER_PASSWORD, "role": "viewer"}
    )
    assert response.status_code == 502
    assert "nocuser" not in _users_on(camera)
