"""System setup API: shapes scripts rely on, the stable error body, roles."""

import json
import uuid

import pytest

from licensing import ledger, services, signing
from tests.licensing.factories import HardwareModelFactory, ProductFactory, issue_key


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station")


@pytest.fixture
def recorder(product):
    return HardwareModelFactory(product=product, model_number="S3008", preloaded_count=8)


@pytest.fixture
def started(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    return admin


def url(organization, path: str) -> str:
    return f"/api/v1/organizations/{organization.pk}/licensing/{path}"


SYSTEM_FILE = {
    "schema_version": 1,
    "system_id": "ACS-7F3A-0042",
    "product": "camera-station",
    "generated_at": "2026-12-01T09:30:00Z",
    "devices": [{"serial": "ACCC8E012345", "model": "AXIS M3086-V"}],
}


def register(api, member, recorder, serial="ACCC8E0A1B2C"):
    return api.post(
        url(member.organization, "systems/"),
        {"hardware_model": str(recorder.pk), "serial": serial, "name": "Gate"},
    )


def test_the_catalogue_lists_hardware_with_its_preloaded_licenses(api, started, recorder):
    api.login(started)
    response = api.get(url(started.organization, "hardware-models/"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": str(recorder.pk),
            "model_number": "S3008",
            "name": recorder.name,
            "product": "camera-station",
            "preloaded_count": 8,
        }
    ]


def test_registering_hardware_answers_the_system_with_its_licenses(api, started, recorder):
    api.login(started)
    response = register(api, started, recorder)
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["identifier"], body["licensed"], body["preloaded_count"]) == (
        "hardware",
        "ACCC8E0A1B2C",
        8,
        8,
    )
    assert body["hardware_model"] == "S3008"
    listed = api.get(url(started.organization, "systems/")).json()
    assert [system["id"] for system in listed] == [body["id"]]
    detail = api.get(url(started.organization, f"systems/{body['id']}/"))
    assert detail.json()["licensed"] == 8


def test_registration_refusals_use_the_error_body(api, started, recorder, other_tenant, product):
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    api.login(other_tenant.admin)
    assert register(api, other_tenant.admin, recorder).status_code == 201
    api.login(started)
    response = register(api, started, recorder)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "system_registered"
    assert "serial" in response.json()["error"]["fields"]
    unknown = api.post(
        url(started.organization, "systems/"),
        {"hardware_model": str(uuid.uuid4()), "serial": "X1"},
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "hardware_model_not_found"


def test_allocating_to_a_system_is_idempotent_with_a_key(api, started, recorder, product):
    services.redeem_license_key(
        actor=started, key=issue_key(product, quantity=5, kind="hardware_extension")
    )
    api.login(started)
    system_id = register(api, started, recorder).json()["id"]
    path = url(started.organization, f"systems/{system_id}/allocate")
    api.headers = {**api.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = api.post(path, {"count": 3})
    again = api.post(path, {"count": 3})
    api.headers = {key: value for key, value in api.headers.items() if key != "Idempotency-Key"}
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert api.get(url(started.organization, f"systems/{system_id}/")).json()["licensed"] == 11
    short = api.post(path, {"count": 3})
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_licenses"
    assert ledger.verify() is None


def test_a_system_file_is_uploaded_as_the_request_body(api, started):
    api.login(started)
    path = url(started.organization, "system-files")
    created = api.post(path, SYSTEM_FILE)
    assert created.status_code == 201
    assert (created.json()["kind"], created.json()["device_count"]) == ("offline", 1)
    updated = api.post(path, {**SYSTEM_FILE, "generated_at": "2026-12-02T00:00:00Z"})
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]


def test_a_bad_system_file_answers_each_place_with_its_reason(api, started):
    api.login(started)
    bad = {**SYSTEM_FILE, "schema_version": 9, "devices": [{"serial": "A B", "model": "M"}]}
    response = api.post(url(started.organization, "system-files"), bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "system_file_invalid"
    assert set(error["fields"]) == {"schema_version", "devices[0].serial"}


def test_an_oversized_system_file_is_refused_before_it_is_read(api, started):
    api.login(started)
    huge = {**SYSTEM_FILE, "devices": [{"serial": f"S{i}", "model": "x" * 60} for i in range(9000)]}
    response = api.post(url(started.organization, "system-files"), huge)
    assert response.status_code == 400
    assert "512 KB" in response.json()["error"]["fields"]["file"][0]


def test_the_license_file_downloads_signed(api, started):
    api.login(started)
    system_id = api.post(url(started.organization, "system-files"), SYSTEM_FILE).json()["id"]
    response = api.get(url(started.organization, f"systems/{system_id}/license-file"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "license-camera-station-ACS-7F3A-0042.json" in response["Content-Disposition"]
    payload = signing.verify(response.content)
    assert payload["system_id"] == "ACS-7F3A-0042"


def test_an_upgrade_applies_once_through_the_api(api, started, recorder, product):
    services.redeem_license_key(actor=started, key=issue_key(product, quantity=20, kind="upgrade"))
    api.login(started)
    system_id = register(api, started, recorder).json()["id"]
    path = url(started.organization, "upgrade-licenses/apply")
    body = {"product": "camera-station", "system": system_id}
    applied = api.post(path, body)
    assert applied.status_code == 201
    assert (applied.json()["count"], applied.json()["system"]) == (8, "ACCC8E0A1B2C")
    again = api.post(path, body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_upgraded"
    listed = api.get(url(started.organization, "upgrade-licenses/")).json()
    assert [upgrade["id"] for upgrade in listed] == [applied.json()["id"]]
    neither = api.post(path, {"product": "camera-station"})
    assert neither.status_code == 400
    assert neither.json()["error"]["code"] == "upgrade_target_required"


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_are_refused_every_system_route(api, tenant, started, role):
    api.login(getattr(tenant, role))
    organization = tenant.organization
    for path in ("hardware-models/", "systems/", "upgrade-licenses/"):
        assert api.get(url(organization, path)).status_code == 403
    response = api.post(url(organization, "system-files"), SYSTEM_FILE)
    assert response.status_code == 403


def test_an_upload_of_another_content_type_is_refused_cleanly(client, started):
    client.force_login(started.user)
    response = client.post(
        url(started.organization, "system-files"),
        data=json.dumps(SYSTEM_FILE),
        content_type="text/plain",
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_history_filters_activations_and_upgrades(api, started, recorder, product):
    services.redeem_license_key(actor=started, key=issue_key(product, quantity=8, kind="upgrade"))
    api.login(started)
    system_id = register(api, started, recorder).json()["id"]
    api.post(
        url(started.organization, "upgrade-licenses/apply"),
        {"product": "camera-station", "system": system_id},
    )
    for kind, change in (("activate", {"hardware_system": 8}), ("upgrade", {"wallet": -8})):
        response = api.get(url(started.organization, "history/"), {"kind": kind})
        assert response.status_code == 200
        [item] = response.json()["results"]
        assert item["kind"] == kind
        assert change.items() <= item["change"].items()


def test_the_system_list_takes_the_same_queries_for_many_systems(
    api, started, recorder, django_assert_max_num_queries
):
    api.login(started)
    for number in range(6):
        register(api, started, recorder, serial=f"ACCC8E00000{number}")
    with django_assert_max_num_queries(5):
        response = api.get(url(started.organization, "systems/"))
    assert len(response.json()) == 6
