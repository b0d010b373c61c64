"""The firmware catalog: releases with verified images, the admin, and import_firmware."""

import hashlib
import io
import json
import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.errors import Conflict, Invalid
from devices.simulator.firmware import build_image, image_filename, write_image
from tests.accounts.factories import UserFactory
from tests.upgrades.factories import add_test_release
from upgrades.demo import seed_catalog
from upgrades.models import Advisory, FirmwareRelease
from upgrades.services import ReleaseSpec, SecurityNote, add_release
from upgrades.storage import firmware_storage


def _spec(image: bytes, version="12.11.86", products=("P3265-V",), **fields) -> ReleaseSpec:
    return ReleaseSpec(
        version=version,
        product_numbers=products,
        release_date=date(2026, 10, 27),
        file_name=fields.pop("file_name", image_filename("P3265-V", version)),
        sha256=fields.pop("sha256", hashlib.sha256(image).hexdigest()),
        **fields,
    )


def test_a_release_is_stored_with_its_verified_image(db, firmware_root):
    image = build_image("P3265-V", "12.11.86", payload_size=1000)
    result = add_release(spec=_spec(image), image=io.BytesIO(image))
    release = result.release
    assert result.outcome == "added"
    assert (release.version, release.track, release.product_numbers) == (
        "12.11.86",
        "12.11",
        ["P3265-V"],
    )
    assert release.image_size == len(image)
    with firmware_storage().open(release.image_name) as stored:
        assert stored.read() == image
    assert (firmware_root / release.image_name).is_file()


def test_an_image_whose_checksum_differs_is_refused_and_nothing_is_stored(db, firmware_root):
    image = build_image("P3265-V", "12.11.86", payload_size=1000)
    damaged = image[:-100] + b"x" + image[-99:]
    with pytest.raises(Invalid, match="damaged or not the one named") as refused:
        add_release(spec=_spec(image), image=io.BytesIO(damaged))
    assert refused.value.code == "image_checksum_mismatch"
    assert not FirmwareRelease.objects.exists()
    assert not firmware_root.exists() or not any(firmware_root.rglob("*.bin"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"version": "12.11"}, "Write the version as AXIS OS does"),
        ({"track": "active"}, "is on the 12.11 track, not on active"),
        ({"track": "13.3"}, "Unknown track"),
        ({"products": ()}, "at least one compatible product"),
        ({"products": ("p3265 v!",)}, "is not a product number"),
        ({"sha256": "abc"}, "64 hexadecimal digits"),
        ({"file_name": "P3265-V_12_11_86.zip"}, ".bin files"),
        ({"file_name": "P3265-V_12_11_77.bin"}, "file name says version 12.11.77"),
        ({"file_name": "M1075-L_12_11_86.bin"}, "not among the compatible products"),
        (
            {"security_notes": (SecurityNote("CVE-25-1", "critical"),)},
            "is not a CVE ID",
        ),
        (
            {"security_notes": (SecurityNote("CVE-2025-0324", "dire"),)},
            "Severity of CVE-2025-0324",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(db, fields, message):
    image = build_image("P3265-V", "12.11.86", payload_size=100)
    version = fields.pop("version", "12.11.86")
    products = fields.pop("products", ("P3265-V",))
    file_name = fields.pop("file_name", "P3265-V_12_11_86.bin")
    spec = _spec(image, version=version, products=products, file_name=file_name, **fields)
    with pytest.raises(Invalid, match=message):
        add_release(spec=spec, image=io.BytesIO(image))
    assert not FirmwareRelease.objects.exists()
    assert not Advisory.objects.exists()


def test_a_product_gets_one_image_per_version(db):
    add_test_release("12.11.86", "P3265-V")
    other = build_image(("P3265-V", "M1075-L"), "12.11.86", payload_size=300)
    spec = _spec(other, products=("M1075-L", "P3265-V"), file_name="x.bin")
    refusal = re.escape("already has a different 12.11.86 image for P3265-V")
    with pytest.raises(Conflict, match=refusal):
        add_release(spec=spec, image=io.BytesIO(other))
    assert FirmwareRelease.objects.count() == 1


def test_adding_the_same_image_again_changes_nothing_or_updates_its_notes(db):
    image = build_image("P3265-V", "12.11.86", payload_size=100)
    add_release(spec=_spec(image), image=io.BytesIO(image))
    again = add_release(spec=_spec(image), image=io.BytesIO(image))
    assert again.outcome == "unchanged"
    notes = (SecurityNote("CVE-2025-0324", "critical"),)
    updated = add_release(
        spec=_spec(image, recommended=False, security_notes=notes), image=io.BytesIO(image)
    )
    assert updated.outcome == "updated"
    release = FirmwareRelease.objects.get()
    assert not release.recommended
    assert [a.cve_id for a in release.fixes.all()] == ["CVE-2025-0324"]


def test_the_same_image_cannot_become_another_version(db):
    image = build_image("P3265-V", "12.11.86", payload_size=100)
    add_release(spec=_spec(image), image=io.BytesIO(image))
    with pytest.raises(Conflict, match="already in the catalog"):
        add_release(
            spec=_spec(image, version="12.11.87", file_name="a.bin"), image=io.BytesIO(image)
        )


def test_versions_order_as_versions_in_the_database(db):
    for version in ("12.11.9", "12.11.77", "12.11.100"):
        add_test_release(version)
    newest_first = list(FirmwareRelease.objects.order_by("-version_key").values_list("version"))
    assert newest_first == [("12.11.100",), ("12.11.77",), ("12.11.9",)]


# --- import_firmware ---------------------------------------------------------------------


def _manifest(folder, entries):
    path = folder / "manifest.json"
    path.write_text(json.dumps({"releases": entries}))
    return path


def _entry(folder, version, products, **extra):
    path = write_image(folder / image_filename(products[0], version), products, version, 500)
    entry = {
        "version": version,
        "products": list(products),
        "release_date": "2026-06-01",
        "image": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    return {**entry, **extra}


def _import(path) -> str:
    out = io.StringIO()
    call_command("import_firmware", str(path), stdout=out)
    return out.getvalue()


def test_a_manifest_imports_every_release_and_again_changes_nothing(db, tmp_path):
    entries = [
        _entry(tmp_path, "12.11.86", ("P3265-V",)),
        _entry(
            tmp_path,
            "11.11.160",
            ("M1075-L", "M5075"),
            track="11.11",
            security_fixes=[{"cve": "CVE-2025-0324", "severity": "critical", "summary": "x"}],
        ),
    ]
    manifest = _manifest(tmp_path, entries)
    assert "2 added, 0 updated, 0 unchanged" in _import(manifest)
    assert "0 added, 0 updated, 2 unchanged" in _import(manifest)
    release = FirmwareRelease.objects.get(version="11.11.160")
    assert release.product_numbers == ["M1075-L", "M5075"]
    assert Advisory.objects.get().severity == "critical"


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda e: e.update(sha256="0" * 64), "releases[1] (11.11.160): The image's SHA-256"),
        (lambda e: e.update(track="active"), "releases[1] (11.11.160): Version 11.11.160 is on"),
        (lambda e: e.update(image="missing.bin"), "releases[1] (11.11.160): image"),
        (lambda e: e.update(image="../outside.bin"), "images must be in the manifest's folder"),
        (lambda e: e.pop("sha256"), "releases[1]: sha256 is missing"),
        (lambda e: e.update(release_date="June"), "release_date is a date"),
        (lambda e: e.update(products="M1075-L"), "products has the wrong type"),
        (lambda e: e.update(colour="blue"), "unknown keys colour"),
        (
            lambda e: e.update(
                version="12.11.86", products=["P3265-V"], image="P3265-V_12_11_86.bin"
            ),
            "releases[0] (12.11.86) already has P3265-V 12.11.86",
        ),
    ],
)
def test_a_bad_manifest_is_refused_whole_with_the_reason(db, tmp_path, spoil, reason):
    entries = [
        _entry(tmp_path, "12.11.86", ("P3265-V",)),
        _entry(tmp_path, "11.11.160", ("M1075-L",)),
    ]
    spoil(entries[1])
    with pytest.raises(CommandError, match="nothing imported") as refused:
        _import(_manifest(tmp_path, entries))
    assert reason in str(refused.value)
    assert not FirmwareRelease.objects.exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        ('{"releases": []}', "lists no releases"),
        ('["x"]', "list of “releases”"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(db, tmp_path, text, reason):
    path = tmp_path / "manifest.json"
    path.write_text(text)
    with pytest.raises(CommandError, match=reason):
        _import(path)


def test_a_manifest_conflicting_with_the_catalog_is_refused(db, tmp_path):
    add_test_release("12.11.86", "P3265-V")
    manifest = _manifest(tmp_path, [_entry(tmp_path, "12.11.86", ("P3265-V",))])
    with pytest.raises(CommandError, match=re.escape("already has a different 12.11.86 image")):
        _import(manifest)
    assert FirmwareRelease.objects.count() == 1


# --- Admin -------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client.force_login(staff)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _admin_post(staff_client, image: bytes, **overrides):
    data = {
        "version": "12.11.86",
        "track": "",
        "product_numbers": "P3265-V, M1075-L",
        "image": SimpleUploadedFile("P3265-V_12_11_86.bin", image),
        "sha256": hashlib.sha256(image).hexdigest(),
        "release_date": "2026-10-27",
        "recommended": "on",
        "notes": "",
        **overrides,
    }
    return staff_client.post(reverse("admin:upgrades_firmwarerelease_add"), data)


def test_staff_add_a_release_in_the_admin_and_the_upload_is_verified(staff_client):
    image = build_image(("P3265-V", "M1075-L"), "12.11.86", payload_size=700)
    response = _admin_post(staff_client, image)
    assert response.status_code == 302, response.content.decode()[:2000]
    release = FirmwareRelease.objects.get()
    assert release.product_numbers == ["M1075-L", "P3265-V"]
    assert release.track == "12.11"
    with firmware_storage().open(release.image_name) as stored:
        assert stored.read() == image


def test_the_admin_refuses_an_upload_whose_checksum_differs(staff_client):
    image = build_image("P3265-V", "12.11.86", payload_size=700)
    response = _admin_post(staff_client, image, sha256="a" * 64)
    assert response.status_code == 200
    assert "the file is damaged or not the one named" in response.content.decode()
    assert not FirmwareRelease.objects.exists()


def test_the_admin_refuses_a_track_that_does_not_fit_the_version(staff_client):
    image = build_image("P3265-V", "12.11.86", payload_size=700)
    response = _admin_post(staff_client, image, track="active")
    assert "is on the 12.11 track, not on active" in response.content.decode()
    assert not FirmwareRelease.objects.exists()


def test_the_admin_change_page_keeps_version_and_image_fixed(staff_client):
    release = add_test_release("12.11.86")
    url = reverse("admin:upgrades_firmwarerelease_change", args=[release.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="version"' not in page
    assert 'name="recommended"' in page


@pytest.mark.django_db(transaction=True)
def test_two_staff_adding_images_of_one_version_for_one_product_at_once_keep_one(race):
    first = build_image("P3265-V", "12.11.86", payload_size=300)
    second = build_image("P3265-V", "12.11.86", payload_size=301)
    outcomes = race(
        lambda: add_release(spec=_spec(first), image=io.BytesIO(first)),
        lambda: add_release(spec=_spec(second), image=io.BytesIO(second)),
    )
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    added = [o for o in outcomes if not isinstance(o, Exception)]
    assert (len(added), len(refused)) == (1, 1), outcomes
    assert FirmwareRelease.objects.count() == 1


def test_the_demo_catalog_has_lts_and_active_tracks_and_a_security_release(db):
    first = seed_catalog()
    assert all(line.startswith("added") for line in first)
    tracks = set(FirmwareRelease.objects.values_list("track", flat=True))
    assert {"active", "10.12", "11.11"} <= tracks
    assert FirmwareRelease.objects.filter(fixes__isnull=False).exists()
    assert len({p for r in FirmwareRelease.objects.all() for p in r.product_numbers}) >= 4
    again = seed_catalog()
    assert all(line.startswith("unchanged") for line in again)


def test_deleting_a_release_in_the_admin_removes_its_image(
    staff_client, firmware_root, django_capture_on_commit_callbacks
):
    release = add_test_release("12.11.86")
    stored = firmware_root / release.image_name
    assert stored.is_file()
    url = reverse("admin:upgrades_firmwarerelease_delete", args=[release.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not FirmwareRelease.objects.exists()
    assert not stored.exists()
