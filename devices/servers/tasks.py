"""Celery entry points of camera-station servers: the periodic watch and the outage e-mail.

Registered through `app.autodiscover_tasks(["devices.servers"])` in config/celery.py; the watch
runs every minute from CELERY_BEAT_SCHEDULE.
"""

from uuid import UUID

from celery import shared_task

from common.mail import MAIL_TASK_OPTIONS
from devices.servers import services


@shared_task(
    name="devices.watch_servers",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=50,
    time_limit=55,
)
def watch_servers() -> dict:
    """Time out upgrades that never reported back, then alert on servers that went silent."""
    timed_out = services.time_out_upgrades()
    alerted = services.alert_outages()
    return {"timed_out": len(timed_out), "alerted": len(alerted)}


@shared_task(name="devices.send_server_outage_email", **MAIL_TASK_OPTIONS)
def send_outage_email(server_id: str, outage_at: str) -> int:
    """E-mail the admins about one outage of one server (nothing if it is over already)."""
    return services.deliver_outage_email(server_id=UUID(server_id), outage_at=outage_at)
