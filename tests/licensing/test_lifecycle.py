"""The licensing lifecycle of PRODUCT.md §8, from the first subscription day, with frozen time."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache

from common.errors import Invalid
from licensing import growth, ledger, selectors, services
from licensing.models import LedgerAccount, ProductRegistration
from organizations.models import AuditEvent
from organizations.roles import Role
from tests.devices.factories import DeviceFactory
from tests.licensing.factories import ProductFactory, issue_key
from tests.organizations.factories import MembershipFactory

DAY_ZERO = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def wallet(organization, product) -> int:
    account = LedgerAccount.objects.filter(
        organization=organization, product=product, kind="wallet"
    ).first()
    return account.balance if account else 0


@pytest.mark.slow
def test_a_subscription_from_its_first_day_to_a_transfer_that_lands(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    cache.clear()
    admin = tenant.admin
    organization = tenant.organization
    product = ProductFactory(counted_device_models=["P32"])
    for _ in range(3):
        DeviceFactory(folder=tenant.site_a, created_at=DAY_ZERO - timedelta(days=40))
    # A device of another model does not use the product.
    DeviceFactory(folder=tenant.site_b, product_number="M3086-V", created_at=DAY_ZERO)

    def status():
        return selectors.product_status(admin, product, services.today())

    def allocate(year, count):
        return services.allocate_licenses(
            actor=admin, product_code=product.code, year=year, count=count
        )

    with time_machine.travel(DAY_ZERO, tick=False) as clock:
        # Start subscription: year 1 and its 30-day grace period begin today.
        services.start_product(actor=admin, product_code=product.code, kind="subscription")
        now = status()
        assert (now.year, now.need, now.allocated, now.short_by) == (1, 3, 0, 3)
        assert now.grace_period_ends_on == DAY_ZERO.date() + timedelta(days=30)
        assert now.is_in_grace_period
        assert not now.is_fully_licensed

        # Within the grace period: redeem, then allocate to the need, with no compensation.
        clock.shift(timedelta(days=10))
        services.redeem_license_key(actor=admin, key=issue_key(product, quantity=20))
        assert allocate(1, 3).compensation.licenses == 0
        assert status().is_fully_licensed
        assert wallet(organization, product) == 17

        # Devices added mid-year need nothing now (within the allowance): they join next year.
        clock.shift(timedelta(days=90))
        DeviceFactory.create_batch(2, folder=tenant.site_a)
        now = status()
        assert (now.need, now.devices_in_use, now.growth_excess) == (3, 5, 0)
        assert now.is_fully_licensed

        # Renewal: year 2 starts with a new grace period and a need that counts them.
        clock.move_to(DAY_ZERO + timedelta(days=365 + 5))
        now = status()
        assert (now.year, now.need, now.allocated) == (2, 5, 0)
        assert now.grace_period_ends_on == DAY_ZERO.date() + timedelta(days=365 + 30)
        assert now.is_in_grace_period

        # A late allocation keeps the year's dates and credits the days already passed:
        # 5 licenses x 73 days = 365 license-days = 1 license back in the wallet.
        clock.move_to(DAY_ZERO + timedelta(days=365 + 73))
        late = allocate(2, 5)
        assert late.compensation.licenses == 1
        assert wallet(organization, product) == 17 - 5 + 1
        assert status().is_fully_licensed

        # Growth beyond 100 % of the allocation: the extra must be allocated now; the owner
        # and the admins get one e-mail and staff see the flag, until it is allocated.
        DeviceFactory.create_batch(6, folder=tenant.site_a)
        now = status()
        assert (now.allocated, now.devices_in_use, now.growth_excess) == (5, 11, 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert growth.check_organization_growth(organization_id=organization.pk) == 1
            assert growth.check_organization_growth(organization_id=organization.pk) == 0
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            [tenant.owner.user.email, admin.user.email]
        )
        assert "Allocate 1 more license to this year now." in mail.outbox[0].body
        registration = ProductRegistration.objects.get(organization=organization)
        assert (registration.growth_exceeded_year, registration.growth_excess) == (2, 1)
        allocate(2, now.growth_excess)
        assert status().growth_excess == 0
        growth.check_organization_growth(organization_id=organization.pk)
        registration.refresh_from_db()
        assert registration.growth_exceeded_year is None
        assert wallet(organization, product) == 12

        # Pay ahead: years 3 to 7 (five ahead of year 2); the sixth year ahead is refused.
        for year in range(3, 8):
            allocate(year, 1)
        with pytest.raises(Invalid) as refusal:
            allocate(8, 1)
        assert refusal.value.code == "year_out_of_range"
        assert wallet(organization, product) == 7

        # Wallet expiry: what is left of the first key expires 5 years after it was redeemed.
        redeemed_on = (DAY_ZERO + timedelta(days=10)).date()
        assert services.expire_wallet_licenses(on=redeemed_on + timedelta(days=5 * 365)) == 0
        clock.move_to(DAY_ZERO + timedelta(days=10 + 5 * 366))
        assert services.expire_wallet_licenses() == 6
        assert wallet(organization, product) == 1

        # Transfer to an organization that has not started the product: the licenses wait …
        services.redeem_license_key(actor=admin, key=issue_key(product, quantity=4))
        target = other_tenant.organization
        target_admin = MembershipFactory(organization=target, user=admin.user, role=Role.ADMIN)
        transfer = services.transfer_licenses(
            actor=admin, product_code=product.code, target_organization_id=target.pk, count=3
        )
        assert transfer.is_pending
        assert wallet(target, product) == 0
        assert wallet(organization, product) == 2

        # … and land the moment it starts a trial.
        services.start_product(actor=target_admin, product_code=product.code, kind="trial")
        assert wallet(target, product) == 3

    assert ledger.verify() is None
    history = set(
        AuditEvent.objects.filter(organization=organization).values_list("action", flat=True)
    )
    assert {
        "license.start_subscription",
        "license.redeem",
        "license.allocate",
        "license.compensate",
        "license.growth_exceeded",
        "license.expire",
        "license.transfer_out",
    } <= history
    assert AuditEvent.objects.filter(organization=target, action="license.transfer_land").exists()
