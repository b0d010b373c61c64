"""System setup through its services: hardware, extensions, upgrade licenses, and the ledger.

After each scenario `verify_ledger` must find nothing: every movement here is a balanced ledger
transaction like any other.
"""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid, NotFound
from licensing import selectors_systems, services, services_systems
from licensing.models import LedgerAccount, LedgerTransaction, LicensedSystem, LicenseUpgrade
from organizations.models import AuditEvent
from tests.licensing.factories import HardwareModelFactory, ProductFactory, fill_wallet, issue_key


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station")


@pytest.fixture
def recorder(product):
    return HardwareModelFactory(product=product, model_number="S3008", preloaded_count=8)


@pytest.fixture
def started(admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    return admin


def balance(organization, product, kind, license_kind, **extra) -> int:
    account = LedgerAccount.objects.filter(
        organization=organization,
        product=product,
        kind=kind,
        license_kind=license_kind,
        **extra,
    ).first()
    return account.balance if account else 0


def system_balance(system) -> int:
    return balance(
        system.organization,
        system.product,
        "hardware_system",
        "hardware_extension",
        system=system.identifier,
    )


def assert_ledger_verifies():
    call_command("verify_ledger")  # raises CommandError naming the first difference


def redeem(member, product, kind, quantity):
    services.redeem_license_key(actor=member, key=issue_key(product, quantity=quantity, kind=kind))


# --- Registering hardware ----------------------------------------------------------------------


def test_registering_hardware_activates_its_preloaded_licenses(started, product, recorder):
    system = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial=" accc8e0a1b2c ", name="Gate"
    )
    assert system.identifier == "ACCC8E0A1B2C"
    assert (system.kind, system.preloaded_count, system.name) == ("hardware", 8, "Gate")
    assert system_balance(system) == 8
    activation = LedgerTransaction.objects.get(kind="activate")
    assert activation.data == {
        "count": 8,
        "license_kind": "hardware_extension",
        "system": "ACCC8E0A1B2C",
    }
    issuer = LedgerAccount.objects.get(
        kind="issuer", product=product, license_kind="hardware_extension"
    )
    assert issuer.balance == -8
    assert AuditEvent.objects.filter(
        organization=started.organization, action="license.register_hardware"
    ).exists()
    assert_ledger_verifies()


def test_registering_the_same_hardware_again_activates_nothing_more(started, recorder):
    first = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
    )
    again = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="accc8e0a1b2c"
    )
    assert again.pk == first.pk
    assert system_balance(first) == 8
    assert LedgerTransaction.objects.filter(kind="activate").count() == 1
    assert_ledger_verifies()


def test_hardware_registered_by_another_organization_is_refused_without_naming_it(
    started, other_tenant, product, recorder
):
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    services_systems.register_hardware(
        actor=other_tenant.admin, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
    )
    with pytest.raises(Conflict) as refusal:
        services_systems.register_hardware(
            actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
        )
    assert refusal.value.code == "system_registered"
    assert other_tenant.organization.name not in str(refusal.value.message)
    assert not LicensedSystem.objects.filter(organization=started.organization).exists()
    assert LedgerTransaction.objects.filter(kind="activate").count() == 1
    assert_ledger_verifies()


def test_registering_hardware_needs_the_product_started(admin, recorder):
    with pytest.raises(Conflict) as refusal:
        services_systems.register_hardware(
            actor=admin, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
        )
    assert refusal.value.code == "product_not_started"
    assert not LicensedSystem.objects.exists()


@pytest.mark.parametrize("serial", ["", "  ", "ACCC 8E", "x" * 65, "-ACCC"])
def test_a_malformed_serial_is_refused_on_its_field(started, recorder, serial):
    with pytest.raises(Invalid) as refusal:
        services_systems.register_hardware(
            actor=started, hardware_model_id=recorder.pk, serial=serial
        )
    assert refusal.value.code == "invalid_serial"
    assert "serial" in refusal.value.fields


def test_an_inactive_or_unknown_hardware_model_is_not_found(started, recorder):
    recorder.is_active = False
    recorder.save()
    for hardware_model_id in (recorder.pk, uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(NotFound):
            services_systems.register_hardware(
                actor=started, hardware_model_id=hardware_model_id, serial="ACCC8E0A1B2C"
            )


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_register_hardware(tenant, started, recorder, role):
    with pytest.raises(Forbidden):
        services_systems.register_hardware(
            actor=getattr(tenant, role), hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
        )
    assert not LicensedSystem.objects.exists()


# --- Extensions allocated to one system -----------------------------------------------------------


@pytest.fixture
def system(started, recorder):
    return services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
    )


def test_extension_keys_redeem_into_the_wallet_and_allocate_to_one_system(
    started, product, recorder, system
):
    other = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2D"
    )
    redeem(started, product, "hardware_extension", 10)
    assert balance(started.organization, product, "wallet", "hardware_extension") == 10
    movement = services_systems.allocate_to_system(actor=started, system_id=system.pk, count=6)
    assert movement.kind == "allocate"
    assert movement.data["system"] == system.identifier
    assert system_balance(system) == 8 + 6
    assert system_balance(other) == 8
    assert balance(started.organization, product, "wallet", "hardware_extension") == 4
    assert balance(started.organization, product, "wallet", "subscription") == 0
    assert_ledger_verifies()


def test_allocating_more_than_the_wallet_holds_changes_nothing(started, product, system):
    redeem(started, product, "hardware_extension", 3)
    with pytest.raises(Conflict) as refusal:
        services_systems.allocate_to_system(actor=started, system_id=system.pk, count=4)
    assert refusal.value.code == "insufficient_licenses"
    assert system_balance(system) == 8
    assert balance(started.organization, product, "wallet", "hardware_extension") == 3
    assert_ledger_verifies()


def test_subscription_licenses_do_not_allocate_to_a_system(started, product, system):
    fill_wallet(started, product, 10)  # subscription licenses only
    with pytest.raises(Conflict) as refusal:
        services_systems.allocate_to_system(actor=started, system_id=system.pk, count=1)
    assert refusal.value.code == "insufficient_licenses"
    assert system_balance(system) == 8


def test_allocating_again_with_the_same_idempotency_key_moves_nothing_more(
    started, product, system
):
    redeem(started, product, "hardware_extension", 10)
    key = uuid.uuid4()
    first = services_systems.allocate_to_system(
        actor=started, system_id=system.pk, count=2, idempotency_key=key
    )
    again = services_systems.allocate_to_system(
        actor=started, system_id=system.pk, count=2, idempotency_key=key
    )
    assert again.pk == first.pk
    assert system_balance(system) == 10


def test_another_organizations_system_is_not_found(started, other_tenant, product, recorder):
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    theirs = services_systems.register_hardware(
        actor=other_tenant.admin, hardware_model_id=recorder.pk, serial="FFFF00000001"
    )
    redeem(started, product, "hardware_extension", 5)
    with pytest.raises(NotFound):
        services_systems.allocate_to_system(actor=started, system_id=theirs.pk, count=1)
    assert system_balance(theirs) == 8


@pytest.mark.parametrize("count", [0, -1, "two", None, True, 1_000_001])
def test_a_count_that_is_not_a_whole_positive_number_is_refused(started, system, count):
    with pytest.raises(Invalid) as refusal:
        services_systems.allocate_to_system(actor=started, system_id=system.pk, count=count)
    assert refusal.value.code == "invalid_count"


# --- Upgrade licenses ---------------------------------------------------------------------------


def test_an_upgrade_applied_to_a_system_consumes_one_upgrade_license_per_license(
    started, product, system
):
    redeem(started, product, "upgrade", 10)
    upgrade = services_systems.apply_upgrade_license(
        actor=started, product_code=product.code, system_id=system.pk
    )
    assert upgrade.count == 8
    assert upgrade.transaction.kind == "upgrade"
    assert upgrade.target.system == system.identifier
    assert balance(started.organization, product, "wallet", "upgrade") == 2
    assert balance(started.organization, product, "consumed", "upgrade") == 8
    assert system_balance(system) == 8  # the upgraded licenses stay where they are
    assert AuditEvent.objects.filter(action="license.apply_upgrade").count() == 1
    assert_ledger_verifies()


def test_an_upgrade_applies_once(started, product, system):
    redeem(started, product, "upgrade", 20)
    services_systems.apply_upgrade_license(
        actor=started, product_code=product.code, system_id=system.pk
    )
    with pytest.raises(Conflict) as refusal:
        services_systems.apply_upgrade_license(
            actor=started, product_code=product.code, system_id=system.pk
        )
    assert refusal.value.code == "already_upgraded"
    assert balance(started.organization, product, "wallet", "upgrade") == 12
    assert LicenseUpgrade.objects.count() == 1
    assert_ledger_verifies()


def test_an_upgrade_applies_to_a_subscription_year(started, product):
    fill_wallet(started, product, 5)
    services.allocate_licenses(actor=started, product_code=product.code, year=1, count=5)
    redeem(started, product, "upgrade", 5)
    upgrade = services_systems.apply_upgrade_license(
        actor=started, product_code=product.code, year=1
    )
    assert (upgrade.target.kind, upgrade.target.year, upgrade.count) == ("subscription_year", 1, 5)
    assert balance(started.organization, product, "wallet", "upgrade") == 0
    assert_ledger_verifies()


def test_an_upgrade_short_of_upgrade_licenses_changes_nothing(started, product, system):
    redeem(started, product, "upgrade", 7)
    with pytest.raises(Conflict) as refusal:
        services_systems.apply_upgrade_license(
            actor=started, product_code=product.code, system_id=system.pk
        )
    assert refusal.value.code == "insufficient_licenses"
    assert not LicenseUpgrade.objects.exists()
    assert balance(started.organization, product, "wallet", "upgrade") == 7
    assert_ledger_verifies()


def test_an_empty_license_has_nothing_to_upgrade(started, product):
    redeem(started, product, "upgrade", 7)
    with pytest.raises(Conflict) as refusal:
        services_systems.apply_upgrade_license(actor=started, product_code=product.code, year=2)
    assert refusal.value.code == "nothing_to_upgrade"
    assert not LedgerAccount.objects.filter(kind="subscription_year").exists()


@pytest.mark.parametrize(
    "target", [{}, {"system_id": uuid.uuid4(), "year": 1}, {"system_id": "", "year": ""}]
)
def test_an_upgrade_names_exactly_one_license(started, product, target):
    with pytest.raises(Invalid) as refusal:
        services_systems.apply_upgrade_license(actor=started, product_code=product.code, **target)
    assert refusal.value.code == "upgrade_target_required"


def test_a_product_without_upgrade_licenses_refuses_upgrades(started, recorder):
    product = ProductFactory(takes_upgrade=False)
    with pytest.raises(Invalid) as refusal:
        services_systems.apply_upgrade_license(actor=started, product_code=product.code, year=1)
    assert refusal.value.code == "invalid_license_kind"


# --- Concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_upgrades_of_one_license_consume_once(race):
    from tests.support.cast import build_tenant

    tenant = build_tenant("Race Ltd")
    product = ProductFactory()
    recorder = HardwareModelFactory(product=product, preloaded_count=3)
    services.start_product(actor=tenant.admin, product_code=product.code, kind="subscription")
    system = services_systems.register_hardware(
        actor=tenant.admin, hardware_model_id=recorder.pk, serial="RACE0001"
    )
    redeem(tenant.admin, product, "upgrade", 10)

    def apply(member):
        return lambda: services_systems.apply_upgrade_license(
            actor=member, product_code=product.code, system_id=system.pk
        )

    outcomes = race(apply(tenant.admin), apply(tenant.owner))
    applied = [outcome for outcome in outcomes if isinstance(outcome, LicenseUpgrade)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(applied) == 1, outcomes
    assert [refusal.code for refusal in refused] == ["already_upgraded"]
    assert balance(tenant.organization, product, "wallet", "upgrade") == 7
    assert_ledger_verifies()


@pytest.mark.django_db(transaction=True)
def test_the_same_hardware_registered_concurrently_in_two_organizations_activates_once(race):
    from tests.support.cast import build_tenant

    first, second = build_tenant("First Ltd"), build_tenant("Second Ltd")
    product = ProductFactory()
    recorder = HardwareModelFactory(product=product, preloaded_count=5)
    for tenant in (first, second):
        services.start_product(actor=tenant.admin, product_code=product.code, kind="trial")

    def register(member):
        return lambda: services_systems.register_hardware(
            actor=member, hardware_model_id=recorder.pk, serial="TWIN0001"
        )

    outcomes = race(register(first.admin), register(second.admin))
    registered = [outcome for outcome in outcomes if isinstance(outcome, LicensedSystem)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(registered) == 1, outcomes
    assert [refusal.code for refusal in refused] == ["system_registered"]
    assert LedgerTransaction.objects.filter(kind="activate").count() == 1
    assert_ledger_verifies()


def test_an_upgrade_of_a_year_that_has_ended_is_refused(started, product):
    fill_wallet(started, product, 4)
    services.allocate_licenses(actor=started, product_code=product.code, year=1, count=4)
    redeem(started, product, "upgrade", 4)
    later = timezone.now() + timedelta(days=400)
    with time_machine.travel(later), pytest.raises(Invalid) as refusal:
        services_systems.apply_upgrade_license(actor=started, product_code=product.code, year=1)
    assert refusal.value.code == "year_out_of_range"
    assert not LicenseUpgrade.objects.exists()


def test_a_products_systems_list_hardware_and_offline_systems_with_their_licenses(
    started, product, recorder, other_tenant
):
    hardware = services_systems.register_hardware(
        actor=started, hardware_model_id=recorder.pk, serial="ACCC8E0A1B2C"
    )
    document = {
        "schema_version": 1,
        "system_id": "OFFLINE-1",
        "product": product.code,
        "generated_at": "2026-12-01T09:30:00Z",
        "devices": [{"serial": "D1", "model": "M"}, {"serial": "D2", "model": "M"}],
    }
    offline, _new = services_systems.upload_system_file(
        actor=started, content=json.dumps(document).encode()
    )
    services.start_product(actor=other_tenant.admin, product_code=product.code, kind="trial")
    services_systems.register_hardware(
        actor=other_tenant.admin, hardware_model_id=recorder.pk, serial="THEIRS1"
    )
    lines = selectors_systems.product_systems(started, product)
    assert [(line.system.pk, line.licensed, line.device_count) for line in lines] == [
        (hardware.pk, 8, 0),
        (offline.pk, 0, 2),
    ]
    assert selectors_systems.product_systems(started, ProductFactory()) == []
