"""Celery entry points of the CSV device import (devices/imports.py): thin wrappers that take ids.

Registered through `devices.tasks`, the module the worker discovers. Routed to the `devices`
queue (CELERY_TASK_ROUTES).
"""

from uuid import UUID

from celery import shared_task

# One row's check makes a few VAPIX exchanges (resolve, TLS fingerprint, device info,
# parameters): well under two minutes with the client's limits (devices/vapix).
IMPORT_ROW_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 150,
    "time_limit": 180,
}


@shared_task(name="devices.check_device_import_row", **IMPORT_ROW_TASK_OPTIONS)
def check_device_import_row(row_id: int) -> None:
    """Check one row of a CSV import against its device (idempotent: decided rows are skipped)."""
    from devices import imports  # imported late: devices.services → tasks → this module

    imports.check_import_row(row_id=row_id)


@shared_task(
    name="devices.onboard_device_import",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
)
def onboard_device_import(import_id: str, actor_id: str) -> None:
    """Store the ready rows of an import an admin chose to onboard (no device I/O)."""
    from devices import imports

    imports.onboard_import_rows(import_id=UUID(import_id), actor_id=UUID(actor_id))


@shared_task(name="devices.expire_device_imports", soft_time_limit=120, time_limit=150)
def expire_device_imports() -> int:
    """Expire imports left waiting and destroy their passwords (periodic)."""
    from devices import imports

    return imports.expire_device_imports()
