"""Benchmark the licensing ledger: 32 concurrent clients over 8 organizations for 30 s.

Each client is its own process with its own PostgreSQL connection (no GIL between clients) and
calls the service layer in a loop: half allocations (wallet → a subscription year, 1 license),
half transfers (1 to 3 licenses to another of the 8 organizations; one admin belongs to all).
Reports operations/s, p50/p95 latency, refusals, deadlocks retried (`ledger_busy` refusals and
retries inside `retry_on_deadlock`), and invariant violations found by `verify_ledger`
afterwards (must be 0). Goal: ≥ 500 operations/s. Also counts the round trips to PostgreSQL of
one allocation and one transfer (BEGIN and COMMIT included; several statements sent together
count once). Each client keeps its one connection for the whole run (no request cycle closes
it, so CONN_MAX_AGE plays no part). Writes bench/results/ledger.json.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m bench ledger
    (DATABASE_URL picks the server; the database used is test_<name>, created and dropped here.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/camfleet_bench")

RESULTS = REPO / "bench" / "results" / "ledger.json"
GOAL_OPERATIONS_PER_SECOND = 500


def _setup(organizations: int) -> tuple[str, list[str]]:
    """Create the product, the organizations and one admin of them all, with full wallets."""
    from accounts.models import User
    from licensing import services
    from licensing.models import Product
    from organizations.models import Membership
    from organizations.roles import Role
    from organizations.services import create_organization

    product = Product.objects.create(code="bench-station", name="Bench Station")
    user = User.objects.create_user(email="bench@example.com", password=None)
    membership_ids = []
    for index in range(organizations):
        organization = create_organization(user=user, name=f"Bench {index}")
        member = Membership.objects.get(organization=organization, user=user)
        assert member.role == Role.OWNER
        services.start_product(actor=member, product_code=product.code, kind="subscription")
        [key] = services.issue_license_keys(
            issued_by="bench", product=product, kind="subscription", quantity=100_000, count=1
        )
        services.redeem_license_key(actor=member, key=key)
        membership_ids.append(str(member.pk))
    return product.code, membership_ids


def _round_trips(product_code: str, membership_ids: list[str]) -> dict[str, int]:
    """Count the round trips of one allocation and one transfer, alone, to existing accounts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licensing import services
    from organizations.models import Membership

    source, target = Membership.objects.select_related("organization", "user").filter(
        pk__in=membership_ids[:2]
    )
    services.allocate_licenses(actor=source, product_code=product_code, year=1, count=1)
    with CaptureQueriesContext(connection) as allocation:
        services.allocate_licenses(actor=source, product_code=product_code, year=1, count=1)
    with CaptureQueriesContext(connection) as transfer:
        services.transfer_licenses(
            actor=source,
            product_code=product_code,
            target_organization_id=target.organization_id,
            count=1,
        )
    return {"allocation": len(allocation), "transfer": len(transfer)}


def _client(seed: int, product_code: str, membership_ids: list[str], seconds: float, queue) -> None:
    """Run operations until the time is up; put (latencies, counts) on the queue."""
    from django.db import connection

    from common.errors import DomainError
    from licensing import ledger, services
    from organizations.models import Membership

    connection.close()  # never share the parent's connection after fork
    chance = random.Random(seed)
    members = list(
        Membership.objects.select_related("organization", "user").filter(pk__in=membership_ids)
    )
    latencies: list[float] = []
    counts: dict[str, int] = {}
    cpu_started = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        member = chance.choice(members)
        started = time.perf_counter()
        try:
            if chance.random() < 0.5:
                services.allocate_licenses(
                    actor=member, product_code=product_code, year=chance.randint(1, 6), count=1
                )
                outcome = "allocate"
            else:
                target = chance.choice([m for m in members if m.pk != member.pk])
                services.transfer_licenses(
                    actor=member,
                    product_code=product_code,
                    target_organization_id=target.organization_id,
                    count=chance.randint(1, 3),
                )
                outcome = "transfer"
        except DomainError as refusal:
            outcome = f"refused:{refusal.code}"
        latencies.append(time.perf_counter() - started)
        counts[outcome] = counts.get(outcome, 0) + 1
    counts["retries"] = ledger.retry_on_deadlock.retries
    counts["cpu_microseconds"] = int((time.process_time() - cpu_started) * 1_000_000)
    connection.close()
    queue.put((latencies, counts))


def _run(options) -> dict:
    from django.db import connection

    from licensing import ledger

    product_code, membership_ids = _setup(options.organizations)
    round_trips = _round_trips(product_code, membership_ids)
    connection.close()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    clients = [
        context.Process(
            target=_client,
            args=(seed, product_code, membership_ids, options.seconds, queue),
        )
        for seed in range(options.clients)
    ]
    started = time.perf_counter()
    for client in clients:
        client.start()
    outcomes = [queue.get(timeout=options.seconds + 120) for _ in clients]
    for client in clients:
        client.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(sample for samples, _ in outcomes for sample in samples)
    counts: dict[str, int] = {}
    for _, client_counts in outcomes:
        for name, value in client_counts.items():  # sums; cpu_microseconds too
            counts[name] = counts.get(name, 0) + value
    operations = len(latencies)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    verify_started = time.perf_counter()
    difference = ledger.verify()
    return {
        "clients": options.clients,
        "organizations": options.organizations,
        "seconds": round(elapsed, 1),
        "operations": operations,
        "operations_per_second": round(operations / elapsed, 1),
        "goal_operations_per_second": GOAL_OPERATIONS_PER_SECOND,
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "succeeded": {name: counts.get(name, 0) for name in ("allocate", "transfer")},
        "refused": {
            name.removeprefix("refused:"): value
            for name, value in sorted(counts.items())
            if name.startswith("refused:")
        },
        # Client-side CPU per operation (Django, the services); PostgreSQL's own is extra.
        "round_trips": round_trips,
        "client_cpu_ms_per_operation": round(
            counts.get("cpu_microseconds", 0) / 1000 / max(operations, 1), 2
        ),
        "load_average_after": round(os.getloadavg()[0], 1),
        "deadlocks_retried": counts.get("retries", 0),
        "deadlocks_refused": counts.get("refused:ledger_busy", 0),
        "invariant_violations": 0 if difference is None else 1,
        "first_difference": difference,
        "verify_ledger_seconds": round(time.perf_counter() - verify_started, 2),
    }


def run(options) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return _run(options)
    finally:
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)


def main() -> None:
    """Parse options, run the benchmark, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--organizations", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    results = run(options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
