"""Removing a device from the organization: the confirmation page, what goes, what stays,
onboarding the same camera again, and two admins removing at once."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from devices import services
from devices.models import Device, DeviceStatusChange
from organizations.models import AuditEvent
from tests.devices.onboarded import onboard

MARKER_PASSWORD = "Removal-marker-4d2a"


def _remove_url(device):
    return reverse("devices:device-remove", args=[device.organization_id, device.pk])


def _detail_url(device):
    return reverse("devices:device-detail", args=[device.organization_id, device.pk])


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("M1075-L")


@pytest.fixture
def device(tenant, camera):
    device = onboard(tenant.admin, tenant.site_a, camera)
    services.record_device_status(device_id=device.pk, status="offline", reason="no answer")
    services.record_device_status(device_id=device.pk, status="online")
    return device


@pytest.mark.django_db
def test_the_confirmation_says_what_will_happen(client, tenant, device):
    client.force_login(tenant.admin.user)
    response = client.get(_remove_url(device))
    assert response.status_code == 200
    page = response.content.decode()
    assert device.serial_number in page
    assert "status history (2 changes)" in page
    assert "password of the device is destroyed" in page
    assert "new device without history" in page
    assert Device.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_the_device_page_offers_removal_to_admins_only(client, tenant, device):
    client.force_login(tenant.admin.user)
    assert _remove_url(device) in client.get(_detail_url(device)).content.decode()
    client.force_login(tenant.operator.user)
    page = client.get(_detail_url(device))
    assert page.status_code == 200
    assert _remove_url(device) not in page.content.decode()


@pytest.mark.django_db
def test_removal_destroys_credentials_and_history_and_the_audit_keeps_who_removed_what(
    client, tenant, device
):
    encrypted = device.encrypted_password
    client.force_login(tenant.admin.user)
    response = client.post(_remove_url(device))
    assert response.status_code == 302
    assert response.url == reverse("devices:device-list", args=[tenant.organization.pk])
    assert not Device.objects.filter(pk=device.pk).exists()
    assert not DeviceStatusChange.objects.filter(device_id=device.pk).exists()
    # The encrypted password is nowhere in the database any more.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM devices_device WHERE encrypted_password = %s", [encrypted]
        )
        assert cursor.fetchone()[0] == 0
    [event] = AuditEvent.objects.filter(organization=tenant.organization, action="device.remove")
    assert event.actor_user_id == tenant.admin.user_id
    assert event.target_id == str(device.pk)
    assert event.data["serial_number"] == device.serial_number
    assert encrypted not in str(event.data)
    assert device.password.reveal() not in str(event.data)


@pytest.mark.django_db
def test_onboarding_the_camera_again_makes_a_new_device_without_history(
    client, tenant, device, camera
):
    client.force_login(tenant.admin.user)
    client.post(_remove_url(device))
    again = onboard(tenant.admin, tenant.site_b, camera)
    assert again.pk != device.pk
    assert again.serial_number == device.serial_number
    assert again.folder == tenant.site_b
    assert not DeviceStatusChange.objects.filter(device=again).exists()
    assert not DeviceStatusChange.objects.filter(device_id=device.pk).exists()


@pytest.mark.django_db
def test_another_organization_may_onboard_a_removed_camera(
    client, tenant, other_tenant, device, camera
):
    client.force_login(tenant.admin.user)
    client.post(_remove_url(device))
    moved = onboard(other_tenant.admin, other_tenant.top, camera)
    assert moved.organization == other_tenant.organization
    assert moved.pk != device.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "folder", "expected"),
    [("operator", "site_a", 403), ("viewer", "site_a", 404), ("viewer", "building_a1", 403)],
)
def test_operators_and_viewers_cannot_remove(client, tenant, camera, role, folder, expected):
    device = onboard(tenant.admin, getattr(tenant, folder), camera)
    client.force_login(getattr(tenant, role).user)
    assert client.get(_remove_url(device)).status_code == expected
    assert client.post(_remove_url(device)).status_code == expected
    assert Device.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_another_organizations_admin_gets_404(client, other_tenant, device):
    client.force_login(other_tenant.owner.user)
    assert client.get(_remove_url(device)).status_code == 404
    assert client.post(_remove_url(device)).status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_admins_removing_at_once_one_removes_the_other_is_told_it_is_gone(tenant, camera, race):
    device = onboard(tenant.admin, tenant.site_a, camera)

    def remove_as(membership):
        def call():
            member_client = Client()
            member_client.force_login(membership.user)
            return member_client.post(_remove_url(device))

        return call

    outcomes = race(remove_as(tenant.admin), remove_as(tenant.owner))
    statuses = sorted(outcome.status_code for outcome in outcomes)
    assert statuses == [302, 404]
    gone = next(outcome for outcome in outcomes if outcome.status_code == 404)
    assert "already removed" in gone.content.decode()
    assert not Device.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="device.remove", target_id=str(device.pk)).count() == 1


@pytest.mark.django_db
def test_the_device_pages_dialog_loads_the_confirmation_without_the_page_around_it(
    client, tenant, device
):
    client.force_login(tenant.admin.user)
    detail = client.get(_detail_url(device)).content.decode()
    assert 'id="device-remove-dialog"' in detail
    assert f'hx-get="{_remove_url(device)}"' in detail
    dialog = client.get(_remove_url(device), HTTP_HX_REQUEST="true")
    assert dialog.status_code == 200
    body = dialog.content.decode()
    assert "<html" not in body
    assert 'id="removal-consequences"' in body
    assert f'action="{_remove_url(device)}"' in body
    assert 'data-bs-dismiss="modal"' in body
