"""The API of pictures and controls: snapshot, restart, PTZ presets, recordings, by role."""

import pytest
from django.urls import reverse

from devices.vapix import VapixClient
from organizations.models import AuditEvent
from tests.devices.live_support import device_for, fresh_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _url(name, device):
    return reverse(f"api:{name}", args=[device.organization_id, device.pk])


@pytest.fixture
def dome(clean_camera_fleet, folders):
    camera = clean_camera_fleet.by_product("P3265-V")
    return camera, device_for(camera, folders.building_a1)


@pytest.fixture
def ptz(clean_camera_fleet, folders):
    camera = clean_camera_fleet.by_product("Q6135-LE")
    return camera, device_for(camera, folders.building_a1)


def test_a_viewer_token_takes_a_snapshot(api, viewer, dome):
    camera, device = dome
    response = api.use_token_of(viewer).get(_url("device-snapshot", device))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8\xff")
    assert camera.host.encode() not in response.content
    # A script that asks for a JPEG gets one (not 406).
    asked = api.client.get(
        _url("device-snapshot", device), headers={**api.headers, "Accept": "image/jpeg"}
    )
    assert asked.status_code == 200
    assert asked["Content-Type"] == "image/jpeg"


def test_a_device_failure_answers_502_with_the_stable_body(api, viewer, dome, clean_camera_fleet):
    camera, device = dome
    clean_camera_fleet.set_fault(camera.serial, "wrong-credentials")
    response = api.use_token_of(viewer).get(_url("device-snapshot", device))
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "auth_failed"
    assert error["message"] == "The device refused the user name or password."
    assert camera.password not in response.content.decode()


def test_restart_by_an_operator_is_accepted_and_audited(api, operator, dome, clean_camera_fleet):
    camera, device = dome
    boot_id = clean_camera_fleet.state(camera.serial)["boot_id"]
    response = api.use_token_of(operator).post(_url("device-restart", device))
    assert response.status_code == 202
    clean_camera_fleet.wait_for(
        camera.serial, lambda state: state["boot_id"] != boot_id and state["phase"] == "running"
    )
    event = AuditEvent.objects.get(action="device.restart")
    assert event.actor_user_id == operator.user_id


def test_a_viewer_token_may_not_restart_or_list_recordings(api, viewer, ptz):
    _camera, device = ptz
    api.use_token_of(viewer)
    assert api.post(_url("device-restart", device)).status_code == 403
    assert api.get(_url("device-ptz-presets", device)).status_code == 403
    assert api.post(_url("device-ptz-goto", device), {"preset": "Home"}).status_code == 403
    assert api.get(_url("device-recordings", device)).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="device.").exists()


def test_ptz_presets_and_go_to_with_the_devices_refusal(api, operator, ptz):
    camera, device = ptz
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        client._ptz_command({"rpan": "25", "camera": "1"})
        client.save_ptz_preset("Door")
        client.goto_ptz_preset("Home")
    api.use_token_of(operator)
    presets = api.get(_url("device-ptz-presets", device)).json()
    assert [preset["name"] for preset in presets] == ["Home", "Door"]
    assert api.post(_url("device-ptz-goto", device), {"preset": "Door"}).status_code == 202
    assert AuditEvent.objects.get(action="device.ptz_goto").data == {"preset": "Door"}

    refused = api.post(_url("device-ptz-goto", device), {"preset": "Nowhere"})
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "device_refused"
    assert refused.json()["error"]["message"] == "The device refused: Error: preset not found"
    assert api.post(_url("device-ptz-goto", device), {"preset": 7}).status_code == 400


def test_a_device_without_ptz_says_so(api, admin, dome):
    _camera, device = dome
    response = api.use_token_of(admin).get(_url("device-ptz-presets", device))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_ptz"


def test_recordings_are_listed_in_pages_and_a_backwards_range_is_refused(api, operator, dome):
    _camera, device = dome
    api.use_token_of(operator)
    response = api.get(_url("device-recordings", device))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 3
    first = body["results"][0]
    assert set(first) == {"id", "start_time", "stop_time", "type", "resolution"}
    starts = [row["start_time"] for row in body["results"]]
    assert starts == sorted(starts, reverse=True)
    backwards = api.get(
        _url("device-recordings", device) + "?start=2030-01-02T00:00:00Z&stop=2030-01-01T00:00:00Z"
    )
    assert backwards.status_code == 400
    assert "stop" in backwards.json()["error"]["fields"]


def test_another_organizations_token_gets_404(api, other_tenant, dome, clean_camera_fleet):
    camera, device = dome
    api.use_token_of(other_tenant.owner)
    for name in ("device-snapshot", "device-ptz-presets", "device-recordings"):
        assert api.get(_url(name, device)).status_code == 404
    assert api.post(_url("device-restart", device)).status_code == 404
    assert clean_camera_fleet.state(camera.serial)["phase"] == "running"
