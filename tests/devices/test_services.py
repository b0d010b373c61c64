"""Device writes: store (onboarding's write half), move, remove, status transitions."""

import json
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from common.errors import Conflict, Forbidden, Invalid, NotFound
from devices import services
from devices.errors import AlreadyOnboarded
from devices.models import Device, DeviceStatusChange
from devices.networks import resolve_device_address
from devices.services import DeviceIdentity
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.support.cast import build_tenant

MARKER_PASSWORD = "marker-pw-5c1e9d"
FINGERPRINT = "AB:" * 31 + "CD"


def _identity(serial_number: str = "b8a44f0000aa") -> DeviceIdentity:
    return DeviceIdentity(
        serial_number=serial_number,
        product_number="Q6135-LE",
        product_name="AXIS Q6135-LE PTZ Network Camera",
        firmware_version="12.6.85",
        mac_address="b8a44f0000aa",
        hardware_id="7A5",
        architecture="aarch64",
        has_ptz=True,
    )


def _create(actor, folder, serial_number="b8a44f0000aa", **overrides):
    arguments = {
        "actor": actor,
        "folder": folder,
        "identity": _identity(serial_number),
        "address": resolve_device_address("10.1.2.3", 443),
        "scheme": "https",
        "username": "camfleet",
        "password": MARKER_PASSWORD,
        "certificate_fingerprint": FINGERPRINT,
        **overrides,
    }
    return services.create_device(**arguments)


def _events(organization, action):
    return list(AuditEvent.objects.filter(organization=organization, action=action))


def test_an_admin_stores_a_device_with_its_identity_pin_and_encrypted_password(tenant):
    device = _create(tenant.admin, tenant.site_a)
    device.refresh_from_db()
    assert device.organization == tenant.organization
    assert device.folder == tenant.site_a
    assert device.serial_number == "B8A44F0000AA"
    assert device.mac_address == "B8:A4:4F:00:00:AA"
    assert device.name == "AXIS Q6135-LE PTZ Network Camera B8A44F0000AA"
    assert device.has_ptz is True
    assert (device.scheme, device.host, device.port) == ("https", "10.1.2.3", 443)
    assert device.certificate_fingerprint == "ab" * 31 + "cd"
    assert device.status == Device.Status.ONLINE
    assert device.last_seen_at is not None
    assert MARKER_PASSWORD not in device.encrypted_password
    assert device.password.reveal() == MARKER_PASSWORD
    [event] = _events(tenant.organization, "device.create")
    assert event.target_id == str(device.pk)
    assert event.data["serial_number"] == "B8A44F0000AA"


def test_the_password_never_reaches_the_audit_log(tenant):
    device = _create(tenant.admin, tenant.site_a)
    other = DeviceFactory(folder=tenant.site_a)
    services.move_device(actor=tenant.admin, device=device, folder=tenant.site_b)
    services.remove_device(actor=tenant.admin, device=device)
    services.remove_device(actor=tenant.admin, device=other)
    events = AuditEvent.objects.filter(
        organization=tenant.organization, action__startswith="device."
    )
    assert events.count() == 4
    for event in events:
        dumped = json.dumps(event.data) + event.target_label + event.actor_label
        assert MARKER_PASSWORD not in dumped
        assert "device-pass" not in dumped


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_store_devices(tenant, role):
    with pytest.raises(Forbidden):
        _create(getattr(tenant, role), tenant.site_a)
    assert not Device.objects.exists()


def test_a_folder_of_another_organization_is_404(tenant, other_tenant):
    with pytest.raises(NotFound):
        _create(tenant.admin, other_tenant.site_a)
    assert not Device.objects.exists()


@pytest.mark.parametrize("fingerprint", ["", "ab:cd", "g" * 64])
def test_https_needs_a_sha256_certificate_fingerprint(tenant, fingerprint):
    with pytest.raises(Invalid) as refused:
        _create(tenant.admin, tenant.site_a, certificate_fingerprint=fingerprint)
    assert refused.value.code == "invalid_fingerprint"
    assert not Device.objects.exists()


@pytest.mark.parametrize("same_organization", [True, False])
def test_a_serial_number_already_onboarded_is_refused_naming_no_organization(
    tenant, other_tenant, same_organization
):
    owner = tenant if same_organization else other_tenant
    DeviceFactory(folder=owner.site_b, serial_number="B8A44F0000AA")
    with pytest.raises(AlreadyOnboarded) as refused:
        _create(tenant.admin, tenant.site_a, serial_number="b8a44f0000aa ")
    assert refused.value.code == "already_onboarded"
    message = str(refused.value.message)
    assert "already in an organization" in message
    assert "Other Corp" not in message
    assert "Acme" not in message
    assert Device.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_organizations_onboarding_one_camera_at_once_one_wins(race):
    first, second = build_tenant("First"), build_tenant("Second")
    outcomes = race(
        lambda: _create(first.admin, first.site_a),
        lambda: _create(second.admin, second.site_a),
    )
    created = [o for o in outcomes if isinstance(o, Device)]
    refused = [o for o in outcomes if isinstance(o, AlreadyOnboarded)]
    assert len(created) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert "already in an organization" in str(refused[0].message)
    assert Device.objects.count() == 1
    assert AuditEvent.objects.filter(action="device.create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_unique_constraint_decides_when_the_other_insert_is_not_committed_yet():
    first, second = build_tenant("First"), build_tenant("Second")
    inserted, release = threading.Event(), threading.Event()
    outcome: list = []

    def insert_and_hold():
        try:
            with transaction.atomic():
                DeviceFactory(folder=first.site_a, serial_number="B8A44F0000AA")
                inserted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def onboard():
        try:
            outcome.append(_create(second.admin, second.site_a))
        except Exception as error:  # the outcome is what the test inspects
            outcome.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=insert_and_hold)
    holder.start()
    assert inserted.wait(timeout=10)
    # The uncommitted row is invisible to the fast-path check; the INSERT waits on the index.
    onboarding = threading.Thread(target=onboard)
    onboarding.start()
    time.sleep(0.5)
    release.set()
    holder.join(timeout=10)
    onboarding.join(timeout=10)
    [result] = outcome
    assert isinstance(result, AlreadyOnboarded), result
    assert Device.objects.get().organization == first.organization
    assert not AuditEvent.objects.filter(organization=second.organization, action="device.create")


def test_the_database_keeps_a_device_folder_inside_its_organization(tenant, other_tenant):
    device = DeviceFactory(folder=tenant.site_a)
    with transaction.atomic():
        # Deferred to the commit like Django's own foreign keys; checked at once here.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS device_folder_same_organization IMMEDIATE")
        moved = Device.objects.filter(pk=device.pk)
        with (
            pytest.raises(IntegrityError, match="device_folder_same_organization"),
            transaction.atomic(),
        ):
            moved.update(folder=other_tenant.site_a)
    device.refresh_from_db()
    assert device.folder == tenant.site_a


def test_the_database_refuses_a_serial_number_twice_and_in_lower_case(tenant, other_tenant):
    DeviceFactory(folder=tenant.site_a, serial_number="B8A44F0000AA")
    with (
        pytest.raises(IntegrityError, match="device_serial_number_in_one_organization"),
        transaction.atomic(),
    ):
        DeviceFactory(folder=other_tenant.site_a, serial_number="B8A44F0000AA")
    with (
        pytest.raises(IntegrityError, match="device_serial_number_normalized"),
        transaction.atomic(),
    ):
        DeviceFactory(folder=other_tenant.site_a, serial_number="b8a44f0000bb")


def test_an_admin_moves_a_device_and_the_audit_says_from_where_to_where(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    moved = services.move_device(actor=tenant.admin, device=device, folder=tenant.room_a1x)
    device.refresh_from_db()
    assert moved.folder == device.folder == tenant.room_a1x
    [event] = _events(tenant.organization, "device.move")
    assert event.data == {"folder": {"from": str(tenant.site_a.pk), "to": str(tenant.room_a1x.pk)}}


def test_moving_a_device_to_its_own_folder_changes_nothing(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    services.move_device(actor=tenant.admin, device=device, folder=tenant.site_a)
    assert not _events(tenant.organization, "device.move")


def test_a_device_cannot_be_moved_into_another_organization(tenant, other_tenant):
    device = DeviceFactory(folder=tenant.site_a)
    with pytest.raises(NotFound):
        services.move_device(actor=tenant.admin, device=device, folder=other_tenant.site_a)
    device.refresh_from_db()
    assert device.folder == tenant.site_a


def test_a_device_of_another_organization_cannot_be_moved(tenant, other_tenant):
    device = DeviceFactory(folder=other_tenant.site_a)
    with pytest.raises(NotFound):
        services.move_device(actor=tenant.admin, device=device, folder=tenant.site_a)
    device.refresh_from_db()
    assert device.folder == other_tenant.site_a


def test_an_operator_cannot_move_devices(tenant):
    device = DeviceFactory(folder=tenant.building_a1)
    with pytest.raises(Forbidden):
        services.move_device(actor=tenant.operator, device=device, folder=tenant.room_a1x)
    device.refresh_from_db()
    assert device.folder == tenant.building_a1


def test_removing_a_device_destroys_its_credentials_and_history(tenant):
    device = DeviceFactory(folder=tenant.site_a, serial_number="B8A44F0000AA")
    services.record_device_status(device_id=device.pk, status="offline", reason="no answer")
    services.remove_device(actor=tenant.admin, device=device)
    assert not Device.objects.filter(pk=device.pk).exists()
    assert not DeviceStatusChange.objects.filter(device_id=device.pk).exists()
    [event] = _events(tenant.organization, "device.remove")
    assert event.target_id == str(device.pk)
    assert event.data["serial_number"] == "B8A44F0000AA"


def test_a_removed_device_onboards_again_as_a_new_device(tenant, other_tenant):
    device = DeviceFactory(folder=tenant.site_a, serial_number="B8A44F0000AA")
    services.remove_device(actor=tenant.admin, device=device)
    again = _create(other_tenant.admin, other_tenant.site_b, serial_number="B8A44F0000AA")
    assert again.pk != device.pk
    assert not again.status_changes.exists()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_remove_devices(tenant, role):
    device = DeviceFactory(folder=tenant.room_a1x)
    with pytest.raises(Forbidden):
        services.remove_device(actor=getattr(tenant, role), device=device)
    assert Device.objects.filter(pk=device.pk).exists()


def test_a_device_of_another_organization_cannot_be_removed(tenant, other_tenant):
    device = DeviceFactory(folder=other_tenant.site_a)
    with pytest.raises(NotFound):
        services.remove_device(actor=tenant.owner, device=device)
    assert Device.objects.filter(pk=device.pk).exists()


def test_a_status_transition_is_recorded_once_with_its_reason(tenant):
    device = DeviceFactory(folder=tenant.site_a, status=Device.Status.ONLINE)
    change = services.record_device_status(
        device_id=device.pk, status="offline", reason="connect timeout"
    )
    assert (change.previous_status, change.status, change.reason) == (
        "online",
        "offline",
        "connect timeout",
    )
    assert services.record_device_status(device_id=device.pk, status="offline") is None
    device.refresh_from_db()
    assert device.status == Device.Status.OFFLINE
    assert device.status_changed_at == change.changed_at
    assert DeviceStatusChange.objects.filter(device=device).count() == 1


def test_online_refreshes_last_seen_without_a_transition(tenant):
    device = DeviceFactory(folder=tenant.site_a, status=Device.Status.ONLINE)
    assert services.record_device_status(device_id=device.pk, status="online") is None
    device.refresh_from_db()
    assert device.last_seen_at is not None
    assert not DeviceStatusChange.objects.exists()


def test_the_status_history_follows_every_transition(tenant):
    device = DeviceFactory(folder=tenant.site_a, status=Device.Status.UNKNOWN)
    for status in ["online", "auth_failed", "auth_failed", "online", "offline", "unreachable"]:
        services.record_device_status(device_id=device.pk, status=status)
    history = DeviceStatusChange.objects.filter(device=device).order_by("changed_at", "id")
    assert [(c.previous_status, c.status) for c in history] == [
        ("unknown", "online"),
        ("online", "auth_failed"),
        ("auth_failed", "online"),
        ("online", "offline"),
        ("offline", "unreachable"),
    ]


def test_an_unknown_status_is_a_programming_error(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    with pytest.raises(ValueError, match="sleeping"):
        services.record_device_status(device_id=device.pk, status="sleeping")


@pytest.mark.django_db(transaction=True)
def test_concurrent_pollers_record_one_transition(race):
    tenant = build_tenant("Polled")
    device = DeviceFactory(folder=tenant.site_a, status=Device.Status.ONLINE)
    outcomes = race(
        *[
            lambda: services.record_device_status(device_id=device.pk, status="offline")
            for _ in range(4)
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len([o for o in outcomes if isinstance(o, DeviceStatusChange)]) == 1
    assert DeviceStatusChange.objects.filter(device=device).count() == 1


def test_recording_the_status_of_a_removed_device_does_nothing(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    services.remove_device(actor=tenant.admin, device=device)
    assert services.record_device_status(device_id=device.pk, status="offline") is None


def test_a_folder_holding_a_device_cannot_be_deleted(tenant):
    from organizations.services import delete_folder

    DeviceFactory(folder=tenant.site_b)
    with pytest.raises(Conflict) as refused:
        delete_folder(actor=tenant.admin, folder_id=tenant.site_b.pk, understood=True)
    assert refused.value.code == "folder_has_devices"


def test_device_events_have_words_on_the_activity_page():
    from organizations import audit

    assert audit.event_type_label("device.create") == "Device onboarded"
    assert audit.event_type_label("device.move") == "Device moved"
    assert audit.event_type_label("device.remove") == "Device removed"


def test_what_a_hostile_device_says_about_itself_is_stored_printable_and_within_the_columns(
    tenant,
):
    hostile = DeviceIdentity(
        serial_number="b8a44f0000cc",
        product_number="Q6135\x1b[2J-LE" + "9" * 100,
        product_name="\x1b]0;owned\x07AXIS\x00 Camera\u202e" + "x" * 300,
        firmware_version="12.6.85\n" + "1" * 100,
        hardware_id="7A5\r" * 30,
        architecture="aarch64\t" * 10,
    )

    device = _create(tenant.admin, tenant.site_a, identity=hostile)

    device.refresh_from_db()
    assert "AXIS Camera" in device.name
    for field in ("name", "product_number", "product_name", "firmware_version", "hardware_id"):
        value = getattr(device, field)
        assert value.isprintable(), field
        assert len(value) <= Device._meta.get_field(field).max_length, field
    assert device.architecture.isprintable()


@pytest.mark.parametrize("serial_number", ["b8a44f\x1b[2J0000dd", "B8A44F" * 20])
def test_a_serial_number_with_control_characters_or_too_long_is_refused(tenant, serial_number):
    with pytest.raises(Invalid):
        _create(tenant.admin, tenant.site_a, identity=_identity(serial_number))
    assert not Device.objects.exists()
