"""Device list: CSV export of the filtered list, and the bulk "Move to folder" (admin+)."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from devices import services
from devices.models import Device
from organizations.models import AuditEvent
from tests.devices.factories import DEVICE_PASSWORD, DeviceFactory

pytestmark = pytest.mark.django_db


def _export(client, membership, headers=None, **query) -> list[list[str]]:
    client.force_login(membership.user)
    url = reverse("devices:device-export", args=[membership.organization_id])
    response = client.get(url, query, headers=headers)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="devices-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_export_holds_the_filtered_visible_devices_without_credentials(
    client, viewer, tenant, other_tenant
):
    DeviceFactory(
        folder=tenant.building_a1, name="Gate", product_number="Q1656", host="10.1.2.3", port=8080
    )
    DeviceFactory(folder=tenant.room_a1x, name="Hall", product_number="M3086-V")
    DeviceFactory(folder=tenant.site_b, name="Outside grants", product_number="Q1656")
    DeviceFactory(folder=other_tenant.building_a1, name="Other tenant", product_number="Q1656")
    header, *rows = _export(client, viewer, model="Q1656")
    assert header[:4] == ["Name", "Serial number", "MAC address", "Model"]
    assert [row[0] for row in rows] == ["Gate"]
    assert rows[0][7] == "http://10.1.2.3:8080"
    assert rows[0][8] == "Building A1"
    assert rows[0][6] == "Online"
    everything = "\n".join(",".join(row) for row in _export(client, viewer))
    assert "Hall" in everything
    assert "Outside grants" not in everything
    assert "Other tenant" not in everything
    assert DEVICE_PASSWORD not in everything
    assert "root" not in everything  # the device user name stays out too


def test_export_neutralises_spreadsheet_formulas(client, admin, tenant):
    for name in ("=HYPERLINK(1)", "+1+1", "-2", "@SUM(A1)", "plain"):
        DeviceFactory(folder=tenant.top, name=name)
    _header, *rows = _export(client, admin, ordering="name")
    assert sorted(row[0] for row in rows) == sorted(
        ["'=HYPERLINK(1)", "'+1+1", "'-2", "'@SUM(A1)", "plain"]
    )


def test_export_in_japanese_translates_the_header_and_statuses(client, admin, tenant):
    DeviceFactory(folder=tenant.top, status=Device.Status.OFFLINE)
    header, row = _export(client, admin, headers={"accept-language": "ja"})
    assert header[0] == "名前"
    assert row[6] == "オフライン"


def test_export_with_a_bad_filter_goes_back_to_the_list(client, admin, tenant):
    client.force_login(admin.user)
    url = reverse("devices:device-export", args=[tenant.organization.pk])
    response = client.get(url, {"ordering": "password"})
    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("devices:device-list", args=[tenant.organization.pk])
    )


def _move(client, membership, devices, folder, query=""):
    client.force_login(membership.user)
    url = reverse("devices:device-bulk-move", args=[membership.organization_id])
    data = {"selection": [str(device.pk) for device in devices], "query": query}
    if folder is not None:
        data["folder"] = str(folder.pk)
    return client.post(url, data)


def _messages(client, organization) -> str:
    return client.get(reverse("devices:device-list", args=[organization.pk])).content.decode()


def test_admin_moves_selected_devices_in_one_go_audited(client, admin, tenant):
    devices = DeviceFactory.create_batch(3, folder=tenant.top)
    already = DeviceFactory(folder=tenant.site_b)
    response = _move(client, admin, [*devices, already], tenant.site_b, query="q=cam&page=2&x=1")
    list_url = reverse("devices:device-list", args=[tenant.organization.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{list_url}?q=cam&page=2"  # our own parameters only
    assert set(Device.objects.filter(folder=tenant.site_b)) == {*devices, already}
    events = AuditEvent.objects.filter(organization=tenant.organization, action="device.move")
    assert sorted(event.target_id for event in events) == sorted(str(d.pk) for d in devices)
    assert events[0].data == {"folder": {"from": str(tenant.top.pk), "to": str(tenant.site_b.pk)}}
    assert "3 devices moved to “Site B”." in _messages(client, tenant.organization)


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_move_devices(client, tenant, role):
    device = DeviceFactory(folder=tenant.building_a1)
    response = _move(client, getattr(tenant, role), [device], tenant.room_a1x)
    assert response.status_code == 403
    device.refresh_from_db()
    assert device.folder == tenant.building_a1
    assert not AuditEvent.objects.filter(action="device.move").exists()


def test_a_device_of_another_organization_refuses_the_whole_move(
    client, admin, tenant, other_tenant
):
    mine = DeviceFactory(folder=tenant.top)
    theirs = DeviceFactory(folder=other_tenant.top)
    response = _move(client, admin, [mine, theirs], tenant.site_b)
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.folder == tenant.top
    assert theirs.folder == other_tenant.top
    assert "nothing was moved" in _messages(client, tenant.organization)


def test_moving_to_a_folder_of_another_organization_is_refused(client, admin, tenant, other_tenant):
    device = DeviceFactory(folder=tenant.top)
    _move(client, admin, [device], other_tenant.site_b)
    device.refresh_from_db()
    assert device.folder == tenant.top
    assert "Select a valid choice." in _messages(client, tenant.organization)


def test_moving_nothing_or_nowhere_says_what_to_do(client, admin, tenant):
    device = DeviceFactory(folder=tenant.top)
    _move(client, admin, [], tenant.site_b)
    assert "Select at least one device to move." in _messages(client, tenant.organization)
    _move(client, admin, [device], None)
    assert "Choose the folder to move the devices to." in _messages(client, tenant.organization)
    client.post(
        reverse("devices:device-bulk-move", args=[tenant.organization.pk]),
        {"selection": ["not-an-id"], "folder": str(tenant.site_b.pk)},
    )
    assert "Select devices from the list." in _messages(client, tenant.organization)
    device.refresh_from_db()
    assert device.folder == tenant.top


def test_the_bulk_move_refuses_more_than_its_limit(admin, tenant, monkeypatch):
    monkeypatch.setattr(services, "BULK_MOVE_LIMIT", 2)
    devices = DeviceFactory.create_batch(3, folder=tenant.top)
    with pytest.raises(services.Invalid, match="at most 2 devices"):
        services.move_devices(actor=admin, device_ids=[d.pk for d in devices], folder=tenant.site_b)
    assert Device.objects.filter(folder=tenant.top).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_the_same_devices_at_once_record_each_move_once(tenant, race):
    devices = DeviceFactory.create_batch(4, folder=tenant.top)
    ids = [device.pk for device in devices]
    outcomes = race(
        lambda: services.move_devices(actor=tenant.admin, device_ids=ids, folder=tenant.site_b),
        lambda: services.move_devices(actor=tenant.owner, device_ids=ids, folder=tenant.site_b),
    )
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    # One of them moved all four; the other found them already there.
    assert sorted(len(outcome) for outcome in outcomes) == [0, 4]
    assert AuditEvent.objects.filter(action="device.move").count() == 4
    assert Device.objects.filter(folder=tenant.site_b).count() == 4
