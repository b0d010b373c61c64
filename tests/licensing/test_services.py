"""Licensing services through their front door: refusals, movements, audit, the ledger."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid, NotFound
from licensing import keys, ledger, services
from licensing.errors import Throttled
from licensing.models import LedgerAccount, LedgerEntry, LedgerTransaction, LicenseKey
from organizations.models import AuditEvent
from organizations.roles import Role
from tests.licensing.factories import ProductFactory, fill_wallet, issue_key
from tests.organizations.factories import MembershipFactory


@pytest.fixture
def product(db):
    return ProductFactory()


def balance(organization, product, kind, **extra):
    account = LedgerAccount.objects.filter(
        organization=organization, product=product, kind=kind, **extra
    ).first()
    return account.balance if account else 0


def wallet_of(organization, product):
    return balance(organization, product, "wallet", license_kind="subscription")


# --- Issuing keys ---------------------------------------------------------------------------


def test_issued_keys_are_stored_only_as_hashes(product):
    texts = services.issue_license_keys(
        issued_by="support", product=product, kind="subscription", quantity=5, count=3
    )
    assert len(set(texts)) == 3
    stored = LicenseKey.objects.filter(product=product)
    assert stored.count() == 3
    for text in texts:
        normalized = keys.normalize(text)
        row = stored.get(key_hash=keys.key_hash(normalized))
        assert normalized not in {row.key_hash, row.hint, str(row)}
        assert row.hint == normalized[-4:]


def test_issue_license_keys_command_prints_each_key_once(product, capsys):
    call_command(
        "issue_license_keys",
        product=product.code,
        kind="subscription",
        quantity=25,
        count=2,
    )
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2
    assert all(keys.normalize(text) for text in printed)
    assert LicenseKey.objects.filter(product=product, quantity=25).count() == 2


def test_issuing_a_kind_the_product_does_not_take_is_refused(db):
    product = ProductFactory(takes_upgrade=False)
    with pytest.raises(Invalid) as refusal:
        services.issue_license_keys(
            issued_by="support", product=product, kind="upgrade", quantity=1, count=1
        )
    assert refusal.value.code == "invalid_license_kind"
    assert not LicenseKey.objects.exists()


# --- Starting a product -----------------------------------------------------------------------


def test_starting_a_subscription_opens_year_one_today_and_is_idempotent(admin, product):
    first = services.start_product(actor=admin, product_code=product.code, kind="subscription")
    again = services.start_product(actor=admin, product_code=product.code, kind="subscription")
    assert first.pk == again.pk
    assert again.subscription_started_on == timezone.now().date()
    events = AuditEvent.objects.filter(
        organization=admin.organization, action="license.start_subscription"
    )
    assert events.count() == 1


def test_unknown_product_is_not_found(admin):
    with pytest.raises(NotFound):
        services.start_product(actor=admin, product_code="no-such-product", kind="trial")


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_start_a_product(tenant, product, role):
    with pytest.raises(Forbidden):
        services.start_product(actor=getattr(tenant, role), product_code=product.code, kind="trial")


# --- Redeeming ------------------------------------------------------------------------------


def test_redeeming_puts_every_license_of_the_key_in_the_wallet(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    text = issue_key(product, quantity=12)
    movement = services.redeem_license_key(actor=admin, key=text.lower().replace("-", " "))
    assert movement.kind == "redeem"
    assert wallet_of(admin.organization, product) == 12
    key = LicenseKey.objects.get(pk=movement.license_key_id)
    assert key.redeemed_by_organization == admin.organization
    event = AuditEvent.objects.get(organization=admin.organization, action="license.redeem")
    assert text not in str(event.data)
    assert keys.normalize(text) not in str(event.data)
    assert ledger.verify() is None


def test_a_key_with_a_typo_is_refused_before_any_lookup(
    admin, product, django_assert_max_num_queries
):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    text = keys.normalize(issue_key(product))
    typo = text[:5] + ("A" if text[5] != "A" else "B") + text[6:]
    with django_assert_max_num_queries(0), pytest.raises(Invalid) as refusal:
        services.redeem_license_key(actor=admin, key=typo)
    assert refusal.value.code == "key_invalid"
    assert "typo" in str(refusal.value.message)


@pytest.mark.parametrize("text", ["", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ0U"])
def test_malformed_keys_say_what_a_key_looks_like(admin, product, text):
    with pytest.raises(Invalid) as refusal:
        services.redeem_license_key(actor=admin, key=text)
    assert refusal.value.code == "key_invalid"
    assert "key" in refusal.value.fields


def test_an_unknown_key_is_refused(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    with pytest.raises(Invalid) as refusal:
        services.redeem_license_key(actor=admin, key=keys.generate())
    assert refusal.value.code == "key_unknown"


def test_a_key_is_redeemed_once_ever(admin, other_tenant, product):
    text = issue_key(product, quantity=3)
    fill_wallet(admin, product, 1)
    services.redeem_license_key(actor=admin, key=text)
    with pytest.raises(Conflict) as again:
        services.redeem_license_key(actor=admin, key=text)
    assert again.value.code == "key_used"
    assert "already redeemed" in str(again.value.message)
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    with pytest.raises(Conflict) as elsewhere:
        services.redeem_license_key(actor=other_tenant.admin, key=text)
    assert elsewhere.value.code == "key_used"
    assert admin.organization.name not in str(elsewhere.value.message)
    assert wallet_of(admin.organization, product) == 4
    assert wallet_of(other_tenant.organization, product) == 0


def test_the_database_refuses_a_second_redemption_of_a_key(admin, product):
    fill_wallet(admin, product, 2)
    redemption = LedgerTransaction.objects.get(kind="redeem")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(
            kind="redeem",
            organization=admin.organization,
            product=product,
            license_key=redemption.license_key,
            actor_label="forger",
        )


def test_a_key_of_another_product_is_refused_on_a_product_page(admin, product):
    other = ProductFactory()
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    text = issue_key(other)
    with pytest.raises(Invalid) as refusal:
        services.redeem_license_key(actor=admin, key=text, product_code=product.code)
    assert refusal.value.code == "key_other_product"
    assert other.name in str(refusal.value.message)
    assert not LicenseKey.objects.get(product=other).redeemed_at


def test_redeeming_before_the_product_started_is_refused(admin, product):
    with pytest.raises(Conflict) as refusal:
        services.redeem_license_key(actor=admin, key=issue_key(product))
    assert refusal.value.code == "product_not_started"
    assert not LedgerTransaction.objects.exists()


def test_repeated_wrong_keys_are_throttled_even_for_a_right_one(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    for _ in range(services.REDEEM_FAILURE_LIMIT):
        with pytest.raises(Invalid):
            services.redeem_license_key(actor=admin, key=keys.generate())
    good = issue_key(product)
    with pytest.raises(Throttled) as refusal:
        services.redeem_license_key(actor=admin, key=good)
    assert refusal.value.http_status == 429
    assert refusal.value.code == "key_throttled"
    # Another admin of the same organization is held back too: guessing is per organization.
    colleague = MembershipFactory(organization=admin.organization, role=Role.ADMIN)
    with pytest.raises(Throttled):
        services.redeem_license_key(actor=colleague, key=good)
    with time_machine.travel(
        timezone.now() + timedelta(seconds=services.REDEEM_FAILURE_WINDOW_SECONDS + 1)
    ):
        services.redeem_license_key(actor=admin, key=good)
    assert wallet_of(admin.organization, product) == 10


@pytest.fixture(autouse=True)
def _fresh_throttle():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_redeem(tenant, product, role):
    services.start_product(actor=tenant.admin, product_code=product.code, kind="trial")
    with pytest.raises(Forbidden):
        services.redeem_license_key(actor=getattr(tenant, role), key=issue_key(product))
    assert not LedgerTransaction.objects.exists()


# --- Allocating -----------------------------------------------------------------------------


def test_allocating_moves_licenses_from_the_wallet_to_the_year(admin, product):
    fill_wallet(admin, product, 10)
    allocation = services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=7)
    assert wallet_of(admin.organization, product) == 3
    assert balance(admin.organization, product, "subscription_year", year=1) == 7
    assert allocation.compensation.licenses == 0
    entries = LedgerEntry.objects.filter(transaction=allocation.movement)
    assert sorted(entries.values_list("amount", flat=True)) == [-7, 7]
    assert ledger.verify() is None


def test_allocating_more_than_the_wallet_holds_changes_nothing(admin, product):
    fill_wallet(admin, product, 4)
    with pytest.raises(Conflict) as refusal:
        services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=5)
    assert refusal.value.code == "insufficient_licenses"
    assert "4 available" in str(refusal.value.message)
    assert wallet_of(admin.organization, product) == 4
    assert not LedgerTransaction.objects.filter(kind="allocate").exists()


def test_allocating_before_the_subscription_started_is_refused(admin, product):
    fill_wallet(admin, product, 4, start="trial")
    with pytest.raises(Conflict) as refusal:
        services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=1)
    assert refusal.value.code == "subscription_not_started"


@pytest.mark.parametrize("count", [0, -1, "two", True, 1.5, None])
def test_allocating_a_count_that_is_not_a_positive_whole_number_is_refused(admin, product, count):
    fill_wallet(admin, product, 4)
    with pytest.raises(Invalid) as refusal:
        services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=count)
    assert refusal.value.code == "invalid_count"
    assert wallet_of(admin.organization, product) == 4


def test_an_allocation_repeated_with_its_idempotency_key_moves_once(admin, product):
    fill_wallet(admin, product, 10)
    key = uuid.uuid4()
    first = services.allocate_licenses(
        actor=admin, product_code=product.code, year=1, count=3, idempotency_key=key
    )
    again = services.allocate_licenses(
        actor=admin, product_code=product.code, year=1, count=3, idempotency_key=key
    )
    assert first.movement.pk == again.movement.pk
    assert wallet_of(admin.organization, product) == 7


def test_a_late_allocation_credits_the_days_already_passed(admin, product):
    started = timezone.now()
    fill_wallet(admin, product, 10)
    with time_machine.travel(started + timedelta(days=73), tick=False):
        allocation = services.allocate_licenses(
            actor=admin, product_code=product.code, year=1, count=10
        )
    # 10 licenses x 73 days = 730 license-days = 2 whole licenses, nothing carried.
    assert allocation.compensation.licenses == 2
    assert wallet_of(admin.organization, product) == 2
    assert LedgerTransaction.objects.filter(kind="compensate").count() == 1
    assert ledger.verify() is None


def test_compensation_below_a_whole_license_is_carried_to_the_next_allocation(admin, product):
    started = timezone.now()
    fill_wallet(admin, product, 10)
    with time_machine.travel(started + timedelta(days=100), tick=False):
        first = services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=3)
        second = services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=1)
    assert (first.compensation.licenses, first.compensation.carried_license_days) == (0, 300)
    assert (second.compensation.licenses, second.compensation.carried_license_days) == (1, 35)
    assert wallet_of(admin.organization, product) == 7


def test_years_may_be_paid_five_ahead_and_no_further(admin, product):
    fill_wallet(admin, product, 10)
    services.allocate_licenses(actor=admin, product_code=product.code, year=6, count=1)
    with pytest.raises(Invalid) as refusal:
        services.allocate_licenses(actor=admin, product_code=product.code, year=7, count=1)
    assert refusal.value.code == "year_out_of_range"
    assert wallet_of(admin.organization, product) == 9


def test_a_past_year_is_closed(admin, product):
    started = timezone.now()
    fill_wallet(admin, product, 10)
    with (
        time_machine.travel(started + timedelta(days=400), tick=False),
        pytest.raises(Invalid) as refusal,
    ):
        services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=1)
    assert refusal.value.code == "year_out_of_range"


# --- Transfers --------------------------------------------------------------------------------


@pytest.fixture
def two_organizations(tenant, other_tenant):
    """The tenant's admin is also admin of the other organization."""
    MembershipFactory(
        organization=other_tenant.organization, user=tenant.admin.user, role=Role.ADMIN
    )
    return tenant.admin, other_tenant.organization


def test_a_transfer_lands_in_a_target_that_started_the_product(two_organizations, product):
    admin, target = two_organizations
    fill_wallet(admin, product, 10)
    target_member = target.memberships.get(user=admin.user)
    services.start_product(actor=target_member, product_code=product.code, kind="trial")
    transfer = services.transfer_licenses(
        actor=admin, product_code=product.code, target_organization_id=target.pk, count=4
    )
    assert not transfer.is_pending
    assert wallet_of(admin.organization, product) == 6
    assert wallet_of(target, product) == 4
    assert AuditEvent.objects.filter(organization=target, action="license.transfer_in").exists()
    assert AuditEvent.objects.filter(
        organization=admin.organization, action="license.transfer_out"
    ).exists()


def test_a_transfer_waits_until_the_target_starts_the_product(two_organizations, product):
    admin, target = two_organizations
    fill_wallet(admin, product, 10)
    transfer = services.transfer_licenses(
        actor=admin, product_code=product.code, target_organization_id=target.pk, count=4
    )
    assert transfer.is_pending
    assert wallet_of(target, product) == 0
    assert balance(target, product, "pending_transfer") == 4
    target_member = target.memberships.get(user=admin.user)
    services.start_product(actor=target_member, product_code=product.code, kind="trial")
    assert balance(target, product, "pending_transfer") == 0
    assert wallet_of(target, product) == 4
    assert LedgerTransaction.objects.filter(kind="transfer_land").count() == 1
    assert ledger.verify() is None


def test_transfer_needs_admin_of_both_organizations(tenant, other_tenant, product):
    fill_wallet(tenant.admin, product, 10)
    # A member of the target, but only an operator there.
    MembershipFactory(
        organization=other_tenant.organization,
        user=tenant.admin.user,
        role=Role.OPERATOR,
        folders=[other_tenant.site_a],
    )
    for target_id in (other_tenant.organization.pk, uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(Forbidden) as refusal:
            services.transfer_licenses(
                actor=tenant.admin,
                product_code=product.code,
                target_organization_id=target_id,
                count=1,
            )
        assert refusal.value.code == "not_admin_of_target"
    assert wallet_of(tenant.organization, product) == 10


def test_transfer_to_the_same_organization_is_refused(admin, product):
    fill_wallet(admin, product, 10)
    with pytest.raises(Invalid) as refusal:
        services.transfer_licenses(
            actor=admin,
            product_code=product.code,
            target_organization_id=admin.organization_id,
            count=1,
        )
    assert refusal.value.code == "same_organization"


def test_allocated_licenses_never_move(two_organizations, product):
    admin, target = two_organizations
    fill_wallet(admin, product, 5)
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=4)
    with pytest.raises(Conflict) as refusal:
        services.transfer_licenses(
            actor=admin, product_code=product.code, target_organization_id=target.pk, count=2
        )
    assert refusal.value.code == "insufficient_licenses"
    assert balance(admin.organization, product, "subscription_year", year=1) == 4


# --- Expiry -------------------------------------------------------------------------------


def test_wallet_licenses_expire_five_years_after_they_entered_oldest_first(admin, product):
    started = timezone.now()
    fill_wallet(admin, product, 6)
    with time_machine.travel(started + timedelta(days=400), tick=False):
        services.redeem_license_key(actor=admin, key=issue_key(product, quantity=4))
        # Allocating uses the oldest licenses first: 2 of the first 6 remain.
        services.allocate_licenses(actor=admin, product_code=product.code, year=2, count=4)
    assert services.expire_wallet_licenses(on=(started + timedelta(days=5 * 365)).date()) == 0
    assert services.expire_wallet_licenses(on=(started + timedelta(days=5 * 366)).date()) == 2
    assert wallet_of(admin.organization, product) == 4
    assert balance(admin.organization, product, "expired") == 2
    # Running it again the same day expires nothing more.
    assert services.expire_wallet_licenses(on=(started + timedelta(days=5 * 366)).date()) == 0
    assert services.expire_wallet_licenses(on=(started + timedelta(days=400 + 5 * 366)).date()) == 4
    assert ledger.verify() is None


# --- The ledger itself --------------------------------------------------------------------------


def test_the_database_refuses_a_negative_balance(admin, product):
    fill_wallet(admin, product, 3)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(kind="wallet").update(balance=-1)


def test_ledger_rows_are_append_only(admin, product):
    fill_wallet(admin, product, 3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(amount=3).update(amount=30)
    for table in ("licensing_ledgerentry", "licensing_ledgertransaction"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    assert LedgerEntry.objects.count() == 2


def test_the_database_refuses_an_unbalanced_transaction_at_commit(admin, product):
    fill_wallet(admin, product, 3)
    wallet = LedgerAccount.objects.get(kind="wallet")
    with transaction.atomic():
        movement = LedgerTransaction.objects.create(
            kind="allocate", organization=admin.organization, product=product, actor_label="x"
        )
        # Accepted until the check runs: entries of one transaction are written one by one.
        LedgerEntry.objects.create(transaction=movement, account=wallet, amount=-1)
        with (
            pytest.raises(IntegrityError, match="does not balance"),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


def test_verify_ledger_names_a_tampered_balance(admin, product):
    fill_wallet(admin, product, 3)
    call_command("verify_ledger")
    wallet = LedgerAccount.objects.get(kind="wallet")
    LedgerAccount.objects.filter(pk=wallet.pk).update(balance=5)
    with pytest.raises(CommandError, match=rf"account {wallet.pk} .* balance 5 .* sum to 3"):
        call_command("verify_ledger")
