"""Benchmark server check-ins: 5,000 simulated servers against one web process.

One gunicorn process (gthread; database connections kept as in production, `--conn-max-age`)
serves a throwaway PostgreSQL database holding 5,000 registered servers. An asyncio load
generator (aiohttp, this process) then
  (a) runs the fleet as deployed: every server checks in every 60 s, spread over the minute, for
      --steady seconds -> check-ins/s sustained and latency percentiles;
  (b) saturates: --concurrency check-ins in flight for --burst seconds, round robin over the
      servers -> the most check-ins/s the one process sustains, and its latency;
and, in-process with Django's test client, counts the queries of one check-in for a server with
no history and for one with a full ring (they must be equal). Writes bench/results/servers.json.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench servers
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "servers.json"
PORT = 18765
CHECK_IN_EVERY = 60.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of process `pid` and its children (gunicorn's worker)."""
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(child) for child in children.read_text().split())]
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def _percentiles(samples: list[float]) -> dict:
    if len(samples) < 2:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    cuts = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def make_fleet(count: int) -> list[str]:
    """Create one organization with `count` registered servers; return their raw tokens."""
    from devices.servers.models import CameraStationServer, ServerToken
    from organizations.models import Folder, Organization
    from organizations.tokens import hash_secret

    organization = Organization.objects.create(name="Bench servers")
    folder = Folder.objects.create(organization=organization, name="Top", path="")
    Folder.objects.filter(pk=folder.pk).update(path=f"{folder.pk}/")
    servers = CameraStationServer.objects.bulk_create(
        [
            CameraStationServer(organization=organization, folder=folder, name=f"Recorder {n}")
            for n in range(count)
        ],
        batch_size=1000,
    )
    raws, tokens = [], []
    for server in servers:
        prefix = f"cfs{secrets.token_hex(5)}"
        raw = f"{prefix}_{secrets.token_urlsafe(32)}"
        raws.append(raw)
        tokens.append(
            ServerToken(
                organization=organization,
                server=server,
                prefix=prefix,
                token_hash=hash_secret(raw),
            )
        )
    ServerToken.objects.bulk_create(tokens, batch_size=1000)
    return raws


def count_queries(raws: list[str]) -> dict:
    """Return the queries of one check-in: a fresh server, and one whose history ring is full."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client()
    body = json.dumps({"software_version": "6.8.0", "cameras": {"count": 8}})

    def one(raw: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/v1/servers/check-in",
                body,
                content_type="application/json",
                headers={"Authorization": f"Server {raw}"},
            )
        assert response.status_code == 200, response.content
        return len(queries)

    with override_settings(SERVER_CHECK_IN_MIN_INTERVAL=0):
        fresh = one(raws[0])
        for _ in range(settings.SERVER_CHECK_IN_HISTORY + 5):
            one(raws[1])
        full = one(raws[1])
    return {"fresh_server": fresh, "full_history": full, "constant": fresh == full}


async def _check_in(session, url: str, raw: str, latencies: list, errors: dict) -> None:
    body = {
        "software_version": "6.8.0",
        "status": "running",
        "cameras": {"count": 16, "serials": [f"B8A44F{n:06X}" for n in range(16)]},
        "storage": {"used_bytes": 3 * 10**12, "total_bytes": 8 * 10**12},
        "health": {"status": "ok", "messages": []},
    }
    started = time.perf_counter()
    try:
        async with session.post(url, json=body, headers={"Authorization": f"Server {raw}"}) as r:
            await r.read()
            status = r.status
    except Exception as error:  # the bench reports failures, it does not stop on them
        errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
        return
    if status == 200:
        latencies.append(time.perf_counter() - started)
    else:
        errors[str(status)] = errors.get(str(status), 0) + 1


async def steady(url: str, raws: list[str], seconds: float) -> dict:
    """Each server checks in every CHECK_IN_EVERY s, first ones spread over the interval."""
    import aiohttp

    latencies: list[float] = []
    errors: dict = {}
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        spacing = CHECK_IN_EVERY / len(raws)
        tasks = set()
        index = 0
        while (now := time.perf_counter() - start) < seconds:
            due = int(now / spacing) + 1
            while index < due:
                raw = raws[index % len(raws)]
                task = asyncio.create_task(_check_in(session, url, raw, latencies, errors))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                index += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "servers": len(raws),
        "interval_s": CHECK_IN_EVERY,
        "seconds": round(elapsed, 1),
        "offered_per_s": round(len(raws) / CHECK_IN_EVERY, 1),
        "check_ins_per_s": round(len(latencies) / elapsed, 1),
        "ok": len(latencies),
        "errors": errors,
        **_percentiles(latencies),
    }


async def burst(url: str, raws: list[str], seconds: float, concurrency: int) -> dict:
    """Keep `concurrency` check-ins in flight, round robin over the servers, for `seconds`."""
    import aiohttp

    latencies: list[float] = []
    errors: dict = {}
    cursor = iter(range(10**9))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() - start < seconds:
                await _check_in(session, url, raws[next(cursor) % len(raws)], latencies, errors)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "check_ins_per_s": round(len(latencies) / elapsed, 1),
        "ok": len(latencies),
        "errors": errors,
        **_percentiles(latencies),
    }


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("The web process exited; see its output above.")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own loopback server
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The web process did not answer {url} within {timeout} s.")


def run(options: argparse.Namespace) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    web = None
    try:
        raws = make_fleet(options.servers)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        results: dict = {"queries_per_check_in": count_queries(raws)}
        environment = {
            **os.environ,
            "DATABASE_URL": f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{database}",
            # The bench spreads check-ins over 5,000 servers; the throttle stays on.
            "SERVER_CHECK_IN_MIN_INTERVAL": "1",
            # Production keeps each thread's database connection (60 s); 0 opens one per
            # request, which alone costs about a third of a check-in's CPU.
            "DATABASE_CONN_MAX_AGE": str(options.conn_max_age),
        }
        environment.pop("PYTHONDEVMODE", None)
        command = [
            str(REPO / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            f"--bind=127.0.0.1:{PORT}",
            "--workers=1",
            "--worker-class=gthread",
            f"--threads={options.threads}",
            "--log-level=warning",
        ]
        web = subprocess.Popen(command, cwd=REPO, env=environment)  # noqa: S603 - fixed command
        _wait_for(f"http://127.0.0.1:{PORT}/healthz", web)
        url = f"http://127.0.0.1:{PORT}/api/v1/servers/check-in"
        # The web process's CPU time per check-in says what one process sustains on a core of
        # its own, whatever else the machine runs.
        for phase, measure in (
            ("steady", lambda: steady(url, raws, options.steady)),
            ("burst", lambda: burst(url, raws, options.burst, options.concurrency)),
        ):
            cpu_before = cpu_seconds(web.pid)
            results[phase] = asyncio.run(measure())
            cpu = cpu_seconds(web.pid) - cpu_before
            results[phase]["web_cpu_seconds"] = round(cpu, 2)
            results[phase]["check_ins_per_web_cpu_second"] = (
                round(results[phase]["ok"] / cpu, 1) if cpu else None
            )
        results["web_process"] = (
            f"gunicorn, 1 process, gthread, {options.threads} threads, "
            f"DATABASE_CONN_MAX_AGE={options.conn_max_age}"
        )
        results["goal_check_ins_per_s"] = 300
        results["load_average_1_5_15_min"] = [round(load, 2) for load in os.getloadavg()]
        results["cpu_count"] = os.cpu_count()
        return results
    finally:
        if web is not None:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=5000)
    parser.add_argument("--steady", type=float, default=60.0, help="Seconds of the 60 s cadence.")
    parser.add_argument("--burst", type=float, default=20.0, help="Seconds of saturation.")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="The web process's DATABASE_CONN_MAX_AGE: 60 as in production, 0 for a new "
        "database connection per request.",
    )
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
