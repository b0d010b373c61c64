"""Polling one device against the simulator: statuses, transitions, identity, certificates."""

import pytest

from devices import connection, health, services
from devices.models import Device, DeviceStatusChange
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory

pytestmark = pytest.mark.usefixtures("clean_camera_fleet")


def device_for(camera, folder, **overrides) -> Device:
    """A stored device that is the simulated camera (as onboarding would have stored it)."""
    values = {
        "folder": folder,
        "serial_number": camera.serial,
        "product_number": camera.product_number,
        "firmware_version": camera.version,
        "scheme": Device.Scheme.HTTP,
        "host": camera.host,
        "port": camera.port,
        "username": camera.username,
        "password": camera.password,
        "status": Device.Status.UNKNOWN,
        **overrides,
    }
    return DeviceFactory(**values)


def history(device) -> list[tuple[str, str]]:
    changes = DeviceStatusChange.objects.filter(device=device).order_by("changed_at", "id")
    return [(change.previous_status, change.status) for change in changes]


def test_a_device_that_answers_is_online_and_seen(tenant, clean_camera_fleet):
    device = device_for(clean_camera_fleet.cameras[0], tenant.site_a)
    result = health.poll_device(device.pk)
    device.refresh_from_db()
    assert result.status == device.status == Device.Status.ONLINE
    assert device.last_seen_at is not None
    assert history(device) == [("unknown", "online")]


def test_online_offline_online_is_recorded_with_reasons_and_the_outage(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    health.poll_device(device.pk)
    clean_camera_fleet.set_fault(camera.serial, "offline")
    health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.status == Device.Status.OFFLINE
    assert device.offline_since is not None
    last_seen = device.last_seen_at
    reason = DeviceStatusChange.objects.get(device=device, status="offline").reason
    assert "could not be reached" in reason

    clean_camera_fleet.clear_faults(camera.serial)
    health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.status == Device.Status.ONLINE
    assert device.offline_since is None
    assert device.last_seen_at > last_seen
    assert history(device) == [("online", "offline"), ("offline", "online")]


def test_a_flapping_camera_records_each_transition_once(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[1]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    for is_down in [True, True, False, False, True, False, False]:
        clean_camera_fleet.set_fault(camera.serial, "offline", True if is_down else None)
        health.poll_device(device.pk)
    assert history(device) == [
        ("online", "offline"),
        ("offline", "online"),
        ("online", "offline"),
        ("offline", "online"),
    ]


def test_the_simulators_flapping_fault_leaves_a_consistent_history(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[1]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    # 20 simulated seconds = 0.1 s real: polls every 0.03 s see both states.
    clean_camera_fleet.set_fault(camera.serial, "flapping", 20)
    seen = set()
    for _ in range(40):
        seen.add(health.poll_device(device.pk).status)
        clean_camera_fleet.wait_for(camera.serial, lambda state: True, timeout=1)
    rows = history(device)
    assert seen == {"online", "offline"}
    assert rows
    assert all(previous != status for previous, status in rows)
    # Each transition starts where the one before ended: nothing doubled, nothing lost.
    assert all(rows[i][1] == rows[i + 1][0] for i in range(len(rows) - 1))


def test_a_wrong_stored_password_is_auth_failed(tenant, clean_camera_fleet):
    device = device_for(clean_camera_fleet.cameras[0], tenant.site_a, password="not-the-password")
    result = health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.status == Device.Status.AUTH_FAILED
    assert "refused the user name or password" in result.reason
    assert device.offline_since is None  # it answers: not an outage


def test_a_firmware_change_is_stored_and_audited_once_with_before_and_after(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[1]
    device = device_for(camera, tenant.site_a, firmware_version="10.12.1", hardware_id="OLD")
    health.poll_device(device.pk)
    health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.firmware_version == camera.version
    events = AuditEvent.objects.filter(target_id=str(device.pk), action="device.identity_change")
    assert events.count() == 1
    data = events.get().data
    assert data["firmware_version"] == {"from": "10.12.1", "to": camera.version}
    assert data["hardware_id"]["from"] == "OLD"
    assert events.get().actor_label == services.HEALTH_CHECK_ACTOR


def test_another_device_at_the_address_is_unreachable_and_changes_nothing(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, serial_number="ACCC8E000001")
    result = health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.status == Device.Status.UNREACHABLE
    assert camera.serial in result.reason
    assert device.firmware_version == camera.version
    assert device.serial_number == "ACCC8E000001"


def test_an_address_no_longer_allowed_is_unreachable(tenant, clean_camera_fleet, settings):
    device = device_for(clean_camera_fleet.cameras[0], tenant.site_a)
    settings.DEVICE_ALLOW_LOOPBACK = False
    result = health.poll_device(device.pk)
    assert result.status == Device.Status.UNREACHABLE
    assert "loopback" in result.reason


def test_a_name_that_does_not_resolve_is_unreachable(tenant):
    device = DeviceFactory(folder=tenant.site_a, host="camera.invalid")
    assert health.poll_device(device.pk).status == Device.Status.UNREACHABLE


def test_an_error_page_instead_of_vapix_is_offline(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a)
    clean_camera_fleet.set_fault(camera.serial, "html-errors", 500)
    assert health.poll_device(device.pk).status == Device.Status.OFFLINE


def test_old_firmware_without_basic_device_info_is_polled_through_parameters(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.by_product("M3024-L")
    device = device_for(camera, tenant.site_a, firmware_version="5.0.0")
    assert health.poll_device(device.pk).status == Device.Status.ONLINE
    device.refresh_from_db()
    assert device.firmware_version == camera.version


def test_a_removed_device_is_skipped(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    device_id = device.pk
    device.delete()
    assert health.poll_device(device_id) is None


# --- Certificates -----------------------------------------------------------------------------


def https_device_for(camera, folder, **overrides) -> Device:
    return device_for(
        camera,
        folder,
        scheme=Device.Scheme.HTTPS,
        port=camera.https_port,
        certificate_fingerprint=camera.certificate_sha256,
        **overrides,
    )


@pytest.fixture
def clients_built(monkeypatch):
    """Record every VAPIX client the service builds (each one carries the device password)."""
    built = []
    real_client_for = connection.client_for

    def recording_client_for(address, **options):
        built.append(address)
        return real_client_for(address, **options)

    monkeypatch.setattr(connection, "client_for", recording_client_for)
    return built


def test_a_regenerated_certificate_stops_credentials_until_accepted(
    tenant, clean_camera_fleet, clients_built
):
    camera = clean_camera_fleet.cameras[2]
    device = https_device_for(camera, tenant.site_a)
    assert health.poll_device(device.pk).status == Device.Status.ONLINE

    new_fingerprint = clean_camera_fleet.regenerate_certificate(camera.serial)
    # The pinned client refuses the new certificate during the handshake: nothing is sent.
    result = health.poll_device(device.pk)
    device.refresh_from_db()
    assert result.status == device.status == Device.Status.CERTIFICATE_CHANGED
    assert device.presented_fingerprint == new_fingerprint
    assert device.certificate_fingerprint != new_fingerprint

    clients_built.clear()
    for _ in range(3):
        assert health.poll_device(device.pk).status == Device.Status.CERTIFICATE_CHANGED
    assert clients_built == []  # no client, so no credentials, while the change is undecided
    assert history(device) == [("unknown", "online"), ("online", "certificate_changed")]


def test_a_device_back_on_its_pinned_certificate_is_polled_again(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[2]
    device = https_device_for(
        camera,
        tenant.site_a,
        status=Device.Status.CERTIFICATE_CHANGED,
        presented_fingerprint="ab" * 32,
    )
    assert health.poll_device(device.pk).status == Device.Status.ONLINE
    device.refresh_from_db()
    assert device.presented_fingerprint == ""


def test_accepting_the_presented_certificate_brings_the_device_back_online(
    tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    camera = clean_camera_fleet.cameras[2]
    device = https_device_for(camera, tenant.site_a)
    health.poll_device(device.pk)
    old_fingerprint = camera.certificate_sha256
    new_fingerprint = clean_camera_fleet.regenerate_certificate(camera.serial)
    health.poll_device(device.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        services.accept_certificate(
            actor=tenant.admin, device_id=device.pk, fingerprint=new_fingerprint.upper()
        )
    assert len(callbacks) == 1  # a poll right away
    device.refresh_from_db()
    assert device.certificate_fingerprint == new_fingerprint
    assert device.presented_fingerprint == ""
    assert device.status == Device.Status.UNKNOWN
    event = AuditEvent.objects.get(target_id=str(device.pk), action="device.certificate_accept")
    assert event.data["certificate_fingerprint"] == {"from": old_fingerprint, "to": new_fingerprint}
    assert health.poll_device(device.pk).status == Device.Status.ONLINE
    assert history(device)[-2:] == [("certificate_changed", "unknown"), ("unknown", "online")]


def test_a_poll_that_finds_the_same_status_refreshes_last_seen_without_a_transition(
    tenant, clean_camera_fleet
):
    device = device_for(clean_camera_fleet.cameras[0], tenant.site_a, status="online")
    health.poll_device(device.pk)
    device.refresh_from_db()
    first_seen = device.last_seen_at
    health.poll_device(device.pk)
    device.refresh_from_db()
    assert device.last_seen_at > first_seen
    assert history(device) == []


def test_a_status_changed_by_someone_else_during_the_poll_is_still_recorded(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, status="online")
    # The row the poll read says online; meanwhile the device became unknown (a certificate
    # accepted, say): the poll's "online" is a transition and is recorded.
    Device.objects.filter(pk=device.pk).update(status="unknown")
    health.record_result(device, health.check_device(device))
    assert history(device) == [("unknown", "online")]


def test_a_device_waiting_for_a_certificate_decision_goes_offline_and_comes_back_waiting(
    tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[2]
    device = https_device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    new_fingerprint = clean_camera_fleet.regenerate_certificate(camera.serial)
    health.poll_device(device.pk)
    clean_camera_fleet.set_fault(camera.serial, "offline")
    assert health.poll_device(device.pk).status == Device.Status.OFFLINE
    clean_camera_fleet.clear_faults(camera.serial)
    # Back with the new certificate: the pinned client refuses it in the handshake again.
    assert health.poll_device(device.pk).status == Device.Status.CERTIFICATE_CHANGED
    device.refresh_from_db()
    assert device.presented_fingerprint == new_fingerprint
    assert history(device) == [
        ("online", "certificate_changed"),
        ("certificate_changed", "offline"),
        ("offline", "certificate_changed"),
    ]
