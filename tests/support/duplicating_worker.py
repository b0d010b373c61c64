"""A Celery worker that sends every upgrade step message it sends TWICE (same message, same id).

    python -m tests.support.duplicating_worker -A config worker …   (the arguments of `celery`)

For the crash tests: a broker may deliver a message twice (a redelivery after a lost ack, a
restored unacked message), so every step must be safe to receive again, even while the first
copy still runs in another worker. Only upgrade steps are doubled: not the tick (beat sends it
anyway) and not the report e-mails. How many messages were doubled is written to the file named
by DUPLICATES_FILE, so a test can check that duplicates were really sent.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import django

django.setup()

from celery.bin.celery import main as celery_main  # noqa: E402 - after django.setup()

from config.celery import app  # noqa: E402

NOT_DOUBLED = ("upgrades.tick", "upgrades.send_job_report", "upgrades.send_job_report_to")
_lock = threading.Lock()
_doubled = 0
_send_once = app.amqp.send_task_message
_file = Path(os.environ["DUPLICATES_FILE"])


def _send_twice(producer: Any, name: str, message: Any, *args: Any, **kwargs: Any) -> Any:
    global _doubled
    result = _send_once(producer, name, message, *args, **kwargs)
    if name.startswith("upgrades.") and name not in NOT_DOUBLED:
        _send_once(producer, name, message, *args, **kwargs)
        with _lock:
            _doubled += 1
            _file.write_text(str(_doubled))
    return result


app.amqp.send_task_message = _send_twice

if __name__ == "__main__":
    sys.argv[0] = "celery"
    sys.exit(celery_main())
