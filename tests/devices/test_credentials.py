"""Device passwords encrypted at rest, masked in memory, and rotated to the newest key."""

import logging
import os
import pickle
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from devices.credentials import Secret, decrypt_secret, encrypt_secret
from devices.errors import CredentialsUnreadable
from devices.models import Device
from tests.devices.factories import DEVICE_PASSWORD, DeviceFactory

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_device_credentials", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_a_password_round_trips_through_its_token():
    token = encrypt_secret("s3cret-ü")
    assert "s3cret" not in token
    assert decrypt_secret(token).reveal() == "s3cret-ü"


def test_a_secret_is_masked_in_repr_str_format_and_exceptions():
    secret = Secret("marker-password-7781")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "marker-password-7781" not in text
    error = RuntimeError("could not log in", secret)
    assert "marker-password-7781" not in repr(error)
    assert "marker-password-7781" not in str(error)
    assert secret == Secret("marker-password-7781")
    assert secret != Secret("other")


def test_a_secret_cannot_be_pickled_or_hashed():
    with pytest.raises(TypeError):
        pickle.dumps(Secret("marker-password-7781"))
    with pytest.raises(TypeError):
        hash(Secret("marker-password-7781"))


@pytest.mark.django_db
def test_device_stores_only_the_token_and_masks_the_password(caplog):
    device = DeviceFactory(password="marker-password-7781")
    device.refresh_from_db()
    assert "marker-password-7781" not in device.encrypted_password
    assert device.password.reveal() == "marker-password-7781"
    logging.getLogger("devices").warning("device %r password %s", device, device.password)
    for text in (repr(device), str(device), repr(device.password), caplog.text):
        assert "marker-password-7781" not in text


@pytest.mark.django_db
def test_rotation_moves_every_password_to_the_newest_key_so_the_old_one_can_go():
    with override_settings(DEVICE_CREDENTIAL_KEYS=[OLD_KEY]):
        devices = [DeviceFactory(password=f"pw-{i}") for i in range(5)]
    with override_settings(DEVICE_CREDENTIAL_KEYS=[NEW_KEY, OLD_KEY]):
        output = _rotate(batch_size=2)
    assert "Re-encrypted 5 device password(s) with the newest key; 0 already used it." in output
    with override_settings(DEVICE_CREDENTIAL_KEYS=[NEW_KEY]):
        for i, device in enumerate(devices):
            device.refresh_from_db()
            assert device.password.reveal() == f"pw-{i}"


@pytest.mark.django_db
def test_rotation_run_again_rotates_nothing():
    with override_settings(DEVICE_CREDENTIAL_KEYS=[OLD_KEY]):
        device = DeviceFactory()
    with override_settings(DEVICE_CREDENTIAL_KEYS=[NEW_KEY, OLD_KEY]):
        _rotate()
        device.refresh_from_db()
        token = device.encrypted_password
        output = _rotate()
    device.refresh_from_db()
    assert "Re-encrypted 0 device password(s) with the newest key; 1 already used it." in output
    assert device.encrypted_password == token


@pytest.mark.django_db
def test_retiring_a_key_before_rotating_leaves_passwords_unreadable():
    with override_settings(DEVICE_CREDENTIAL_KEYS=[OLD_KEY]):
        device = DeviceFactory()
    with override_settings(DEVICE_CREDENTIAL_KEYS=[NEW_KEY]):
        device.refresh_from_db()
        with pytest.raises(CredentialsUnreadable) as refused:
            device.password  # noqa: B018 - the read is what fails
        assert "DEVICE_CREDENTIAL_KEYS" in str(refused.value.message)
        with pytest.raises(CommandError, match="could not be decrypted"):
            _rotate()
    device.refresh_from_db()
    with override_settings(DEVICE_CREDENTIAL_KEYS=[OLD_KEY]):
        assert device.password.reveal() == DEVICE_PASSWORD


@pytest.mark.django_db
def test_rotation_with_nothing_to_do_says_so():
    assert Device.objects.count() == 0
    assert "Re-encrypted 0 device password(s)" in _rotate()


def _production_check(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DEVICE_CREDENTIAL_KEYS"},
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "a-long-random-production-secret-for-the-test-0123456789abcdef",
        "ALLOWED_HOSTS": "camfleet.example",
        "CACHE_URL": "locmemcache://",
        # Production reads these with no default; the CI shell sets neither.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/camfleet",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
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


def test_production_refuses_to_start_without_credential_keys():
    result = _production_check()
    assert result.returncode != 0
    assert "DEVICE_CREDENTIAL_KEYS is not set" in result.stderr


def test_production_refuses_the_public_development_key():
    from config.settings.base import DEVELOPMENT_DEVICE_CREDENTIAL_KEY

    result = _production_check(DEVICE_CREDENTIAL_KEYS=DEVELOPMENT_DEVICE_CREDENTIAL_KEY)
    assert result.returncode != 0
    assert "is the public development key" in result.stderr


def test_production_refuses_a_malformed_key_without_echoing_it():
    result = _production_check(DEVICE_CREDENTIAL_KEYS=f"{NEW_KEY},not-a-key-secret-material")
    assert result.returncode != 0
    assert "entry 2 is not a Fernet key" in result.stderr
    assert "not-a-key-secret-material" not in result.stderr
