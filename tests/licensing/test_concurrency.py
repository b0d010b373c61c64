"""Sixteen real threads, each with its own database connection, on the same wallets.

They redeem (several threads race for the same keys), allocate and transfer back and forth
between four organizations. Afterwards: no negative balance, every key redeemed once, one
ledger transaction per success and none for a refusal, `verify_ledger` finds nothing, and
every organization's audit chain still verifies.
Deadlocks must not reach the caller: the lock order prevents them, and a deadlock victim is
retried or refused cleanly with `ledger_busy`.
"""

import random
import threading

import pytest
from django.db import connection
from django.db.models import Sum

from common.errors import DomainError
from licensing import ledger, services
from licensing.models import LedgerAccount, LedgerTransaction, LicenseKey
from organizations import audit
from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.licensing.factories import ProductFactory, issue_key
from tests.organizations.factories import MembershipFactory, OrganizationFactory

THREADS = 16
OPERATIONS_PER_THREAD = 25
ORGANIZATIONS = 4
CLEAN_REFUSALS = {"insufficient_licenses", "key_used", "ledger_busy"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_on_the_same_wallets_keep_every_invariant(monkeypatch):
    monkeypatch.setattr(services, "REDEEM_FAILURE_LIMIT", 10**9)  # racing for keys is no guess
    product = ProductFactory()
    user = UserFactory()
    members = [
        MembershipFactory(organization=OrganizationFactory(), user=user, role=Role.ADMIN)
        for _ in range(ORGANIZATIONS)
    ]
    for member in members:
        services.start_product(actor=member, product_code=product.code, kind="subscription")
        services.redeem_license_key(actor=member, key=issue_key(product, quantity=50))
    contested_keys = [issue_key(product, quantity=7) for _ in range(40)]

    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    successes = {"redeem": 0, "allocate": 0, "transfer": 0}
    redeemed_by_threads: list[str] = []
    refusals: dict[str, int] = {}
    unexpected: list[BaseException] = []

    def work(seed: int) -> None:
        chance = random.Random(seed)
        try:
            barrier.wait(timeout=30)
            for _ in range(OPERATIONS_PER_THREAD):
                member = chance.choice(members)
                operation = chance.choice(["redeem", "allocate", "transfer", "transfer"])
                try:
                    if operation == "redeem":
                        key = chance.choice(contested_keys)
                        services.redeem_license_key(actor=member, key=key)
                        with lock:
                            redeemed_by_threads.append(key)
                    elif operation == "allocate":
                        services.allocate_licenses(
                            actor=member,
                            product_code=product.code,
                            year=chance.randint(1, 3),
                            count=chance.randint(1, 6),
                        )
                    else:
                        target = chance.choice([m for m in members if m is not member])
                        services.transfer_licenses(
                            actor=member,
                            product_code=product.code,
                            target_organization_id=target.organization_id,
                            count=chance.randint(1, 12),
                        )
                except DomainError as refusal:
                    with lock:
                        refusals[refusal.code] = refusals.get(refusal.code, 0) + 1
                    if refusal.code not in CLEAN_REFUSALS:
                        raise
                    continue
                with lock:
                    successes[operation] += 1
        except BaseException as error:  # the test reports it below
            with lock:
                unexpected.append(error)
        finally:
            connection.close()

    transactions_before = LedgerTransaction.objects.count()
    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert unexpected == []
    # Every operation either succeeded or was refused cleanly.
    assert sum(successes.values()) + sum(refusals.values()) == THREADS * OPERATIONS_PER_THREAD
    assert successes["allocate"] > 0
    assert successes["transfer"] > 0
    # No double redemption: each contested key went to exactly one caller, once.
    assert len(redeemed_by_threads) == len(set(redeemed_by_threads))
    redeemed_keys = LicenseKey.objects.filter(redeemed_at__isnull=False).count()
    assert redeemed_keys == ORGANIZATIONS + len(redeemed_by_threads)
    # No lost transaction, and none for a refusal.
    assert LedgerTransaction.objects.count() - transactions_before == sum(successes.values())
    # No negative balance; licenses conserved; balances equal their entries.
    assert not LedgerAccount.objects.exclude(kind="issuer").filter(balance__lt=0).exists()
    held = LedgerAccount.objects.exclude(kind="issuer").aggregate(total=Sum("balance"))["total"]
    assert held == ORGANIZATIONS * 50 + 7 * len(redeemed_by_threads)
    assert ledger.verify() is None
    # Every success was audited in its organization's chain, which still verifies.
    for member in members:
        assert audit.verify_chain(member.organization) is None
