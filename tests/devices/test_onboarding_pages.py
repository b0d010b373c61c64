"""The onboarding pages: one device, and the CSV import with its preview and results."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from devices.models import Device, DeviceImport
from tests.devices.factories import DeviceImportFactory


def _onboard_url(tenant):
    return reverse("devices:device-onboard", args=[tenant.organization.pk])


def _form(camera, folder, **overrides):
    return {
        "host": camera.host,
        "port": camera.port,
        "scheme": "http",
        "username": camera.username,
        "password": camera.password,
        "expected_fingerprint": "",
        "folder": str(folder.pk),
        **overrides,
    }


def test_the_form_offers_the_visible_folders_and_preselects_one(client, tenant, other_tenant):
    client.force_login(tenant.admin.user)
    response = client.get(_onboard_url(tenant), {"folder": str(tenant.site_b.pk)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Building A1" in page
    assert "Other Corp" not in page
    assert f'value="{tenant.site_b.pk}" selected' in page


def test_an_admin_onboards_over_https_and_sees_the_pinned_fingerprint(
    client, tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.by_product("P3265-V")
    client.force_login(tenant.admin.user)
    response = client.post(
        _onboard_url(tenant),
        _form(camera, tenant.site_a, scheme="https", port=camera.https_port),
        follow=True,
    )
    assert response.status_code == 200
    device = Device.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "devices:device-onboarded", args=[tenant.organization.pk, device.pk]
    )
    page = response.content.decode()
    assert camera.certificate_sha256.replace(":", "").lower() in page
    assert camera.serial.upper() in page


def test_a_refusal_is_shown_on_its_field_and_the_password_is_not_sent_back(
    client, tenant, clean_camera_fleet
):
    camera = clean_camera_fleet.cameras[0]
    client.force_login(tenant.admin.user)
    response = client.post(_onboard_url(tenant), _form(camera, tenant.top, password="wrong-pw-77"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "refused the user name or password" in page
    assert "wrong-pw-77" not in page
    assert camera.host in page  # the rest of the input stays
    assert not Device.objects.exists()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_may_not_onboard_or_import(client, tenant, role):
    device_import = DeviceImportFactory(default_folder=tenant.top)
    client.force_login(getattr(tenant, role).user)
    organization_id = tenant.organization.pk
    assert client.get(_onboard_url(tenant)).status_code == 403
    assert client.post(_onboard_url(tenant), {}).status_code == 403
    assert client.get(reverse("devices:import-create", args=[organization_id])).status_code == 403
    for name in ("devices:import-detail", "devices:import-results"):
        url = reverse(name, args=[organization_id, device_import.pk])
        assert client.get(url).status_code == 403
    url = reverse("devices:import-onboard", args=[organization_id, device_import.pk])
    assert client.post(url).status_code == 403
    assert DeviceImport.objects.get().state == DeviceImport.State.CHECKED


def test_the_folder_page_links_onboarding_for_admins_only(client, tenant):
    url = reverse("organizations:folder-detail", args=[tenant.organization.pk, tenant.site_a.pk])
    client.force_login(tenant.admin.user)
    assert _onboard_url(tenant) in client.get(url).content.decode()
    client.force_login(tenant.operator.user)
    assert _onboard_url(tenant) not in client.get(url).content.decode()


def test_the_import_pages_check_preview_onboard_and_download(
    client, tenant, clean_camera_fleet, django_capture_on_commit_callbacks
):
    good, bad = clean_camera_fleet.cameras[:2]
    content = (
        "host,port,username,password\n"
        f"{good.host},{good.port},root,{good.password}\n"
        f"{bad.host},{bad.port},root,wrong\n"
    ).encode()
    client.force_login(tenant.admin.user)
    organization_id = tenant.organization.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("devices:import-create", args=[organization_id]),
            {"file": SimpleUploadedFile("cams.csv", content), "folder": str(tenant.site_b.pk)},
        )
    device_import = DeviceImport.objects.get()
    detail_url = reverse("devices:import-detail", args=[organization_id, device_import.pk])
    assert response.status_code == 302
    assert response.url == detail_url
    page = client.get(detail_url).content.decode()
    assert "Onboard 1 device" in page
    assert "refused the user name or password" in page
    assert good.password not in page
    partial = client.get(detail_url, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="import-status"')
    onboard_url = reverse("devices:import-onboard", args=[organization_id, device_import.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(onboard_url).status_code == 302
    assert Device.objects.get().folder == tenant.site_b
    second = client.post(onboard_url, follow=True)
    assert "already being onboarded" in second.content.decode()
    assert Device.objects.count() == 1
    upload_page = client.get(reverse("devices:import-create", args=[organization_id]))
    assert detail_url in upload_page.content.decode()
    results = client.get(
        reverse("devices:import-results", args=[organization_id, device_import.pk])
    )
    assert results["Content-Type"].startswith("text/csv")
    text = b"".join(results.streaming_content).decode()
    assert text.splitlines()[0].startswith("line,host,port")
    assert "onboarded" in text
    assert "auth_failed" in text
    assert good.password not in text


def test_a_bad_file_is_refused_on_the_upload_form(client, tenant):
    client.force_login(tenant.admin.user)
    response = client.post(
        reverse("devices:import-create", args=[tenant.organization.pk]),
        {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad"), "folder": str(tenant.top.pk)},
    )
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert not DeviceImport.objects.exists()
