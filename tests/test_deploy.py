import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deploy_check_without_warnings():
    # The browser tests' relaxation of Django's async check must not reach the deploy check.
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **environment,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "a-long-random-production-secret-for-the-check-0123456789abcdef",
        "ALLOWED_HOSTS": "camfleet.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/camfleet",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "DEVICE_CREDENTIAL_KEYS": "Y2hlY2stb25seS1ub3QtYS1yZWFsLWtleS0wMTIzNDU=",
        "LICENSE_SIGNING_KEY": "Y2hlY2stb25seS1saWNlbnNlLXNpZ25pbmcta2V5LTA=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_model_change_is_missing_a_migration():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
