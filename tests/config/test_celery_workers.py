"""A real Celery worker (and beat) on each broker the project supports."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def _environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DATABASE_URL"))}
    env.update(overrides)
    return env


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


@pytest.mark.slow
def test_worker_and_beat_run_on_the_filesystem_broker_without_any_server(tmp_path):
    env = _environment(
        DJANGO_SETTINGS_MODULE="config.settings.dev", VAR_DIR=str(tmp_path), PYTHONDEVMODE="0"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    # A periodic task row for the database scheduler: beat must send it, the worker must run it.
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django_celery_beat.models import IntervalSchedule, PeriodicTask;"
            "every, _ = IntervalSchedule.objects.get_or_create(every=1, period='seconds');"
            "PeriodicTask.objects.create(name='ping', task='camfleet.ping', interval=every)",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=2",
            "-Q",
            "default",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    beat = subprocess.Popen(
        [CELERY, "-A", "config", "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    results = tmp_path / "celery" / "results"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(results.glob("*"))) < 2:
            time.sleep(0.5)
        finished = list(results.glob("*"))
    finally:
        beat_log, worker_log = _stop(beat), _stop(worker)
    assert len(finished) >= 2, f"beat:\n{beat_log[-3000:]}\nworker:\n{worker_log[-3000:]}"
    assert any(b'"pong"' in path.read_bytes() for path in finished)


@pytest.mark.slow
def test_worker_consumes_tasks_from_redis(monkeypatch):
    broker = "redis://127.0.0.1:6379/14"
    # Celery reads CELERY_BROKER_URL from the environment before the broker it is given: a
    # value exported for this test run would send the task to another database.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    # A queue of this run's own: another test run on this Redis must not take the task.
    queue = f"pytest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = _environment(
        DJANGO_SETTINGS_MODULE="config.settings.test", CELERY_BROKER_URL=broker, PYTHONDEVMODE="0"
    )
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=1",
            "-Q",
            queue,
            "--hostname",
            f"pytest-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Not the current app: later tests in this process must still send to the project's app.
    client = Celery(broker=broker, backend=broker, set_as_current=False)
    try:
        result = client.send_task("camfleet.ping", queue=queue)
        answer = result.get(timeout=60)
    finally:
        log = _stop(worker)
    assert answer == "pong", log[-3000:]
