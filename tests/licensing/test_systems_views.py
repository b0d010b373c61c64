"""System setup pages: list and register, upload a system file, a system's page, upgrades."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licensing import services, services_systems, signing
from licensing.models import LicensedSystem, LicenseUpgrade
from tests.licensing.factories import HardwareModelFactory, ProductFactory, issue_key


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station", name="Camera Station Pro")


@pytest.fixture
def recorder(product):
    return HardwareModelFactory(product=product, model_number="S3008", preloaded_count=8)


@pytest.fixture
def started(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    return admin


def page(organization, path: str = "") -> str:
    return f"/o/{organization.pk}/licensing/{path}"


SYSTEM_FILE = {
    "schema_version": 1,
    "system_id": "ACS-7F3A-0042",
    "product": "camera-station",
    "generated_at": "2026-12-01T09:30:00Z",
    "devices": [{"serial": "ACCC8E012345", "model": "AXIS M3086-V"}],
}


def test_registering_hardware_on_the_page_shows_its_active_licenses(client, started, recorder):
    client.force_login(started.user)
    response = client.post(
        page(started.organization, "systems/"),
        {"hardware_model": str(recorder.pk), "serial": "accc8e0a1b2c", "name": "Gate"},
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hardware ACCC8E0A1B2C is registered; its 8 pre-loaded licenses are active." in body
    system = LicensedSystem.objects.get()
    assert response.redirect_chain[-1][0] == page(started.organization, f"systems/{system.pk}/")
    listing = client.get(page(started.organization, "systems/")).content.decode()
    assert "ACCC8E0A1B2C" in listing
    assert "System setup" in listing


def test_a_refused_registration_shows_the_reason_on_the_field(client, started, recorder):
    client.force_login(started.user)
    response = client.post(
        page(started.organization, "systems/"),
        {"hardware_model": str(recorder.pk), "serial": "bad serial"},
    )
    assert response.status_code == 400
    assert "Enter the serial number as printed on the hardware" in response.content.decode()
    assert not LicensedSystem.objects.exists()


def test_uploading_a_system_file_on_the_page_adds_the_system(client, started):
    client.force_login(started.user)
    upload = SimpleUploadedFile("system.json", json.dumps(SYSTEM_FILE).encode())
    response = client.post(
        page(started.organization, "systems/upload/"), {"file": upload}, follow=True
    )
    assert "Offline system ACS-7F3A-0042 is added with 1 devices." in response.content.decode()
    assert "ACCC8E012345" in response.content.decode()


def test_a_bad_system_file_lists_each_place_to_fix(client, started):
    client.force_login(started.user)
    bad = {**SYSTEM_FILE, "schema_version": 2, "devices": [{"serial": "A B", "model": "M"}]}
    upload = SimpleUploadedFile("system.json", json.dumps(bad).encode())
    response = client.post(page(started.organization, "systems/upload/"), {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<code>schema_version</code>" in body
    assert "<code>devices[0].serial</code>" in body
    assert "The system file is not valid: 2 problem(s) to fix." in body
    assert not LicensedSystem.objects.exists()


def test_allocating_on_a_systems_page_moves_licenses_from_the_wallet(client, started, product):
    system, _ = services_systems.upload_system_file(
        actor=started, content=json.dumps(SYSTEM_FILE).encode()
    )
    services.redeem_license_key(
        actor=started, key=issue_key(product, quantity=4, kind="hardware_extension")
    )
    client.force_login(started.user)
    path = page(started.organization, f"systems/{system.pk}/allocate/")
    short = client.post(path, {"count": 5})
    assert short.status_code == 409
    assert "Not enough licenses: 4 available, 5 needed." in short.content.decode()
    response = client.post(path, {"count": 4}, follow=True)
    assert "4 licenses are allocated to ACS-7F3A-0042." in response.content.decode()
    download = client.get(page(started.organization, f"systems/{system.pk}/license-file/"))
    assert download.status_code == 200
    assert signing.verify(download.content)["licenses"][0]["count"] == 4


def test_applying_an_upgrade_on_the_page_uses_the_upgrade_licenses(
    client, started, product, recorder
):
    system = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
    )
    services.redeem_license_key(actor=started, key=issue_key(product, quantity=8, kind="upgrade"))
    client.force_login(started.user)
    path = page(started.organization, "upgrades/")
    form = client.get(path).content.decode()
    assert "system ACCC8E0A1B2C: 8 licenses (uses 8 upgrade licenses)" in form
    response = client.post(path, {"target": f"camera-station|system|{system.pk}"}, follow=True)
    assert "The license is upgraded: 8 upgrade licenses are used." in response.content.decode()
    assert LicenseUpgrade.objects.count() == 1
    # Upgraded once: the license is no longer offered, and posting it again is refused.
    again = client.post(path, {"target": f"camera-station|system|{system.pk}"})
    assert again.status_code == 400
    assert LicenseUpgrade.objects.count() == 1


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_are_refused_system_setup(client, tenant, role):
    client.force_login(getattr(tenant, role).user)
    for path in ("systems/", "systems/upload/", "upgrades/"):
        assert client.get(page(tenant.organization, path)).status_code == 403


def test_system_setup_is_a_licensing_tab_offered_to_admins_only(client, tenant):
    client.force_login(tenant.admin.user)
    overview = f"/o/{tenant.organization.pk}/"
    assert page(tenant.organization, "") in client.get(overview).content.decode()
    licensing = client.get(page(tenant.organization, "")).content.decode()
    assert page(tenant.organization, "systems/") in licensing
    assert page(tenant.organization, "upgrades/") in licensing
    client.force_login(tenant.viewer.user)
    assert page(tenant.organization, "") not in client.get(overview).content.decode()


def test_system_setup_speaks_japanese(client, started, recorder):
    started.user.language = "ja"
    started.user.save()
    client.force_login(started.user)
    body = client.get(
        page(started.organization, "systems/"), headers={"accept-language": "ja"}
    ).content.decode()
    assert "システム設定" in body
    assert "ハードウェアを登録" in body


def test_the_public_key_is_published_without_signing_in(client):
    response = client.get("/licensing/public-key.pem")
    assert response.status_code == 200
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert response.content.decode() == signing.public_key_pem()


def test_the_systems_page_takes_the_same_queries_for_many_systems(
    client, started, recorder, django_assert_max_num_queries
):
    for number in range(6):
        services_systems.register_hardware(
            actor=started, hardware_model_id=recorder.pk, serial=f"ACCC8E00000{number}"
        )
    client.force_login(started.user)
    with django_assert_max_num_queries(10):
        response = client.get(page(started.organization, "systems/"))
    assert response.content.decode().count("ACCC8E00000") == 6
