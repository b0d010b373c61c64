"""The daily licensing run (beat): wallet expiry and growth checks, idempotent, frozen time."""

from datetime import UTC, datetime, timedelta

import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core import mail

from config.celery import app as celery_app
from licensing import ledger, services, tasks
from licensing.models import LedgerAccount, ProductRegistration
from tests.devices.factories import DeviceFactory
from tests.licensing.factories import ProductFactory, fill_wallet

DAY_ZERO = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)


def test_the_daily_run_is_a_daily_beat_entry_of_a_registered_task():
    entry = settings.CELERY_BEAT_SCHEDULE["licensing.run_daily"]
    assert entry["task"] == "licensing.run_daily" == tasks.run_daily.name
    assert isinstance(entry["schedule"], crontab)
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {30})
    assert "licensing.run_daily" in celery_app.tasks


def test_each_day_is_run_once_whatever_the_number_of_runs(
    tenant, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    DeviceFactory.create_batch(3, folder=tenant.site_a, created_at=DAY_ZERO - timedelta(days=9))

    def run_daily() -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.run_daily.delay().get()

    with time_machine.travel(DAY_ZERO, tick=False) as clock:
        fill_wallet(tenant.admin, product, 10)
        services.allocate_licenses(actor=tenant.admin, product_code=product.code, year=1, count=1)
        # In the grace period: nothing to flag, nothing expires.
        assert run_daily() == {"expired": 0, "growth_crossings": 0}

        # Past it, 3 devices for 1 license is 1 beyond the allowance: one crossing, one mail
        # per admin, however often the day's run is repeated.
        clock.move_to(DAY_ZERO + timedelta(days=31))
        assert run_daily() == {"expired": 0, "growth_crossings": 1}
        assert run_daily() == {"expired": 0, "growth_crossings": 0}
        assert len(mail.outbox) == 2
        registration = ProductRegistration.objects.get(organization=tenant.organization)
        assert (registration.growth_exceeded_year, registration.growth_excess) == (1, 1)

        # The year rolls over: year 2 opens with its own grace period, so the crossing of
        # year 1 is over and the flag goes.
        clock.move_to(DAY_ZERO + timedelta(days=366))
        assert run_daily() == {"expired": 0, "growth_crossings": 0}
        registration.refresh_from_db()
        assert registration.growth_exceeded_year is None

        # Five years after the key was redeemed, what is left in the wallet expires, once.
        clock.move_to(DAY_ZERO + timedelta(days=5 * 366))
        assert run_daily() == {"expired": 9, "growth_crossings": 0}
        assert run_daily() == {"expired": 0, "growth_crossings": 0}

    wallet = LedgerAccount.objects.get(
        organization=tenant.organization, product=product, kind="wallet"
    )
    assert wallet.balance == 0
    assert len(mail.outbox) == 2
    assert ledger.verify() is None
