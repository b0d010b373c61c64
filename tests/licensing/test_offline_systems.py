"""Offline systems: the system file is checked place by place, and license files are signed.

License files are checked through `verify_license_file`, as support would: a file just issued
verifies with the published public key, and changing any one byte of it makes it fail.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from common.errors import Conflict, Invalid
from licensing import services, services_systems, signing, system_files
from licensing.models import LicensedSystem
from organizations.models import AuditEvent
from tests.licensing.factories import ProductFactory, issue_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station")


@pytest.fixture
def started(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    return admin


def system_file(**changes) -> dict:
    document = {
        "schema_version": 1,
        "system_id": "ACS-7F3A-0042",
        "product": "camera-station",
        "name": "Warehouse recorder",
        "generated_at": "2026-12-01T09:30:00Z",
        "devices": [
            {"serial": "ACCC8E012345", "model": "AXIS M3086-V"},
            {"serial": "accc8e012346", "model": "AXIS P3265-LVE"},
        ],
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


def upload(member, document) -> tuple[LicensedSystem, bool]:
    content = json.dumps(document).encode()
    return services_systems.upload_system_file(actor=member, content=content)


# --- The system file ----------------------------------------------------------------------------


def test_uploading_a_system_file_adds_an_offline_system(started, product):
    system, is_new = upload(started, system_file())
    assert is_new
    assert (system.kind, system.identifier, system.product, system.name) == (
        "offline",
        "ACS-7F3A-0042",
        product,
        "Warehouse recorder",
    )
    assert [device["serial"] for device in system.devices] == ["ACCC8E012345", "ACCC8E012346"]
    assert system.preloaded_count == 0
    assert AuditEvent.objects.filter(action="license.register_offline_system").count() == 1


def test_uploading_a_newer_file_updates_the_same_system(started):
    first, _ = upload(started, system_file())
    newer = system_file(
        generated_at="2026-12-02T09:30:00+09:00",
        devices=[{"serial": "ACCC8E099999", "model": "AXIS Q1800-LE"}],
    )
    again, is_new = upload(started, newer)
    assert not is_new
    assert again.pk == first.pk
    assert again.devices == [{"serial": "ACCC8E099999", "model": "AXIS Q1800-LE"}]
    assert LicensedSystem.objects.count() == 1
    assert AuditEvent.objects.filter(action="license.upload_system_file").count() == 1


def test_an_older_file_than_the_last_upload_is_refused(started):
    upload(started, system_file(generated_at="2026-12-05T00:00:00Z"))
    with pytest.raises(Conflict) as refusal:
        upload(started, system_file(generated_at="2026-12-01T00:00:00Z", devices=[]))
    assert refusal.value.code == "system_file_outdated"
    assert len(LicensedSystem.objects.get().devices) == 2


@pytest.mark.parametrize(
    ("document", "place", "words"),
    [
        (system_file(schema_version=2), "schema_version", "Must be 1"),
        (system_file(system_id=None), "file", "Missing: system_id"),
        (system_file(system_id="has spaces"), "system_id", "not allowed"),
        (system_file(colour="blue"), "file", "Not part of the format: colour"),
        (system_file(generated_at="yesterday"), "generated_at", "date and time"),
        (system_file(generated_at="2026-12-01T09:30:00"), "generated_at", "date and time"),
        (system_file(devices="none"), "devices", "type array"),
        (
            system_file(devices=[{"serial": "A1"}, {"serial": "B 2", "model": "M"}]),
            "devices[0]",
            "Missing: model",
        ),
        (
            system_file(devices=[{"serial": "A1", "model": "M"}, {"serial": "B 2", "model": "M"}]),
            "devices[1].serial",
            "not allowed",
        ),
        (
            system_file(devices=[{"serial": "A1", "model": "M"}, {"serial": "a1", "model": "N"}]),
            "devices[1].serial",
            "listed twice",
        ),
        (system_file(name="n" * 121), "name", "from 0 to 120 characters"),
        ([1, 2], "file", "type object"),
    ],
)
def test_a_bad_system_file_is_refused_with_the_place_and_the_reason(
    started, document, place, words
):
    with pytest.raises(Invalid) as refusal:
        upload(started, document)
    assert refusal.value.code == "system_file_invalid"
    assert words in " ".join(refusal.value.fields[place]), refusal.value.fields
    assert not LicensedSystem.objects.exists()


def test_every_problem_of_a_file_is_reported_at_once(started):
    document = system_file(schema_version=3, system_id="", devices=[{"serial": "", "model": ""}])
    with pytest.raises(Invalid) as refusal:
        upload(started, document)
    assert set(refusal.value.fields) == {
        "schema_version",
        "system_id",
        "devices[0].serial",
        "devices[0].model",
    }


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe not text", "not JSON"),
        (b'{"schema_version": 1,', "not JSON"),
        (b" " * (system_files.MAX_FILE_BYTES + 1), "larger than 512 KB"),
    ],
)
def test_a_file_that_is_not_a_small_json_text_is_refused(started, content, words):
    with pytest.raises(Invalid) as refusal:
        services_systems.upload_system_file(actor=started, content=content)
    assert words in " ".join(refusal.value.fields["file"])


def test_a_file_of_an_unknown_product_is_refused_on_its_product(started):
    with pytest.raises(Invalid) as refusal:
        upload(started, system_file(product="no-such-product"))
    assert "product" in refusal.value.fields


def test_a_system_id_another_organization_uploaded_is_refused(started, other_tenant, product):
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    upload(other_tenant.admin, system_file())
    with pytest.raises(Conflict) as refusal:
        upload(started, system_file(generated_at="2027-01-01T00:00:00Z"))
    assert refusal.value.code == "system_registered"
    assert LicensedSystem.objects.get().organization == other_tenant.organization


# --- License files ------------------------------------------------------------------------------


@pytest.fixture
def licensed_system(started, product):
    system, _ = upload(started, system_file())
    services.redeem_license_key(
        actor=started, key=issue_key(product, quantity=12, kind="hardware_extension")
    )
    services_systems.allocate_to_system(actor=started, system_id=system.pk, count=12)
    return system


@pytest.fixture
def public_key_file(client, tmp_path):
    response = client.get("/licensing/public-key.pem")
    assert response.status_code == 200
    path = tmp_path / "public-key.pem"
    path.write_bytes(response.content)
    return path


def verify_command(path, public_key_file=None) -> str:
    arguments = [str(path)]
    if public_key_file is not None:
        arguments += ["--public-key", str(public_key_file)]
    from io import StringIO

    out = StringIO()
    call_command("verify_license_file", *arguments, stdout=out)
    return out.getvalue()


def test_a_license_file_carries_what_the_system_holds(started, licensed_system, product):
    _system, content = services_systems.issue_license_file(
        actor=started, system_id=licensed_system.pk
    )
    payload = signing.verify(content)
    assert payload["organization"] == {
        "id": str(started.organization_id),
        "name": started.organization.name,
    }
    assert (payload["system_id"], payload["product"], payload["devices"]) == (
        "ACS-7F3A-0042",
        "camera-station",
        2,
    )
    assert payload["licenses"] == [
        {"kind": "hardware_extension", "count": 12, "is_upgraded": False}
    ]
    issued_at = payload["issued_at"]
    assert issued_at.endswith("Z")
    assert payload["valid_until"] > issued_at
    assert AuditEvent.objects.filter(action="license.issue_license_file").count() == 1


def test_a_license_file_verifies_with_the_published_public_key(
    started, licensed_system, public_key_file, tmp_path
):
    _system, content = services_systems.issue_license_file(
        actor=started, system_id=licensed_system.pk
    )
    path = tmp_path / "license.json"
    path.write_bytes(content)
    output = verify_command(path, public_key_file)
    assert "License file verified: system ACS-7F3A-0042" in output
    assert "12 hardware_extension" in output


def test_changing_any_one_byte_of_a_license_file_fails_verification(
    started, licensed_system, public_key_file, tmp_path
):
    _system, content = services_systems.issue_license_file(
        actor=started, system_id=licensed_system.pk
    )
    path = tmp_path / "license.json"
    survivors, reasons = [], set()
    for position in range(len(content.rstrip(b"\n"))):
        changed = bytearray(content)
        # A neighbouring character keeps most changes inside valid JSON and UTF-8, so the
        # signature check itself is what must catch them.
        changed[position] = changed[position] ^ 0x01
        path.write_bytes(bytes(changed))
        try:
            verify_command(path, public_key_file)
        except CommandError as failure:
            reasons.add(str(failure).split(":")[0])
        else:
            survivors.append(position)
    assert not survivors, f"bytes {survivors} changed without failing verification"
    assert reasons == {"License file does not verify"}


def test_a_license_file_signed_by_another_key_fails(started, licensed_system, tmp_path):
    stranger = Ed25519PrivateKey.generate()
    _system, content = services_systems.issue_license_file(
        actor=started, system_id=licensed_system.pk
    )
    payload = json.loads(content)["payload"]
    path = tmp_path / "license.json"
    path.write_bytes(signing.sign(payload, stranger))
    with pytest.raises(CommandError, match="not with this public key"):
        verify_command(path)


def test_a_license_file_with_a_forged_key_id_fails_on_its_signature(
    started, licensed_system, tmp_path
):
    _system, content = services_systems.issue_license_file(
        actor=started, system_id=licensed_system.pk
    )
    document = json.loads(content)
    stranger = Ed25519PrivateKey.generate()
    forged = json.loads(signing.sign({**document["payload"], "devices": 1000}, stranger))
    forged["key_id"] = document["key_id"]
    path = tmp_path / "license.json"
    path.write_bytes(signing.canonical(forged))
    with pytest.raises(CommandError, match="signature does not match"):
        verify_command(path)


def test_the_command_says_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        verify_command(tmp_path / "missing.json")


def test_the_command_exits_1_with_the_reason(tmp_path):
    path = tmp_path / "license.json"
    path.write_text("not json")
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_license_file", str(path)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "not a license file" in result.stderr


def test_a_license_file_is_valid_for_the_configured_days(started, licensed_system):
    with override_settings(LICENSE_FILE_VALID_DAYS=30):
        _system, content = services_systems.issue_license_file(
            actor=started, system_id=licensed_system.pk
        )
    payload = signing.verify(content)
    issued = timezone.datetime.fromisoformat(payload["issued_at"])
    valid_until = timezone.datetime.fromisoformat(payload["valid_until"])
    assert valid_until - issued == timedelta(days=30)


def test_a_pem_signing_key_signs_like_its_raw_form():
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with override_settings(LICENSE_SIGNING_KEY=pem):
        content = signing.sign({"a": 1})
        assert signing.verify(content, key.public_key()) == {"a": 1}
        assert signing.public_key_pem() == signing.public_key_pem(key)


# --- Production refuses the development key ----------------------------------------------------


def _production_check(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "LICENSE_SIGNING_KEY"},
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "a-long-random-production-secret-for-the-test-0123456789abcdef",
        "ALLOWED_HOSTS": "camfleet.example",
        "CACHE_URL": "locmemcache://",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/camfleet",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "DEVICE_CREDENTIAL_KEYS": "Y2hlY2stb25seS1ub3QtYS1yZWFsLWtleS0wMTIzNDU=",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (None, "LICENSE_SIGNING_KEY is not set"),
        ("Y2FtZmxlZXQtZGV2ZWxvcG1lbnQtbGljZW5zZS1rZXk=", "is the public development key"),
        ("bm90LWEta2V5LXNlY3JldC1tYXRlcmlhbA==", "must be an Ed25519 private key"),
    ],
)
def test_production_refuses_a_missing_development_or_unreadable_signing_key(key, words):
    result = _production_check(**({"LICENSE_SIGNING_KEY": key} if key else {}))
    assert result.returncode != 0
    assert words in result.stderr
    assert "bm90LWEta2V5LXNlY3JldC1tYXRlcmlhbA==" not in result.stderr


def test_the_readme_publishes_the_development_public_key():
    readme = (ROOT / "README.md").read_text()
    published = "\n".join(line.strip() for line in signing.public_key_pem().strip().splitlines())
    assert published in "\n".join(line.strip() for line in readme.splitlines())
