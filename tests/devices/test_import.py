"""CSV import of many devices: file checks, the real Celery tasks against the simulator, Onboard."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid
from devices import imports
from devices.models import Device, DeviceImport, DeviceImportRow
from devices.simulator.fleet import write_fleet_file
from tests.devices.factories import DeviceFactory


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _fleet_csv(fleet, tmp_path) -> bytes:
    path = write_fleet_file(tmp_path / "fleet.csv", fleet.fleet.fleet_entries())
    return path.read_bytes()


def _start(actor, folder, content, run_tasks=None):
    def start():
        return imports.start_device_import(
            actor=actor, folder_id=folder.pk, file_name="cameras.csv", content=content
        )

    if run_tasks is None:
        return start()
    with run_tasks(execute=True):
        return start()


def _rows(device_import):
    return {row.line_number: row for row in device_import.rows.all()}


def test_the_simulators_fleet_file_is_checked_then_onboarded(
    tenant, clean_camera_fleet, tmp_path, django_capture_on_commit_callbacks
):
    content = _fleet_csv(clean_camera_fleet, tmp_path)
    device_import = _start(tenant.admin, tenant.site_b, content, django_capture_on_commit_callbacks)
    device_import.refresh_from_db()
    assert device_import.state == DeviceImport.State.CHECKED
    rows = list(device_import.rows.all())
    assert len(rows) == len(clean_camera_fleet.cameras)
    assert {row.state for row in rows} == {DeviceImportRow.State.READY}
    assert not Device.objects.exists()  # the check creates nothing
    with django_capture_on_commit_callbacks(execute=True):
        imports.start_onboarding(actor=tenant.admin, import_id=device_import.pk)
    device_import.refresh_from_db()
    assert device_import.state == DeviceImport.State.FINISHED
    assert Device.objects.filter(folder=tenant.site_b).count() == len(rows)
    serials = {camera.serial.upper() for camera in clean_camera_fleet.cameras}
    assert set(Device.objects.values_list("serial_number", flat=True)) == serials
    assert not device_import.rows.exclude(encrypted_password="").exists()


def test_mixed_good_and_bad_rows_onboard_only_the_good_ones(
    tenant, other_tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    good, wrong_password, taken, https = clean_camera_fleet.cameras[:4]
    DeviceFactory(folder=other_tenant.top, serial_number=taken.serial.upper())
    content = _csv(
        "host,port,scheme,username,password,folder",
        f"{good.host},{good.port},http,root,{good.password},Site A/Building A1",
        f"{wrong_password.host},{wrong_password.port},http,root,nope,",
        f"{taken.host},{taken.port},http,root,{taken.password},",
        f"{https.host},{https.https_port},https,root,{https.password},Acme Security/Site B",
        f"{good.host},{good.port},http,root,{good.password},",
        "169.254.0.9,80,http,root,x,",
        f"{good.host},70000,http,root,x,",
        f"{good.host},80,http,root,x,No Such Folder",
        "a,b",
    )
    device_import = _start(tenant.admin, tenant.top, content, django_capture_on_commit_callbacks)
    device_import.refresh_from_db()
    assert device_import.state == DeviceImport.State.CHECKED
    rows = _rows(device_import)
    assert rows[2].state == "ready"
    assert rows[2].target_folder == tenant.building_a1
    assert rows[2].serial_number == good.serial.upper()
    assert (rows[3].state, rows[3].code) == ("refused", "auth_failed")
    assert (rows[4].state, rows[4].code) == ("refused", "already_onboarded")
    assert other_tenant.organization.name not in rows[4].message
    assert rows[5].state == "ready"
    assert rows[5].target_folder == tenant.site_b
    assert rows[5].certificate_fingerprint == https.certificate_sha256.replace(":", "").lower()
    assert rows[6].code == "duplicate_row"
    assert rows[7].code == "address_not_allowed"
    assert rows[8].code == "invalid_port"
    assert rows[9].code == "folder_not_found"
    assert rows[10].code == "wrong_field_count"
    refused = [row for row in rows.values() if row.state == "refused"]
    assert all(not row.encrypted_password for row in refused)

    with django_capture_on_commit_callbacks(execute=True):
        imports.start_onboarding(actor=tenant.admin, import_id=device_import.pk)
    onboarded = Device.objects.filter(organization=tenant.organization)
    assert set(onboarded.values_list("serial_number", flat=True)) == {
        good.serial.upper(),
        https.serial.upper(),
    }
    https_device = onboarded.get(serial_number=https.serial.upper())
    assert https_device.certificate_fingerprint == rows[5].certificate_fingerprint
    results = list(imports.result_rows(device_import))
    assert results[0][0] == "line"
    assert [row[6] for row in results[1:]].count("onboarded") == 2
    assert all(good.password not in ",".join(map(str, row)) for row in results)


def test_onboard_twice_is_refused_and_onboards_nothing_twice(
    tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    camera = clean_camera_fleet.cameras[0]
    content = _csv(
        "host,port,username,password", f"{camera.host},{camera.port},root,{camera.password}"
    )
    device_import = _start(tenant.admin, tenant.top, content, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        imports.start_onboarding(actor=tenant.admin, import_id=device_import.pk)
    with pytest.raises(Conflict) as refused:
        imports.start_onboarding(actor=tenant.owner, import_id=device_import.pk)
    assert refused.value.code == "import_already_onboarding"
    assert Device.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_clicking_onboard_at_once_start_it_once(race, clean_camera_fleet):
    from tests.support.cast import build_tenant

    tenant = build_tenant("Racing Co")
    device_import = DeviceImport.objects.create(
        organization=tenant.organization,
        default_folder=tenant.top,
        state=DeviceImport.State.CHECKED,
        row_count=0,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    outcomes = race(
        lambda: imports.start_onboarding(actor=tenant.admin, import_id=device_import.pk),
        lambda: imports.start_onboarding(actor=tenant.owner, import_id=device_import.pk),
    )
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(conflicts) == 1, outcomes
    device_import.refresh_from_db()
    assert device_import.state == DeviceImport.State.FINISHED


def test_an_expired_import_cannot_be_onboarded_and_loses_its_passwords(
    tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    camera = clean_camera_fleet.cameras[0]
    content = _csv(
        "host,port,username,password", f"{camera.host},{camera.port},root,{camera.password}"
    )
    device_import = _start(tenant.admin, tenant.top, content, django_capture_on_commit_callbacks)
    assert device_import.rows.exclude(encrypted_password="").exists()
    with time_machine.travel(timezone.now() + imports.IMPORT_TTL + timedelta(minutes=1)):
        with pytest.raises(Conflict) as refused:
            imports.start_onboarding(actor=tenant.admin, import_id=device_import.pk)
        assert refused.value.code == "import_expired"
        assert imports.expire_device_imports() == 1
    device_import.refresh_from_db()
    assert device_import.state == DeviceImport.State.EXPIRED
    assert not device_import.rows.exclude(encrypted_password="").exists()
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "no_rows"),
        (b"host,username,password\n", "no_rows"),
        (b"\xff\xfeh\x00o\x00s\x00t\x00", "file_encoding"),
        (b"PK\x03\x04\x00\x00binary", "not_csv"),
        (b"name,address\nx,y\n", "wrong_header"),
        (b"host,port\n10.0.0.1,80\n", "wrong_header"),
        (b'host,username,password\n"10.0.0.1,root,pw\n', "not_csv"),
        (b"host,username,password\n" + b"10.0.0.1,root,pw\n" * 501, "too_many_rows"),
        (b"host,username,password\n" + b"x" * (1024 * 1024), "file_too_large"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_with_a_message(tenant, content, code):
    with pytest.raises(Invalid) as refused:
        _start(tenant.admin, tenant.top, content)
    assert refused.value.code == code
    assert refused.value.fields["file"]
    assert not DeviceImport.objects.exists()


def test_semicolons_and_a_byte_order_mark_are_accepted(tenant):
    content = "\ufeffHost;Username;Password;Scheme\n10.0.0.1;root;pw;https\n".encode()
    rows = imports.parse_import_file(content, membership=tenant.admin, default=tenant.top)
    assert rows[0].values["port"] == "443"
    assert not rows[0].code


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_import(tenant, role):
    with pytest.raises(Forbidden):
        _start(getattr(tenant, role), tenant.site_a, _csv("host,username,password", "a,b,c"))
    assert not DeviceImport.objects.exists()
