"""A Celery worker that counts its database queries and its tasks, for bench/upgrades.py.

    python -m bench.support.counted_worker -A config worker …   (the arguments of `celery`)

Every database connection the worker opens gets a wrapper that counts statements; Celery's
task_postrun signal counts finished tasks by name. The totals are written as JSON to the file
named by BENCH_COUNTS_FILE every half second and at exit, so the benchmark can read them while
the worker runs and after it stops.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path

import django

django.setup()

from celery.bin.celery import main as celery_main  # noqa: E402 - after django.setup()
from celery.signals import task_postrun  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

COUNTS_FILE = Path(os.environ["BENCH_COUNTS_FILE"])
_lock = threading.Lock()
_counts: Counter[str] = Counter()


def _count_query(execute, sql, params, many, context):
    with _lock:
        _counts["queries"] += 1
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs) -> None:
    # Sent at every (re)connection of the same thread's connection object: wrap it once.
    if _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_query)


def _on_task_done(sender=None, **kwargs) -> None:
    with _lock:
        _counts[f"task:{sender.name if sender else '?'}"] += 1


def _write() -> None:
    with _lock:
        data = dict(_counts)
    temporary = COUNTS_FILE.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(COUNTS_FILE)


def _keep_writing() -> None:
    stop = threading.Event()
    while not stop.wait(0.5):
        _write()


connection_created.connect(_on_connection, weak=False)
task_postrun.connect(_on_task_done, weak=False)
atexit.register(_write)
threading.Thread(target=_keep_writing, name="bench-counts", daemon=True).start()

if __name__ == "__main__":
    sys.argv[0] = "celery"
    sys.exit(celery_main())
