"""Web servers and Celery refuse to start on development settings outside development."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEVELOPMENT_KEY = "django-insecure-camfleet-development-only-change-me-0123456789abcdef"
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "a-long-random-production-secret-for-the-test-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "CACHE_URL": "locmemcache://",
    # Production reads these with no default; the CI shell sets neither.
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/camfleet",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
    "DEVICE_CREDENTIAL_KEYS": "Y2hlY2stb25seS1ub3QtYS1yZWFsLWtleS0wMTIzNDU=",
    "LICENSE_SIGNING_KEY": "Y2hlY2stb25seS1saWNlbnNlLXNpZ25pbmcta2V5LTA=",
}
# Each entry point as production starts it (README), with a quick way to stop after loading.
ENTRY_POINTS = {
    "wsgi": [sys.executable, "-c", "from config.wsgi import application"],
    "asgi": [sys.executable, "-c", "from config.asgi import application"],
    "celery": [str(BIN / "celery"), "-A", "config", "report"],
}


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return {**keep, "VAR_DIR": str(tmp_path), "PYTHONDEVMODE": "0", **settings}


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_entry_point_refuses_to_guess_the_settings(tmp_path, entry_point):
    result = _run(ENTRY_POINTS[entry_point], _environment(tmp_path))
    assert result.returncode != 0
    assert "camfleet will not start: DJANGO_SETTINGS_MODULE is not set." in result.stderr
    assert "DJANGO_SETTINGS_MODULE=config.settings.prod" in result.stderr


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_entry_point_refuses_production_with_the_development_key(tmp_path, entry_point):
    env = _environment(tmp_path, **{**PRODUCTION, "SECRET_KEY": DEVELOPMENT_KEY})
    result = _run(ENTRY_POINTS[entry_point], env)
    assert result.returncode != 0
    assert "camfleet will not start with config.settings.prod" in result.stderr
    assert "SECRET_KEY is the public development key" in result.stderr


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_entry_point_refuses_debug_outside_development(tmp_path, entry_point):
    env = _environment(
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=PRODUCTION["SECRET_KEY"],
        DEBUG="true",
    )
    result = _run(ENTRY_POINTS[entry_point], env)
    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr


def test_the_development_key_is_the_default_of_the_shared_settings(tmp_path):
    # The test above must use the key a forgotten SECRET_KEY really falls back to.
    env = _environment(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev")
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = _run([sys.executable, "-c", script], env)
    assert result.stdout.strip() == DEVELOPMENT_KEY, result.stderr


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_entry_point_starts_on_development_settings(tmp_path, entry_point):
    env = _environment(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev")
    result = _run(ENTRY_POINTS[entry_point], env)
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_health_check(env: dict[str, str]) -> tuple[int | None, str]:
    """Start gunicorn as production does; return the /healthz status (None if it never served)."""
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    status = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=5) as answer:
                    status = answer.status
                    break
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    return status, output


@pytest.mark.slow
def test_gunicorn_refuses_the_development_key_and_serves_with_a_real_one(tmp_path):
    # Any database answers the health check's SELECT 1: the server's own one always exists.
    database = "postgres://postgres@127.0.0.1:5432/postgres"
    production = {**PRODUCTION, "DATABASE_URL": database, "CELERY_BROKER_URL": "memory://"}

    status, output = _serve_health_check(
        _environment(tmp_path, **{**production, "SECRET_KEY": DEVELOPMENT_KEY})
    )
    assert status is None
    assert "SECRET_KEY is the public development key" in output

    status, output = _serve_health_check(_environment(tmp_path, **production))
    assert status == 200, output
