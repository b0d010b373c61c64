"""A device password, once entered, is never shown again: not in pages, API answers, logs, audit
events or the repr of any exception, whichever way it came in (page, API, CSV import)."""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.errors import DomainError
from devices import onboarding
from devices.models import Device, DeviceImport, DeviceImportRow
from organizations.models import AuditEvent

MARKER = "Marker-Pw-7f3e91c2"


def _exception_chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _leaks_in_records(records) -> list[str]:
    leaks = []
    for record in records:
        texts = [record.getMessage(), repr(record.args), repr(record.__dict__.get("exc_info"))]
        if record.exc_info:
            texts += [repr(error) for error in _exception_chain(record.exc_info[1])]
        leaks += [f"{record.name}: {record.getMessage()[:80]}" for text in texts if MARKER in text]
    return leaks


@pytest.fixture
def marked_fleet(clean_camera_fleet):
    """Cameras whose admin account's password is the marker (set through VAPIX, like an admin)."""
    from devices.vapix import VapixClient

    for camera in clean_camera_fleet.cameras[:3]:
        with VapixClient(
            camera.host, port=camera.port, username="root", password=camera.password
        ) as client:
            client.change_password("root", MARKER)
    return clean_camera_fleet


def _organization_answers(client, tenant) -> dict[str, str]:
    """Every page and API answer of the organization that could show a device or an import."""
    organization_id = tenant.organization.pk
    urls = [
        reverse("organizations:organization-detail", args=[organization_id]),
        reverse("organizations:folder-list", args=[organization_id]),
        reverse("organizations:audit-event-list", args=[organization_id]),
        reverse("organizations:audit-event-export", args=[organization_id]),
        reverse("api:device-list", args=[organization_id]),
        reverse("api:audit-event-list", args=[organization_id]),
        reverse("devices:device-onboard", args=[organization_id]),
        reverse("devices:import-create", args=[organization_id]),
    ]
    for folder in (tenant.top, tenant.site_a, tenant.site_b):
        urls.append(reverse("organizations:folder-detail", args=[organization_id, folder.pk]))
    for device in Device.objects.filter(organization=tenant.organization):
        urls.append(reverse("devices:device-onboarded", args=[organization_id, device.pk]))
        urls.append(reverse("api:device-detail", args=[organization_id, device.pk]))
    for device_import in DeviceImport.objects.filter(organization=tenant.organization):
        for name in ("devices:import-detail", "devices:import-results"):
            urls.append(reverse(name, args=[organization_id, device_import.pk]))
        urls.append(reverse("api:device-import-detail", args=[organization_id, device_import.pk]))
    answers = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        answers[url] = body.decode()
    return answers


def test_a_marker_password_never_reappears(
    client, api, tenant, marked_fleet, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    by_page, by_api, by_csv = marked_fleet.cameras[:3]
    organization_id = tenant.organization.pk
    client.force_login(tenant.admin.user)

    # The page: first refused (wrong user), then onboarded.
    form = {
        "host": by_page.host,
        "port": by_page.port,
        "scheme": "http",
        "username": "nobody",
        "password": MARKER,
        "folder": str(tenant.site_a.pk),
    }
    onboard_url = reverse("devices:device-onboard", args=[organization_id])
    refused = client.post(onboard_url, form)
    assert refused.status_code == 400
    assert MARKER not in refused.content.decode()
    assert client.post(onboard_url, {**form, "username": "root"}).status_code == 302

    # The API, with a refusal whose answer must not echo the input either.
    api_body = {
        "host": by_api.host,
        "port": by_api.port,
        "username": "nobody",
        "password": MARKER,
        "folder": str(tenant.site_b.pk),
    }
    api.use_token_of(tenant.admin)
    answer = api.post(reverse("api:device-list", args=[organization_id]), api_body)
    assert answer.status_code == 400
    assert MARKER not in answer.content.decode()
    created = api.post(
        reverse("api:device-list", args=[organization_id]), {**api_body, "username": "root"}
    )
    assert created.status_code == 201
    assert MARKER not in created.content.decode()

    # The CSV import, one good line and one refused (signed in again: the token signed out).
    client.force_login(tenant.admin.user)
    content = (
        "host,port,username,password\n"
        f"{by_csv.host},{by_csv.port},root,{MARKER}\n"
        f"{by_csv.host},{by_csv.port + 10000 if by_csv.port < 50000 else 1},root,{MARKER}\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("devices:import-create", args=[organization_id]),
            {"file": SimpleUploadedFile("c.csv", content), "folder": str(tenant.top.pk)},
        )
    device_import = DeviceImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("devices:import-onboard", args=[organization_id, device_import.pk]))
    assert Device.objects.filter(organization=tenant.organization).count() == 3

    # Stored only encrypted, and the import holds no password any more.
    for device in Device.objects.all():
        assert device.password.reveal() == MARKER
        assert MARKER not in device.encrypted_password
        assert MARKER not in repr(device.password) + str(device.password) + repr(device)
    assert not DeviceImportRow.objects.exclude(encrypted_password="").exists()

    # A refusal's exception, with everything it chains to.
    with pytest.raises(DomainError) as raised:
        onboarding.onboard_device(
            actor=tenant.admin,
            folder_id=tenant.top.pk,
            host=by_page.host,
            port=by_page.port,
            scheme="http",
            username="nobody",
            password=MARKER,
        )
    for error in _exception_chain(raised.value):
        assert MARKER not in repr(error)
        assert MARKER not in str(error)
        assert MARKER not in repr(getattr(error, "fields", ""))

    # Audit rows, every page and API answer of the organization, every log record.
    for event in AuditEvent.objects.filter(organization=tenant.organization):
        assert MARKER not in json.dumps(event.data) + event.target_label + event.actor_label
    answers = _organization_answers(client, tenant)
    assert [url for url, body in answers.items() if MARKER in body] == []
    assert len(caplog.records) > 0
    assert _leaks_in_records(caplog.records) == []
