"""Archiving an organization voids its active subscription licenses; a restore keeps them void."""

from datetime import UTC, datetime, timedelta

import time_machine

from licensing import ledger, selectors, services
from licensing.models import LedgerAccount, LedgerTransaction
from organizations import services as organization_services
from organizations.models import AuditEvent
from tests.licensing.factories import ProductFactory, fill_wallet

DAY_ZERO = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def balances(organization, product) -> dict[str, int]:
    accounts = LedgerAccount.objects.filter(organization=organization, product=product)
    return {
        f"{account.kind}:{account.year}" if account.year else account.kind: account.balance
        for account in accounts
    }


def archive(owner, organization):
    organization_services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )


def test_archiving_voids_the_current_and_later_years_in_one_recorded_movement(owner, organization):
    product = ProductFactory()
    with time_machine.travel(DAY_ZERO, tick=False) as clock:
        fill_wallet(owner, product, 20)
        for year, count in ((1, 3), (2, 4), (3, 5)):
            services.allocate_licenses(
                actor=owner, product_code=product.code, year=year, count=count
            )
        clock.move_to(DAY_ZERO + timedelta(days=400))  # year 2
        archive(owner, organization)

    # Year 1 was used up and stays; years 2 and 3 are void; the wallet is untouched.
    assert balances(organization, product) == {
        "wallet": 8,
        "subscription_year:1": 3,
        "subscription_year:2": 0,
        "subscription_year:3": 0,
        "void": 9,
    }
    [void] = LedgerTransaction.objects.filter(organization=organization, kind="void")
    assert void.data == {
        "count": 9,
        "years": {"2": 4, "3": 5},
        "reason": "organization_archived",
    }
    assert void.actor_user == owner.user
    assert {entry.amount for entry in void.entries.all()} == {-4, -5, 9}
    assert selectors.history(owner, kind="void").get() == void
    event = AuditEvent.objects.get(organization=organization, action="license.void")
    assert event.data["count"] == 9
    assert ledger.verify() is None


def test_restoring_does_not_bring_voided_licenses_back(owner, organization):
    product = ProductFactory()
    fill_wallet(owner, product, 6)
    services.allocate_licenses(actor=owner, product_code=product.code, year=1, count=6)
    archive(owner, organization)
    organization_services.restore_organization(organization_id=organization.pk, reason="ticket")

    assert balances(organization, product) == {"wallet": 0, "subscription_year:1": 0, "void": 6}
    assert selectors.product_status(owner, product, services.today()).allocated == 0
    assert LedgerTransaction.objects.filter(organization=organization, kind="void").count() == 1


def test_archiving_without_allocations_moves_nothing(owner, organization):
    product = ProductFactory()
    fill_wallet(owner, product, 5)
    archive(owner, organization)
    assert not LedgerTransaction.objects.filter(kind="void").exists()
    assert balances(organization, product)["wallet"] == 5
