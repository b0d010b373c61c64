"""Benchmark the live view proxy against a simulated camera, through Django's request path.

Measures, with Django's test client (the full view: tenancy, selectors, access, the VAPIX client)
against a throwaway PostgreSQL database and one simulated P3265-V on loopback:
  (a) snapshot through the service vs straight from the camera (p50/p95 ms) at 640x360;
  (b) MJPEG through the service: time to the first frame, frames per second and what the proxy
      holds in memory while 200 frames of 1280x720 pass (tracemalloc peak: one frame at a time,
      not the stream);
  (c) how long after the viewer leaves the camera's stream is closed (simulator open streams).
Writes bench/results/live_stream.json and prints it.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench live_stream
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "live_stream.json"


def _percentiles(samples: list[float]) -> dict:
    cuts = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2)}


def _timed(function, runs: int) -> dict:
    function()
    samples = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return {**_percentiles(samples), "runs": runs}


def run(options) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from devices.simulator.fleet import run_in_thread

    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    fleet = run_in_thread(count=1, seed=11, products=["P3265-V"], time_scale=0.005)
    try:
        return _run(options, Client, fleet)
    finally:
        fleet.stop()
        connection.creation.destroy_test_db(database, verbosity=0)


def _run(options, client_class, fleet) -> dict:
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.urls import reverse

    from accounts.models import User
    from devices.models import Device
    from devices.vapix import VapixClient
    from devices.vapix.streams import iter_mjpeg_frames
    from organizations import services
    from organizations.models import Folder

    camera = fleet.cameras[0]
    user = User.objects.create_user(email="owner@bench.invalid", password="x" * 12)
    organization = services.create_organization(user=user, name="Bench", notes="")
    device = Device.objects.create(
        organization=organization,
        folder=Folder.objects.get(organization=organization, parent=None),
        name="Bench camera",
        serial_number=camera.serial,
        scheme="http",
        host=camera.host,
        port=camera.port,
        username=camera.username,
        password=camera.password,
        status=Device.Status.ONLINE,
    )
    client = client_class()
    client.force_login(user)
    args = [organization.pk, device.pk]
    snapshot_url = reverse("devices:device-snapshot", args=args) + "?resolution=640x360"
    mjpeg_url = reverse("devices:device-mjpeg", args=args)

    def through_service():
        response = client.get(snapshot_url)
        assert response.status_code == 200, response.status_code

    direct = VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    )
    results: dict = {
        "snapshot_640x360": {
            "through_service": _timed(through_service, options.runs),
            "straight_from_camera": _timed(
                lambda: direct.snapshot(resolution="640x360"), options.runs
            ),
        }
    }
    direct.close()

    def leave(response):
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)

    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"{mjpeg_url}?resolution=1280x720&fps=10")
    assert response.status_code == 200, response.status_code
    boundary = response["Content-Type"].split("boundary=")[1]
    frames = iter_mjpeg_frames(iter(response.streaming_content), boundary)
    first = next(frames)
    first_frame_s = time.perf_counter() - started
    tracemalloc.reset_peak()
    counted, frame_bytes = 1, len(first.jpeg)
    streaming_started = time.perf_counter()
    for frame in frames:
        counted += 1
        frame_bytes = max(frame_bytes, len(frame.jpeg))
        if counted >= options.frames:
            break
    streaming_s = time.perf_counter() - streaming_started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    left = time.perf_counter()
    leave(response)
    while fleet.open_streams(camera.serial) and time.perf_counter() - left < 10:
        time.sleep(0.005)
    closed_after_s = time.perf_counter() - left

    results["mjpeg_1280x720_fps10"] = {
        "first_frame_ms": round(first_frame_s * 1000, 1),
        "frames": counted,
        "frames_per_second": round((counted - 1) / streaming_s, 1),
        "largest_frame_kib": round(frame_bytes / 1024, 1),
        "stream_kib": round(counted * frame_bytes / 1024, 1),
        "traced_peak_kib_while_streaming": round(peak / 1024, 1),
        "camera_stream_closed_after_leaving_ms": round(closed_after_s * 1000, 1),
        "camera_streams_open_after": fleet.open_streams(camera.serial),
    }
    results["load_average_1_5_15_min"] = [round(load, 2) for load in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="snapshots per measurement")
    parser.add_argument("--frames", type=int, default=200, help="MJPEG frames to pass through")
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
