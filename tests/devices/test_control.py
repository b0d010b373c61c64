"""Control through the service: restart with confirmation and PTZ presets, audited, by role."""

import pytest
from django.urls import reverse

from devices import control
from devices.vapix import VapixClient
from organizations.models import AuditEvent
from tests.devices.live_support import device_for, fresh_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _url(name, device):
    return reverse(f"devices:{name}", args=[device.organization_id, device.pk])


def _events(device, action):
    return AuditEvent.objects.filter(organization=device.organization, action=action)


@pytest.fixture
def dome(clean_camera_fleet, folders):
    """The P3265-V (no PTZ) in Room A1x, inside the operator's Site A."""
    camera = clean_camera_fleet.by_product("P3265-V")
    return camera, device_for(camera, folders.room_a1x)


@pytest.fixture
def ptz(clean_camera_fleet, folders):
    """The Q6135-LE (PTZ) in Building A1, with a second preset "Gate" away from home."""
    camera = clean_camera_fleet.by_product("Q6135-LE")
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        client._ptz_command({"rpan": "40", "rtilt": "10", "camera": "1"})
        client.save_ptz_preset("Gate")
        client.goto_ptz_preset("Home")
    return camera, device_for(camera, folders.building_a1)


def _position(camera):
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        return client.get_ptz_position()


def test_restart_asks_first_then_restarts_the_camera_and_audits(
    client, operator, dome, clean_camera_fleet
):
    camera, device = dome
    client.force_login(operator.user)
    confirmation = client.get(_url("device-restart", device))
    assert confirmation.status_code == 200
    assert "Restart AXIS P3265-V " in confirmation.content.decode()
    assert not _events(device, "device.restart").exists()
    boot_id = clean_camera_fleet.state(camera.serial)["boot_id"]

    response = client.post(_url("device-restart", device))
    assert response.status_code == 302
    assert response.url == _url("device-live", device)
    clean_camera_fleet.wait_for(
        camera.serial, lambda state: state["boot_id"] != boot_id and state["phase"] == "running"
    )
    event = _events(device, "device.restart").get()
    assert event.actor_user_id == operator.user_id
    assert event.target_id == str(device.pk)
    page = client.get(response.url)
    assert "is restarting" in page.content.decode()


def test_a_restart_the_camera_cannot_take_shows_why_and_audits_nothing(
    client, admin, dome, clean_camera_fleet
):
    camera, device = dome
    clean_camera_fleet.set_fault(camera.serial, "offline")
    client.force_login(admin.user)
    response = client.post(_url("device-restart", device), follow=True)
    assert response.status_code == 200
    assert "The device could not be reached." in response.content.decode()
    assert not _events(device, "device.restart").exists()


def test_ptz_presets_are_listed_and_go_to_moves_the_camera(client, operator, ptz):
    camera, device = ptz
    client.force_login(operator.user)
    live = client.get(_url("device-live", device)).content.decode()
    assert f'hx-get="{_url("device-ptz", device)}"' in live
    listing = client.get(_url("device-ptz", device), HTTP_HX_REQUEST="true")
    html = listing.content.decode()
    assert listing.status_code == 200
    assert html.index("Home") < html.index("Gate")
    assert "<html" not in html  # htmx gets the list alone

    home = _position(camera)
    response = client.post(_url("device-ptz", device), {"preset": "Gate"})
    assert response.status_code == 302
    assert _position(camera) != home
    event = _events(device, "device.ptz_goto").get()
    assert event.data == {"preset": "Gate"}


def test_the_cameras_refusal_of_a_preset_is_shown_as_it_gave_it(client, operator, ptz):
    _camera, device = ptz
    client.force_login(operator.user)
    response = client.post(_url("device-ptz", device), {"preset": "Nowhere"}, follow=True)
    assert "The device refused: Error: preset not found" in response.content.decode()
    assert not _events(device, "device.ptz_goto").exists()
    blank = client.post(_url("device-ptz", device), {"preset": "  "}, follow=True)
    assert "Choose one of the device&#x27;s presets." in blank.content.decode()


def test_a_device_without_ptz_offers_no_presets(client, admin, dome):
    _camera, device = dome
    client.force_login(admin.user)
    live = client.get(_url("device-live", device)).content.decode()
    assert _url("device-ptz", device) not in live
    assert _url("device-restart", device) in live
    page = client.get(_url("device-ptz", device))
    assert "This device has no PTZ" in page.content.decode()
    client.post(_url("device-ptz", device), {"preset": "Home"})
    assert not _events(device, "device.ptz_goto").exists()


def test_a_viewer_may_not_restart_or_move_the_camera(client, viewer, ptz, clean_camera_fleet):
    camera, device = ptz
    client.force_login(viewer.user)
    boot_id = clean_camera_fleet.state(camera.serial)["boot_id"]
    for response in (
        client.get(_url("device-restart", device)),
        client.post(_url("device-restart", device)),
        client.get(_url("device-ptz", device)),
        client.post(_url("device-ptz", device), {"preset": "Gate"}),
    ):
        assert response.status_code == 403
    assert clean_camera_fleet.state(camera.serial)["boot_id"] == boot_id
    assert not _events(device, "device.restart").exists()
    assert not _events(device, "device.ptz_goto").exists()
    live = client.get(_url("device-live", device)).content.decode()
    assert _url("device-restart", device) not in live
    assert _url("device-ptz", device) not in live


def test_an_operator_controls_only_devices_in_granted_folders(
    client, tenant, clean_camera_fleet, folders
):
    """The operator holds Site A: Site B is out of reach (404); seeing it is not controlling it."""
    from organizations import services

    camera = clean_camera_fleet.by_product("P3265-V")
    elsewhere = device_for(camera, folders.site_b)
    client.force_login(tenant.operator.user)
    assert client.get(_url("device-restart", elsewhere)).status_code == 404
    assert client.post(_url("device-restart", elsewhere)).status_code == 404
    services.change_member(
        actor=tenant.owner,
        member_id=tenant.operator.pk,
        role="viewer",
        folder_ids=[folders.site_a.pk, folders.site_b.pk],
    )
    assert client.get(_url("device-restart", elsewhere)).status_code == 403


@pytest.mark.parametrize("who", ["owner", "admin", "operator"])
def test_operators_and_above_see_the_restart_confirmation(client, tenant, who, dome):
    _camera, device = dome
    client.force_login(getattr(tenant, who).user)
    assert client.get(_url("device-restart", device)).status_code == 200


def test_another_organizations_member_gets_404(client, other_tenant, ptz):
    _camera, device = ptz
    client.force_login(other_tenant.owner.user)
    for name in ("device-restart", "device-ptz"):
        assert client.get(_url(name, device)).status_code == 404
        assert client.post(_url(name, device), {"preset": "Gate"}).status_code == 404


def test_the_audit_labels_are_registered():
    from organizations.audit import event_type_label

    assert event_type_label("device.restart") == str(control.CONTROL_EVENT_TYPES["device.restart"])
    assert event_type_label("device.ptz_goto") == "PTZ moved to a preset"
