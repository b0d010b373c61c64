"""Device detail page: identity, status and history, the device's audit events, who sees what."""

import pytest
from django.urls import reverse

from devices import services
from devices.models import Device
from tests.devices.factories import DEVICE_PASSWORD, DeviceFactory

pytestmark = pytest.mark.django_db


def _detail(client, membership, device, expected_status=200):
    client.force_login(membership.user)
    url = reverse("devices:device-detail", args=[membership.organization_id, device.pk])
    response = client.get(url)
    assert response.status_code == expected_status
    return response


@pytest.fixture
def device(tenant):
    return DeviceFactory(
        folder=tenant.building_a1,
        name="Gate camera",
        serial_number="B8A44F0A0B0C",
        mac_address="B8:A4:4F:0A:0B:0C",
        product_number="Q6135-LE",
        product_name="AXIS Q6135-LE PTZ Network Camera",
        firmware_version="11.11.73",
        hardware_id="7A1",
        architecture="armv7hf",
        has_ptz=True,
        scheme=Device.Scheme.HTTPS,
        host="10.7.0.5",
        port=8443,
        certificate_fingerprint="ab" * 32,
    )


def test_detail_shows_identity_address_and_fingerprint(client, viewer, device):
    response = _detail(client, viewer, device)
    html = response.content.decode()
    for text in (
        "Gate camera",
        "B8A44F0A0B0C",
        "B8:A4:4F:0A:0B:0C",
        "Q6135-LE",
        "AXIS Q6135-LE PTZ Network Camera",
        "11.11.73",
        "7A1",
        "armv7hf",
        "https://10.7.0.5:8443",
        "ab" * 32,
        "Building A1",
    ):
        assert text in html, text
    assert response.context["active_tab"] == "detail"
    assert DEVICE_PASSWORD not in html


def test_detail_shows_status_history_newest_first(client, viewer, device):
    services.record_device_status(device_id=device.pk, status="offline", reason="no answer")
    services.record_device_status(device_id=device.pk, status="online")
    response = _detail(client, viewer, device)
    history = response.context["status_history"]
    assert [(change.previous_status, change.status) for change in history] == [
        ("offline", "online"),
        ("online", "offline"),
    ]
    html = response.content.decode()
    assert "no answer" in html
    assert "Offline → Online" in html


def test_admin_sees_the_audit_events_of_this_device_only(client, admin, tenant, device):
    other = DeviceFactory(folder=tenant.top, name="Other camera")
    services.move_device(actor=admin, device=device, folder=tenant.room_a1x)
    services.move_device(actor=admin, device=other, folder=tenant.site_b)
    response = _detail(client, admin, device)
    events = response.context["audit_events"]
    assert [(event.action, event.target_id) for event in events] == [
        ("device.move", str(device.pk))
    ]
    html = response.content.decode()
    assert "Device moved" in html
    assert admin.user.email in html


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_members_without_the_activity_log_see_no_audit_events(client, tenant, device, role):
    services.move_device(actor=tenant.admin, device=device, folder=tenant.room_a1x)
    response = _detail(client, getattr(tenant, role), device)
    assert response.context["audit_events"] == []
    assert 'id="device-activity"' not in response.content.decode()
    assert tenant.admin.user.email not in response.content.decode()


@pytest.mark.parametrize("role", ["owner", "admin", "operator", "viewer"])
def test_every_role_sees_a_device_in_its_folders(client, tenant, device, role):
    _detail(client, getattr(tenant, role), device)


def test_device_outside_the_viewers_grants_is_404(client, viewer, tenant):
    outside = DeviceFactory(folder=tenant.site_b)
    _detail(client, viewer, outside, expected_status=404)


def test_device_of_another_organization_is_404(client, admin, other_tenant):
    theirs = DeviceFactory(folder=other_tenant.top)
    _detail(client, admin, theirs, expected_status=404)


def test_detail_links_back_to_the_list_and_marks_devices_in_the_navigation(client, viewer, device):
    html = _detail(client, viewer, device).content.decode()
    list_url = reverse("devices:device-list", args=[viewer.organization_id])
    assert f'aria-current="page" href="{list_url}"' in html
    assert f'href="{list_url}?folder={device.folder_id}"' in html


def test_detail_shows_a_new_certificate_waiting_for_a_decision(client, viewer, device):
    device.presented_fingerprint = "cd" * 32
    device.save(update_fields=["presented_fingerprint"])
    html = _detail(client, viewer, device).content.decode()
    assert "New certificate presented (SHA-256)" in html
    assert "cd" * 32 in html
