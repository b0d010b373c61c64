"""Celery entry points of licensing: the daily run, the growth check and its e-mail."""

from uuid import UUID

from celery import shared_task

from common.mail import MAIL_TASK_OPTIONS
from licensing import growth, services


@shared_task(
    name="licensing.run_daily",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def run_daily() -> dict:
    """Do what the date changes (CELERY_BEAT_SCHEDULE, daily); running it twice is harmless.

    Expires wallet licenses kept five years, then checks every subscription's growth
    allowance for the year it is in now, which also ends the crossings of a year that is over
    (a new year, with its own allocation and grace period, starts within the allowance).
    """
    return {
        "expired": services.expire_wallet_licenses(),
        "growth_crossings": growth.check_all_growth(),
    }


@shared_task(
    name="licensing.check_organization_growth",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=150,
)
def check_organization_growth(organization_id: str) -> int:
    """Check one organization's growth allowances (queued when a device is stored)."""
    return growth.check_organization_growth(organization_id=UUID(organization_id))


@shared_task(name="licensing.send_growth_alerts", **MAIL_TASK_OPTIONS)
def send_growth_alerts(registration_id: str, year: int) -> int:
    """E-mail the owners and admins about one crossing (nothing if it is over already)."""
    return growth.deliver_growth_alerts(registration_id=UUID(registration_id), year=year)
