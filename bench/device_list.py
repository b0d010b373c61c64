"""Benchmark the device list: 100,000 devices in 2,000 folders, a viewer with 10 folder grants.

Measures, with Django's test client against a throwaway PostgreSQL database:
  (a) the list page (50 per page) for the viewer: plain, searched, filtered, in a folder with its
      subfolders, sorted by last seen; and for the owner (all 100,000) plain and searched;
  (b) the device API list, when the API's list view is routed (`api:device-list`);
  (c) the query count with 1 and with 10 grants, and with 25, 50 and 200 rows a page;
  (d) the CSV export of 10,000 rows: time, and peak Python memory while streaming it, next to the
      exports of 1,000 and of all 100,000 rows (bounded memory: the peak stops growing with the
      rows once a chunk of the server-side cursor is full).
Reports p50/p95 server time (ms) and queries per request; writes bench/results/device_list.json.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench device_list
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "device_list.json"
DEVICE_COUNT = 100_000
GRANTS = 10
MODELS = [f"P{3200 + index}-LV" for index in range(10)]  # one device in ten has each model
FIRMWARE_VERSIONS = [
    f"{major}.{minor}.{patch}"
    for major in (10, 11, 12)
    for minor, patch in ((2, 1), (5, 3), (9, 12), (12, 7))
] + ["9.80.3", "6.50.5"]
STATUSES = ["online"] * 17 + ["offline", "unreachable", "auth_failed"]


def build_devices(organization, folders: list) -> int:
    """Create DEVICE_COUNT devices, 50 to a folder, in batches.

    Folder by folder, as a fleet is onboarded (a site's cameras from one CSV file), so a folder's
    devices sit together in the table as they would in production.
    """
    from django.utils import timezone

    from devices.credentials import encrypt_secret
    from devices.models import Device

    # One token for all: Fernet per row would be most of the set-up time and measures nothing.
    encrypted = encrypt_secret("bench-password-0123")
    now = timezone.now()
    batch = []
    for index in range(DEVICE_COUNT):
        folder = folders[index * len(folders) // DEVICE_COUNT]
        model = MODELS[index % len(MODELS)]
        batch.append(
            Device(
                id=uuid.uuid4(),
                organization=organization,
                folder=folder,
                name=f"{model} cam {index:06d}",
                serial_number=f"B8A4{index:08X}",
                mac_address="",
                product_number=model,
                product_name=f"AXIS {model} Network Camera",
                firmware_version=FIRMWARE_VERSIONS[index % len(FIRMWARE_VERSIONS)],
                scheme="https" if index % 2 else "http",
                host=f"10.{index // 65536}.{index // 256 % 256}.{index % 256}",
                port=443 if index % 2 else 80,
                username="root",
                encrypted_password=encrypted,
                status=STATUSES[index % len(STATUSES)],
                last_seen_at=now - timedelta(seconds=index) if index % 50 else None,
            )
        )
        if len(batch) == 5000:
            Device.objects.bulk_create(batch)
            batch = []
    Device.objects.bulk_create(batch)
    return Device.objects.filter(organization=organization).count()


def measure_export(client, url: str, query: dict) -> dict:
    """Stream one CSV export; return its time, rows and the peak Python memory while streaming."""
    client.get(url, query)  # warm up
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url, query)
    assert response.status_code == 200, response.status_code
    assert response.streaming
    rows = -1  # the header
    size = 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows": rows,
        "bytes": size,
        "seconds": round(elapsed, 3),
        "rows_per_second": round(rows / elapsed),
        "peak_python_memory_kib": round(peak / 1024),
    }


def run(options) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    database = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=options.keepdb
    )
    try:
        return _run(options, Client)
    finally:
        if not options.keepdb:
            connection.creation.destroy_test_db(database, verbosity=0)


def _run(options, client_class) -> dict:
    from django.db import connection
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User
    from bench.access import build_tree, measure
    from devices import selectors as device_selectors
    from organizations import access, selectors, services
    from organizations.models import Folder, Membership
    from organizations.roles import Role

    started = time.perf_counter()
    if options.keepdb and User.objects.filter(email="owner@bench.invalid").exists():
        # A database kept from an earlier run (--keepdb): start again from an empty one.
        raise SystemExit("Drop the kept database first, or run without --keepdb.")
    owner_user = User.objects.create_user(email="owner@bench.invalid", password="x" * 12)
    organization = services.create_organization(user=owner_user, name="Bench", notes="")
    top = Folder.objects.get(organization=organization, parent=None)
    levels = build_tree(organization, top)
    folders = list(Folder.objects.filter(organization=organization).order_by("path"))
    device_total = build_devices(organization, folders)

    viewer_user = User.objects.create_user(email="viewer@bench.invalid", password="x" * 12)
    one_grant_user = User.objects.create_user(email="one@bench.invalid", password="x" * 12)
    viewer = Membership.objects.create(
        organization=organization, user=viewer_user, role=Role.VIEWER
    )
    one_grant = Membership.objects.create(
        organization=organization, user=one_grant_user, role=Role.VIEWER
    )
    level3 = levels[3]
    granted = [level3[index * (len(level3) // GRANTS)] for index in range(GRANTS)]
    access.set_folder_grants(viewer, granted)
    access.set_folder_grants(one_grant, granted[:1])
    # Fresh statistics, as autovacuum would have them in production.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    set_up_seconds = round(time.perf_counter() - started, 1)

    owner = selectors.get_membership(owner_user, organization.pk)
    list_url = reverse("devices:device-list", args=[organization.pk])
    export_url = reverse("devices:device-export", args=[organization.pk])
    results: dict = {
        "devices": device_total,
        "folders": len(folders),
        "viewer_grants": GRANTS,
        "viewer_visible_devices": device_selectors.visible_devices(viewer).count(),
        "set_up_seconds": set_up_seconds,
    }

    def getter(user, url, query=None):
        client = client_class()
        client.force_login(user)

        def get():
            response = client.get(url, query or {})
            assert response.status_code == 200, (response.status_code, url, query)
            return response

        return get

    searched = {"q": "cam 0012"}
    filtered = {"status": "online", "model": MODELS[3], "firmware_version": FIRMWARE_VERSIONS[2]}
    in_folder = {"folder": str(granted[0].pk), "include_subfolders": "true"}
    runs = options.runs
    results["list_page"] = {
        "viewer_plain": measure(getter(viewer_user, list_url), runs),
        "viewer_search": measure(getter(viewer_user, list_url, searched), runs),
        "viewer_filters": measure(getter(viewer_user, list_url, filtered), runs),
        "viewer_folder_with_subfolders": measure(getter(viewer_user, list_url, in_folder), runs),
        "viewer_sorted_by_last_seen": measure(
            getter(viewer_user, list_url, {"ordering": "-last_seen"}), runs
        ),
        "owner_plain_100000": measure(getter(owner_user, list_url), runs),
        "owner_search_100000": measure(getter(owner_user, list_url, searched), runs),
        "owner_filters_100000": measure(getter(owner_user, list_url, filtered), runs),
    }
    small = max(10, runs // 5)
    results["query_counts"] = {
        "viewer_1_grant": measure(getter(one_grant_user, list_url), small)["queries"],
        "viewer_10_grants": measure(getter(viewer_user, list_url), small)["queries"],
        "viewer_25_a_page": measure(getter(viewer_user, list_url, {"per_page": 25}), small)[
            "queries"
        ],
        "viewer_200_a_page": measure(getter(viewer_user, list_url, {"per_page": 200}), small)[
            "queries"
        ],
    }
    counts = results["query_counts"]
    results["query_count_constant"] = len({tuple(value) for value in counts.values()}) == 1
    try:
        api_url = reverse("api:device-list", args=[organization.pk])
    except NoReverseMatch:
        results["api_list"] = "not measured: the device API list view is not routed on this branch"
    else:
        results["api_list"] = {
            "viewer_plain": measure(getter(viewer_user, api_url), runs),
            "viewer_search": measure(getter(viewer_user, api_url, searched), runs),
            "viewer_filters": measure(getter(viewer_user, api_url, filtered), runs),
            "owner_plain_100000": measure(getter(owner_user, api_url), runs),
        }
    export_client = client_class()
    export_client.force_login(owner_user)
    results["csv_export"] = {
        # One model in ten: 10,000 rows of the 100,000.
        "owner_10000_rows": measure_export(export_client, export_url, {"model": MODELS[0]}),
        "owner_1000_rows": measure_export(
            export_client, export_url, {"model": MODELS[0], "q": "cam 00"}
        ),
        # Bounded memory: the whole fleet peaks where 10,000 rows do.
        "owner_all_100000_rows": measure_export(export_client, export_url, {}),
    }
    del owner
    results["goals"] = {"page_p95_ms": 50, "api_p95_ms": 30}
    results["load_average_1_5_15_min"] = [round(load, 2) for load in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()
    return results


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument(
        "--keepdb", action="store_true", help="keep the database afterwards, to EXPLAIN queries"
    )
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
