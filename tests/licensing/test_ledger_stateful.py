"""Random sequences of licensing operations keep the ledger's invariants (hypothesis).

The operations: start, redeem (and redeem again), allocate, transfer, and system setup's
register hardware, allocate extensions to a system and apply upgrade licenses.

After every step: no balance is negative, every balance equals the sum of its entries, every
transaction balances, licenses are conserved (everything outside the issuer equals what the
issuer gave out), and each account holds what a plain model of the rules says it should.
`LEDGER_EXAMPLES=200 pytest tests/licensing/test_ledger_stateful.py` explores further.
"""

import os

import pytest
from django.core.cache import cache
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from common.errors import DomainError
from licensing import ledger, services, services_systems
from licensing.models import LedgerAccount, LedgerEntry
from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.licensing.factories import HardwareModelFactory, ProductFactory, issue_key
from tests.organizations.factories import MembershipFactory, OrganizationFactory

ORGANIZATIONS = 3
organization_index = st.integers(0, ORGANIZATIONS - 1)
amounts = st.integers(1, 40)


def refusal_of(call, **arguments) -> DomainError | None:
    """Run a service; return its refusal, or None when it did the work."""
    try:
        call(**arguments)
    except DomainError as refusal:
        return refusal
    return None


class LedgerMachine(RuleBasedStateMachine):
    """One product, three organizations with one admin in common; the last starts late."""

    def __init__(self):
        super().__init__()
        self.product = ProductFactory()
        user = UserFactory()
        self.members = [
            MembershipFactory(organization=OrganizationFactory(), user=user, role=Role.ADMIN)
            for _ in range(ORGANIZATIONS)
        ]
        self.started = [False] * ORGANIZATIONS
        self.wallet = [0] * ORGANIZATIONS
        self.pending = [0] * ORGANIZATIONS
        self.allocated: dict[tuple[int, int], int] = {}
        self.redeemed_keys: list[str] = []
        self.issued = 0
        # System setup: one hardware model; systems by serial, with owner and licenses held.
        self.hardware_model = HardwareModelFactory(product=self.product, preloaded_count=3)
        self.extension_wallet = [0] * ORGANIZATIONS
        self.upgrade_wallet = [0] * ORGANIZATIONS
        self.consumed = [0] * ORGANIZATIONS
        self.systems: dict[str, tuple[int, object]] = {}
        self.system_licenses: dict[str, int] = {}
        self.upgraded: set[str] = set()
        for index in range(ORGANIZATIONS - 1):
            self._start(index)

    def _start(self, index):
        services.start_product(
            actor=self.members[index], product_code=self.product.code, kind="subscription"
        )
        self.started[index] = True
        self.wallet[index] += self.pending[index]
        self.pending[index] = 0

    @rule(index=organization_index)
    def start(self, index):
        self._start(index)

    @rule(index=organization_index, quantity=amounts)
    def redeem(self, index, quantity):
        text = issue_key(self.product, quantity=quantity)
        refusal = refusal_of(services.redeem_license_key, actor=self.members[index], key=text)
        if refusal is not None:
            assert not self.started[index]
            assert refusal.code == "product_not_started"
            return
        self.wallet[index] += quantity
        self.issued += quantity
        self.redeemed_keys.append(text)

    @precondition(lambda self: self.redeemed_keys)
    @rule(index=organization_index, data=st.data())
    def redeem_again(self, index, data):
        text = data.draw(st.sampled_from(self.redeemed_keys))
        cache.clear()  # the guessing throttle is tested on its own; here every try gets through
        with pytest.raises(DomainError) as refusal:
            services.redeem_license_key(actor=self.members[index], key=text)
        assert refusal.value.code in {"key_used", "product_not_started"}

    @rule(index=organization_index, year=st.integers(1, 7), count=amounts)
    def allocate(self, index, year, count):
        refusal = refusal_of(
            services.allocate_licenses,
            actor=self.members[index],
            product_code=self.product.code,
            year=year,
            count=count,
        )
        if refusal is not None:
            expected = (
                "subscription_not_started"
                if not self.started[index]
                else "year_out_of_range"
                if year > 6
                else "insufficient_licenses"
            )
            assert refusal.code == expected
            if expected == "insufficient_licenses":
                assert self.wallet[index] < count
            return
        assert self.started[index]
        assert year <= 6
        self.wallet[index] -= count
        self.allocated[index, year] = self.allocated.get((index, year), 0) + count

    @rule(source=organization_index, destination=organization_index, count=amounts)
    def transfer(self, source, destination, count):
        target = destination
        results = []
        refusal = refusal_of(
            lambda: results.append(
                services.transfer_licenses(
                    actor=self.members[source],
                    product_code=self.product.code,
                    target_organization_id=self.members[target].organization_id,
                    count=count,
                )
            )
        )
        if refusal is not None:
            if source == target:
                assert refusal.code == "same_organization"
            else:
                assert refusal.code == "insufficient_licenses"
                assert self.wallet[source] < count
            return
        assert source != target
        assert results[0].is_pending == (not self.started[target])
        self.wallet[source] -= count
        if self.started[target]:
            self.wallet[target] += count
        else:
            self.pending[target] += count

    @rule(index=organization_index, serial=st.sampled_from(["HW1", "HW2", "HW3"]))
    def register_hardware(self, index, serial):
        results = []
        refusal = refusal_of(
            lambda: results.append(
                services_systems.register_hardware(
                    actor=self.members[index],
                    hardware_model_id=self.hardware_model.pk,
                    serial=serial,
                )
            )
        )
        if refusal is not None:
            expected = "product_not_started" if not self.started[index] else "system_registered"
            assert refusal.code == expected
            assert expected == "product_not_started" or self.systems[serial][0] != index
            return
        if serial not in self.systems:  # else registering again changed nothing
            self.systems[serial] = (index, results[0].pk)
            self.system_licenses[serial] = 3
            self.issued += 3
        assert self.systems[serial] == (index, results[0].pk)

    @rule(index=organization_index, kind=st.sampled_from(["hardware_extension", "upgrade"]))
    def redeem_other_kind(self, index, kind):
        text = issue_key(self.product, quantity=5, kind=kind)
        refusal = refusal_of(services.redeem_license_key, actor=self.members[index], key=text)
        if refusal is not None:
            assert refusal.code == "product_not_started"
            return
        wallet = self.extension_wallet if kind == "hardware_extension" else self.upgrade_wallet
        wallet[index] += 5
        self.issued += 5

    @precondition(lambda self: self.systems)
    @rule(data=st.data(), count=st.integers(1, 8))
    def allocate_to_system(self, data, count):
        serial = data.draw(st.sampled_from(sorted(self.systems)))
        index, system_id = self.systems[serial]
        refusal = refusal_of(
            services_systems.allocate_to_system,
            actor=self.members[index],
            system_id=system_id,
            count=count,
        )
        if refusal is not None:
            assert refusal.code == "insufficient_licenses"
            assert self.extension_wallet[index] < count
            return
        self.extension_wallet[index] -= count
        self.system_licenses[serial] += count

    @precondition(lambda self: self.systems)
    @rule(data=st.data())
    def apply_upgrade(self, data):
        serial = data.draw(st.sampled_from(sorted(self.systems)))
        index, system_id = self.systems[serial]
        refusal = refusal_of(
            services_systems.apply_upgrade_license,
            actor=self.members[index],
            product_code=self.product.code,
            system_id=system_id,
        )
        if refusal is not None:
            if serial in self.upgraded:
                assert refusal.code == "already_upgraded"
            else:
                assert refusal.code == "insufficient_licenses"
                assert self.upgrade_wallet[index] < self.system_licenses[serial]
            return
        assert serial not in self.upgraded
        self.upgraded.add(serial)
        self.upgrade_wallet[index] -= self.system_licenses[serial]
        self.consumed[index] += self.system_licenses[serial]

    @invariant()
    def systems_hold_what_the_rules_say(self):
        for index, member in enumerate(self.members):
            held = {
                (kind, license_kind, system): balance
                for kind, license_kind, system, balance in LedgerAccount.objects.filter(
                    organization_id=member.organization_id, product=self.product
                ).values_list("kind", "license_kind", "system", "balance")
            }
            assert held.get(("wallet", "hardware_extension", ""), 0) == self.extension_wallet[index]
            assert held.get(("wallet", "upgrade", ""), 0) == self.upgrade_wallet[index]
            assert held.get(("consumed", "upgrade", ""), 0) == self.consumed[index]
            for serial, (owner, _system_id) in self.systems.items():
                if owner == index:
                    key = ("hardware_system", "hardware_extension", serial)
                    assert held[key] == self.system_licenses[serial]

    @invariant()
    def the_ledger_verifies(self):
        assert ledger.verify() is None

    @invariant()
    def accounts_hold_what_the_rules_say(self):
        for index, member in enumerate(self.members):
            held = {
                (kind, year): balance
                for kind, year, balance in LedgerAccount.objects.filter(
                    organization_id=member.organization_id,
                    product=self.product,
                    license_kind="subscription",
                ).values_list("kind", "year", "balance")
            }
            assert held.get(("wallet", 0), 0) == self.wallet[index]
            assert held.get(("pending_transfer", 0), 0) == self.pending[index]
            for (owner, year), count in self.allocated.items():
                if owner == index:
                    assert held[("subscription_year", year)] == count
            assert all(balance >= 0 for balance in held.values())

    @invariant()
    def licenses_are_conserved(self):
        accounts = LedgerAccount.objects.filter(product=self.product)
        outside = accounts.exclude(kind="issuer").aggregate(total=Sum("balance"))["total"] or 0
        issued = accounts.filter(kind="issuer").aggregate(total=Sum("balance"))["total"] or 0
        assert outside == -issued == self.issued
        entries = LedgerEntry.objects.filter(account__product=self.product)
        assert (entries.aggregate(total=Sum("amount"))["total"] or 0) == 0


@pytest.mark.slow
def test_random_operations_keep_the_ledger_invariants(db):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=int(os.environ.get("LEDGER_EXAMPLES", "12")),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
