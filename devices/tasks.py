"""Celery entry points of devices: health polling and its offline alerts (devices/health.py).

Other areas of the devices app keep their tasks in their own modules.

Time limits: a poll batch can take `health.poll_batch_seconds()` at worst (every device as slow
as its timeouts allow); its soft limit is that plus a margin and it stops starting polls before
it. The `threads` pool of `make run` does not enforce Celery's time limits, so the batch's own
deadline (and the client's timeouts) are what bound it there.
"""

import logging
from datetime import datetime
from uuid import UUID

from celery import shared_task
from django.conf import settings

from common.mail import MAIL_TASK_OPTIONS
from devices import (
    alerts,
    health,
    import_tasks,  # noqa: F401 - the worker discovers this module only
    services,
)

logger = logging.getLogger(__name__)

POLL_SOFT_TIME_LIMIT = int(health.poll_batch_seconds()) + 60
POLL_TIME_LIMIT = POLL_SOFT_TIME_LIMIT + 30


@shared_task(name="devices.dispatch_polls", acks_late=True, soft_time_limit=60, time_limit=90)
def dispatch_polls() -> int:
    """Queue polls of every device that is due, in batches, and the offline alerts now due.

    Runs every DEVICE_POLL_TICK seconds (beat). Returns how many devices were queued.
    """
    device_ids = health.claim_due_devices()
    for batch in health.batches(device_ids, settings.DEVICE_POLL_BATCH_SIZE):
        poll_devices.delay(batch)
    queue_offline_alerts()
    return len(device_ids)


def queue_offline_alerts() -> int:
    """Claim the outages that have lasted DEVICE_OFFLINE_ALERT_AFTER and queue their e-mails.

    Returns how many outages were claimed; each is claimed once, so each is mailed once.
    """
    claimed = services.claim_offline_alerts(offline_for=health.offline_alert_delay())
    for alert in claimed:
        for user_id in alert.recipient_ids:
            send_offline_alert.delay(str(alert.device_id), alert.offline_since.isoformat(), user_id)
    return len(claimed)


@shared_task(
    name="devices.poll_devices",
    acks_late=True,
    soft_time_limit=POLL_SOFT_TIME_LIMIT,
    time_limit=POLL_TIME_LIMIT,
)
def poll_devices(device_ids: list[str]) -> dict[str, int]:
    """Poll a batch of devices on a bounded thread pool; devices removed meanwhile are skipped.

    Not retried: the next round polls them again anyway.
    """
    polled, skipped = health.poll_many(device_ids, time_budget=POLL_SOFT_TIME_LIMIT - 30)
    if skipped:
        logger.warning(
            "Poll batch ran out of time: %d of %d devices left", skipped, polled + skipped
        )
    return {"polled": polled, "skipped": skipped}


@shared_task(name="devices.send_offline_alert", **MAIL_TASK_OPTIONS)
def send_offline_alert(device_id: str, offline_since: str, user_id: int) -> None:
    """E-mail one owner or admin that a device has been offline too long (once per outage)."""
    alerts.deliver_offline_alert(
        device_id=UUID(device_id),
        offline_since=datetime.fromisoformat(offline_since),
        user_id=user_id,
    )
