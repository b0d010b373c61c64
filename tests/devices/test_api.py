"""The device API against the simulator: shape, onboarding errors, changes, import, roles."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from devices.models import Device, DeviceImport
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory, DeviceImportFactory
from tests.support.fleet import add_admin_account

DEVICE_FIELDS = {
    "id",
    "serial_number",
    "mac_address",
    "product_number",
    "product_name",
    "firmware_version",
    "status",
    "folder",
    "last_seen",
}


def _list_url(organization):
    return reverse("api:device-list", args=[organization.pk])


def _detail_url(device):
    return reverse("api:device-detail", args=[device.organization_id, device.pk])


def _body(camera, folder, **overrides):
    return {
        "host": camera.host,
        "port": camera.port,
        "scheme": "http",
        "username": camera.username,
        "password": camera.password,
        "folder": str(folder.pk),
        **overrides,
    }


def test_an_admin_onboards_a_device_and_gets_its_shape(api, tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    response = api.use_token_of(tenant.admin).post(
        _list_url(tenant.organization), _body(camera, tenant.site_a)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= DEVICE_FIELDS
    assert "password" not in body
    assert body["serial_number"] == camera.serial.upper()
    assert body["product_number"] == "M1075-L"
    assert body["firmware_version"] == camera.version
    assert body["folder"] == str(tenant.site_a.pk)
    assert body["status"] == "online"
    assert body["last_seen"]
    assert body["mac_address"]
    assert Device.objects.get(pk=body["id"]).organization == tenant.organization


def test_https_onboarding_answers_the_pinned_fingerprint(api, tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("P3265-V")
    response = api.login(tenant.admin).post(
        _list_url(tenant.organization),
        _body(camera, tenant.top, scheme="https", port=camera.https_port),
    )
    assert response.status_code == 201, response.content
    expected = camera.certificate_sha256.replace(":", "").lower()
    assert response.json()["certificate_fingerprint"] == expected


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"password": "wrong"}, 400, "auth_failed", "password"),
        ({"host": "169.254.3.4"}, 400, "address_not_allowed", "host"),
        ({"port": 1}, 400, "unreachable", "host"),
        (
            {"scheme": "https", "certificate_fingerprint": "00" * 32},
            400,
            "certificate_untrusted",
            "expected_fingerprint",
        ),
        ({"scheme": "gopher"}, 400, "invalid", "scheme"),
    ],
)
def test_onboarding_refusals_have_stable_codes(
    api, tenant, clean_camera_fleet, overrides, status, code, field
):
    camera = clean_camera_fleet.by_product("P3265-V")
    if overrides.get("scheme") == "https":
        overrides["port"] = camera.https_port
    response = api.login(tenant.admin).post(
        _list_url(tenant.organization), _body(camera, tenant.top, **overrides)
    )
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert error["message"]
    assert not Device.objects.exists()


def test_a_device_already_onboarded_answers_409(api, tenant, other_tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[2]
    DeviceFactory(folder=other_tenant.top, serial_number=camera.serial.upper())
    response = api.login(tenant.admin).post(
        _list_url(tenant.organization), _body(camera, tenant.top)
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_onboarded"
    assert other_tenant.organization.name not in error["message"]


def test_a_folder_of_another_organization_in_the_body_is_404(api, tenant, other_tenant):
    response = api.login(tenant.admin).post(
        _list_url(tenant.organization),
        {
            "host": "10.0.0.1",
            "username": "root",
            "password": "x",
            "folder": str(other_tenant.top.pk),
        },
    )
    assert response.status_code == 404
    assert not Device.objects.exists()


def test_the_list_is_paginated_and_shows_only_visible_devices(api, tenant, other_tenant):
    inside = DeviceFactory(folder=tenant.room_a1x)
    DeviceFactory(folder=tenant.site_b)
    DeviceFactory(folder=other_tenant.top)
    response = api.login(tenant.viewer).get(_list_url(tenant.organization))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [device["id"] for device in body["results"]] == [str(inside.pk)]
    assert api.login(tenant.admin).get(_list_url(tenant.organization)).json()["count"] == 2


def test_the_list_query_count_does_not_grow_with_devices(
    api, tenant, django_assert_max_num_queries
):
    for _ in range(20):
        DeviceFactory(folder=tenant.site_a)
    api.login(tenant.operator)
    with django_assert_max_num_queries(12):
        response = api.get(_list_url(tenant.organization))
    assert response.json()["count"] == 20


def test_a_device_is_read_moved_and_removed(api, tenant):
    device = DeviceFactory(folder=tenant.site_a)
    api.login(tenant.admin)
    assert api.get(_detail_url(device)).json()["id"] == str(device.pk)
    response = api.patch(_detail_url(device), {"folder": str(tenant.site_b.pk)})
    assert response.status_code == 200
    assert response.json()["folder"] == str(tenant.site_b.pk)
    assert api.delete(_detail_url(device)).status_code == 204
    assert not Device.objects.filter(pk=device.pk).exists()


def test_new_credentials_are_checked_before_they_are_stored(api, tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M1075-L")
    created = api.login(tenant.admin).post(
        _list_url(tenant.organization), _body(camera, tenant.top)
    )
    device = Device.objects.get(pk=created.json()["id"])
    wrong = api.patch(_detail_url(device), {"username": "root", "password": "wrong"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "auth_failed"
    half = api.patch(_detail_url(device), {"password": "Second-Admin-2026"})
    assert half.status_code == 400
    not_admin = api.patch(
        _detail_url(device), {"username": "operator", "password": camera.operator_password}
    )
    assert not_admin.status_code == 400
    assert not_admin.json()["error"]["code"] == "insufficient_privilege"
    add_admin_account(camera, "fleetadmin", "Second-Admin-2026")
    response = api.patch(
        _detail_url(device), {"username": "fleetadmin", "password": "Second-Admin-2026"}
    )
    assert response.status_code == 200, response.content
    device.refresh_from_db()
    assert device.username == "fleetadmin"
    assert device.password.reveal() == "Second-Admin-2026"
    event = AuditEvent.objects.get(action="device.credentials_change")
    assert "Second-Admin-2026" not in str(event.data)


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_read_but_cannot_change_devices(api, tenant, role):
    device = DeviceFactory(folder=tenant.building_a1)
    api.login(getattr(tenant, role))
    assert api.get(_detail_url(device)).status_code == 200
    assert api.post(_list_url(tenant.organization), {"host": "x"}).status_code == 403
    assert api.patch(_detail_url(device), {"folder": str(tenant.site_a.pk)}).status_code == 403
    assert api.delete(_detail_url(device)).status_code == 403
    assert Device.objects.filter(pk=device.pk, folder=tenant.building_a1).exists()


def test_a_device_outside_a_viewers_folders_is_404(api, tenant):
    device = DeviceFactory(folder=tenant.site_b)
    assert api.login(tenant.viewer).get(_detail_url(device)).status_code == 404


def test_the_csv_import_runs_through_the_api(
    api, tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    camera, other = clean_camera_fleet.cameras[:2]
    content = (
        "host,port,username,password\n"
        f"{camera.host},{camera.port},root,{camera.password}\n"
        f"{other.host},{other.port},root,wrong\n"
    ).encode()
    api.use_token_of(tenant.admin)
    url = reverse("api:device-import", args=[tenant.organization.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.client.post(
            url,
            {
                "file": SimpleUploadedFile("c.csv", content, "text/csv"),
                "folder": str(tenant.top.pk),
            },
            headers=api.headers,
        )
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    assert response["Location"].endswith(f"/devices/import/{import_id}/")
    detail = api.get(reverse("api:device-import-detail", args=[tenant.organization.pk, import_id]))
    body = detail.json()
    assert body["state"] == "checked"
    assert body["counts"] == {"ready": 1, "refused": 1}
    assert [row["code"] for row in body["rows"]] == ["", "auth_failed"]
    onboard_url = reverse("api:device-import-onboard", args=[tenant.organization.pk, import_id])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(onboard_url).status_code == 202
    again = api.post(onboard_url)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "import_already_onboarding"
    assert Device.objects.get().serial_number == camera.serial.upper()
    listed = api.get(url).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == import_id
    assert listed["results"][0]["state"] == "finished"


def test_a_bad_csv_file_answers_400_on_the_file_field(api, tenant):
    api.login(tenant.admin)
    url = reverse("api:device-import", args=[tenant.organization.pk])
    response = api.client.post(
        url,
        {"file": SimpleUploadedFile("c.csv", b"what,ever\n1,2\n"), "folder": str(tenant.top.pk)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_header"
    assert "file" in response.json()["error"]["fields"]
    assert not DeviceImport.objects.exists()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_import_or_read_imports(api, tenant, role):
    device_import = DeviceImportFactory(default_folder=tenant.top)
    api.login(getattr(tenant, role))
    url = reverse("api:device-import", args=[tenant.organization.pk])
    response = api.client.post(
        url, {"file": SimpleUploadedFile("c.csv", b"host,username,password\na,b,c\n")}
    )
    assert response.status_code == 403
    assert api.get(url).status_code == 403
    detail = reverse("api:device-import-detail", args=[tenant.organization.pk, device_import.pk])
    assert api.get(detail).status_code == 403
    onboard = reverse("api:device-import-onboard", args=[tenant.organization.pk, device_import.pk])
    assert api.post(onboard).status_code == 403
