"""Benchmark folder access: 2,000 folders six levels deep, a viewer with 10 grants.

Measures, with Django's test client against a throwaway PostgreSQL database:
  (a) the folder tree page (/o/<id>/folders/) for the viewer and for the owner;
  (b) evaluating `access.visible_folders(membership)` for the viewer and the owner;
  (c) the query count of both with 1 grant and with 10 grants (it must not grow with grants).
Reports p50/p95 server time (ms) and queries per request; writes bench/results/access.json.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench access
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "access.json"
# Children per folder at each level below the top: 5, 25, 125, 375, then the rest at level 5.
BRANCHING = [5, 5, 5, 3]
FOLDER_COUNT = 2000
GRANTS = 10


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def build_tree(organization, top) -> list:
    """Create FOLDER_COUNT folders six levels deep (top = level 0); return them by level."""
    from organizations.models import Folder

    levels = [[top]]
    created = 1
    for branching in BRANCHING:
        level = []
        for parent in levels[-1]:
            for index in range(branching):
                level.append(_folder(organization, parent, f"{parent.name[:40]}.{index}"))
        Folder.objects.bulk_create(level)
        created += len(level)
        levels.append(level)
    remaining = FOLDER_COUNT - created
    parents = levels[-1]
    last = [
        _folder(organization, parents[index % len(parents)], f"Room {index}")
        for index in range(remaining)
    ]
    Folder.objects.bulk_create(last, batch_size=500)
    levels.append(last)
    return levels


def _folder(organization, parent, name: str):
    from organizations.models import Folder

    folder_id = uuid.uuid4()
    return Folder(
        id=folder_id,
        organization=organization,
        parent=parent,
        name=name,
        path=f"{parent.path}{folder_id}/",
        depth=parent.depth + 1,
    )


def measure(function, runs: int) -> dict:
    """Run `function` (returning something to consume) `runs` times; time and count queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()  # warm up caches, templates and the connection
    samples, cpu_samples, queries = [], [], set()
    for _run in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            function()
            samples.append(time.perf_counter() - started)
            cpu_samples.append(time.process_time() - cpu_started)
        queries.add(len(captured))
    # On a shared machine the wall-clock figures move with the load; this process's CPU time
    # (not the database server's) moves much less, so it tells a code change from a busy hour.
    cpu_p50_ms = round(statistics.median(cpu_samples) * 1000, 2)
    return {
        **_percentiles(samples),
        "cpu_p50_ms": cpu_p50_ms,
        "queries": sorted(queries),
        "runs": runs,
    }


def run(options) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return _run(options, Client)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)


def _run(options, client_class) -> dict:
    from django.urls import reverse

    from accounts.models import User
    from organizations import access, selectors, services
    from organizations.models import Folder, Membership
    from organizations.roles import Role

    owner_user = User.objects.create_user(email="owner@bench.invalid", password="x" * 12)
    organization = services.create_organization(user=owner_user, name="Bench", notes="")
    owner = selectors.get_membership(owner_user, organization.pk)
    top = Folder.objects.get(organization=organization, parent=None)
    levels = build_tree(organization, top)
    folder_total = Folder.objects.filter(organization=organization).count()

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
    from django.db import connection

    # Fresh statistics, as autovacuum would have them in production; without them the planner
    # guesses at an empty table and skips the (organization, path) prefix index.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    url = reverse("organizations:folder-list", args=[organization.pk])
    results: dict = {
        "folders": folder_total,
        "levels": len(levels),
        "viewer_grants": GRANTS,
        "viewer_visible_folders": len(list(access.visible_folders(viewer))),
    }

    def page(user):
        client = client_class()
        client.force_login(user)

        def get():
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        return get

    def evaluate(membership):
        return lambda: list(access.visible_folders(membership))

    results["folder_tree_page"] = {
        "viewer_10_grants": measure(page(viewer_user), options.runs),
        "viewer_1_grant": measure(page(one_grant_user), options.runs),
        "owner_all_2000": measure(page(owner_user), max(10, options.runs // 4)),
    }
    results["visible_folders"] = {
        "viewer_10_grants": measure(evaluate(viewer), options.runs * 4),
        "viewer_1_grant": measure(evaluate(one_grant), options.runs * 4),
        "owner_all_2000": measure(evaluate(owner), options.runs),
    }
    page_results = results["folder_tree_page"]
    evaluation = results["visible_folders"]
    results["query_count_independent_of_grants"] = (
        page_results["viewer_10_grants"]["queries"] == page_results["viewer_1_grant"]["queries"]
        and evaluation["viewer_10_grants"]["queries"] == evaluation["viewer_1_grant"]["queries"]
    )
    results["goal_p95_ms"] = 20
    results["load_average_1_5_15_min"] = [round(load, 2) for load in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()
    return results


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
