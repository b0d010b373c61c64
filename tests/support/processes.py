"""Real processes for crash tests and benchmarks: a private Redis, Celery workers and beat.

Nothing here touches the machine's shared Redis (port 6379): every broker is a `redis-server`
of our own on a free loopback port, which a test may kill and restart at will. Workers and beat
run as `celery -A config …` child processes on the database the caller names, with their output
in a log file (a pipe nobody reads would block a chatty worker).

    with RedisServer() as redis:
        env = celery_environment(database=name, broker=redis.url, UPGRADE_TICK="1")
        worker = CeleryProcess.worker(env, log_dir, queues="upgrades,default", concurrency=8)
        ...
        worker.kill()                      # SIGKILL: no clean shutdown, messages unacked
        redis.restart()                    # same port, empty memory (no persistence)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis as redis_client

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free port, without persistence, restartable."""

    def __init__(self, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the broker URL (database 0 of this private server)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_client.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis_client.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill the server (as a crash would: nothing is saved)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        """Kill the server, stay down `down_for` seconds, start it again on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def celery_environment(*, database: str, broker: str, **settings: str) -> dict[str, str]:
    """Return the environment of a worker or beat on `database` and `broker`.

    `settings` are extra environment variables (the project reads many settings from there,
    e.g. UPGRADE_TICK). The parent's CELERY_* and DATABASE_URL never leak in.
    """
    # Any value of PYTHONDEVMODE, "0" included, turns development mode on: leave it out, its
    # checks slow workers down and add nothing here.
    leave_out = ("CELERY_", "DATABASE_URL", "PYTHONDEVMODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leave_out)}
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        PYTHONPATH=str(ROOT),
    )
    env.update(settings)
    return env


class CeleryProcess:
    """One `celery -A config worker|beat` child process with its log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def worker(
        cls,
        env: dict[str, str],
        log_dir: Path,
        *,
        queues: str,
        concurrency: int,
        name: str = "worker",
        program: list[str] | None = None,
        beat: bool = False,
    ) -> CeleryProcess:
        """Start a thread-pool worker consuming `queues`; `program` replaces `celery`;
        `beat` runs beat inside it (the settings' schedule, kept in a file of `log_dir`)."""
        embedded_beat = [
            "--beat",
            "--scheduler",
            "celery.beat:PersistentScheduler",
            "--schedule",
            str(log_dir / f"{name}-schedule"),
        ]
        argv = [
            *(program or [CELERY]),
            "-A",
            "config",
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "-Q",
            queues,
            "--hostname",
            f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            *(embedded_beat if beat else []),
        ]
        return cls(argv, env, log_dir / f"{name}.log").start()

    @classmethod
    def beat(cls, env: dict[str, str], log_dir: Path, *, name: str = "beat") -> CeleryProcess:
        """Start beat; its schedule comes from the settings (database scheduler)."""
        argv = [CELERY, "-A", "config", "beat", "--loglevel=INFO", "-s", str(log_dir / name)]
        return cls(argv, env, log_dir / f"{name}.log").start()

    def start(self) -> CeleryProcess:
        """Start the process (again), appending to its log."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the process dies at once, its messages unacknowledged, its steps cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        """Ask for a warm shutdown (SIGTERM); kill if it takes longer than `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, characters: int = 4000) -> str:
        """Return the end of the log (for assertion messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except FileNotFoundError:
            return ""
