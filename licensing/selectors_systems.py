"""Reads of system setup: the hardware catalogue, an organization's systems, upgrade targets."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from licensing import rules
from licensing.models import (
    HardwareModel,
    LedgerAccount,
    LedgerEntry,
    LicensedSystem,
    LicenseKind,
    LicenseUpgrade,
    Product,
    ProductRegistration,
)
from organizations.models import Membership

# Systems hold hardware-linked licenses: pre-loaded ones and extensions allocated to them.
SYSTEM_LICENSE_KIND = LicenseKind.HARDWARE_EXTENSION


def hardware_models() -> QuerySet[HardwareModel]:
    """Return the catalogue of hardware that can be registered, by model number."""
    return (
        HardwareModel.objects.filter(is_active=True, product__is_active=True)
        .select_related("product")
        .order_by("model_number", "pk")
    )


def get_hardware_model(hardware_model_id: object) -> HardwareModel:
    """Return one active catalogue entry, or NotFound."""
    try:
        return hardware_models().get(pk=UUID(str(hardware_model_id)))
    except (ValueError, HardwareModel.DoesNotExist):
        raise NotFound("hardware_model_not_found", _("Hardware model not found.")) from None


def _system_accounts() -> QuerySet[LedgerAccount]:
    return LedgerAccount.objects.filter(
        organization_id=OuterRef("organization_id"),
        product_id=OuterRef("product_id"),
        kind=LedgerAccount.Kind.HARDWARE_SYSTEM,
        license_kind=SYSTEM_LICENSE_KIND,
        system=OuterRef("identifier"),
    )


def systems(membership: Membership, product: Product | None = None) -> QuerySet[LicensedSystem]:
    """Return the organization's systems with `licensed` (licenses held) and `is_upgraded`.

    One query whatever the number of systems (the balances come in as subqueries).
    """
    found = LicensedSystem.objects.for_organization(membership.organization_id)
    if product is not None:
        found = found.filter(product=product)
    return (
        found.select_related("product", "hardware_model")
        .annotate(
            licensed=Coalesce(
                Subquery(_system_accounts().values("balance")[:1]),
                Value(0),
                output_field=IntegerField(),
            ),
            is_upgraded=Exists(
                LicenseUpgrade.objects.filter(
                    target__organization_id=OuterRef("organization_id"),
                    target__product_id=OuterRef("product_id"),
                    target__kind=LedgerAccount.Kind.HARDWARE_SYSTEM,
                    target__license_kind=SYSTEM_LICENSE_KIND,
                    target__system=OuterRef("identifier"),
                )
            ),
        )
        .order_by("product__name", "identifier", "pk")
    )


def get_system(membership: Membership, system_id: object) -> LicensedSystem:
    """Return one of the organization's systems, or NotFound (also another tenant's)."""
    try:
        return systems(membership).get(pk=UUID(str(system_id)))
    except (ValueError, LicensedSystem.DoesNotExist):
        raise NotFound("system_not_found", _("System not found.")) from None


@dataclass(frozen=True)
class SystemLine:
    """One system in a product's list: what it is, its licenses and its devices."""

    system: LicensedSystem
    licensed: int
    device_count: int
    is_upgraded: bool


def product_systems(membership: Membership, product: Product) -> list[SystemLine]:
    """Return the organization's systems of one product for its product list (PRODUCT.md §8).

    Hardware and offline systems alike, with the licenses each holds; an offline system's
    devices are those its last system file listed.
    """
    return [
        SystemLine(
            system=system,
            licensed=system.licensed,
            device_count=len(system.devices),
            is_upgraded=system.is_upgraded,
        )
        for system in systems(membership, product)
    ]


def system_movements(system: LicensedSystem) -> QuerySet[LedgerEntry]:
    """Return the entries of a system's account (activation, allocations), newest first.

    `system` comes from `get_system`, so it is already the caller's.
    """
    return (
        LedgerEntry.objects.filter(
            account__organization_id=system.organization_id,
            account__product_id=system.product_id,
            account__kind=LedgerAccount.Kind.HARDWARE_SYSTEM,
            account__license_kind=SYSTEM_LICENSE_KIND,
            account__system=system.identifier,
        )
        .select_related("transaction")
        .order_by("-transaction__created_at", "-pk")
    )


@dataclass(frozen=True)
class UpgradeTarget:
    """A license an upgrade license can be applied to: a system's, or a subscription year's."""

    product: Product
    count: int
    system: LicensedSystem | None = None
    year: int | None = None


def upgrade_targets(membership: Membership, on: date) -> list[UpgradeTarget]:
    """Return the licenses upgrade licenses may still upgrade, on `on`.

    A system's licenses, and subscription years from the current one on (a past year's
    licenses have served their time); each only until it is upgraded once.
    """
    targets = [
        UpgradeTarget(product=system.product, count=system.licensed, system=system)
        for system in systems(membership).filter(
            product__takes_upgrade=True, licensed__gt=0, is_upgraded=False
        )
    ]
    started_on = dict(
        ProductRegistration.objects.for_organization(membership.organization_id)
        .filter(subscription_started_on__isnull=False)
        .values_list("product_id", "subscription_started_on")
    )
    years = (
        LedgerAccount.objects.for_organization(membership.organization_id)
        .filter(
            kind=LedgerAccount.Kind.SUBSCRIPTION_YEAR,
            balance__gt=0,
            product__takes_upgrade=True,
            product__is_active=True,
            upgrade__isnull=True,
        )
        .select_related("product")
        .order_by("product__name", "year")
    )
    targets += [
        UpgradeTarget(product=account.product, count=account.balance, year=account.year)
        for account in years
        if account.product_id in started_on
        and account.year >= rules.current_year(started_on[account.product_id], on)
    ]
    return targets


def license_upgrades(membership: Membership) -> QuerySet[LicenseUpgrade]:
    """Return the organization's applied upgrades, newest first."""
    return (
        LicenseUpgrade.objects.for_organization(membership.organization_id)
        .select_related("product", "target", "transaction")
        .order_by("-applied_at", "pk")
    )
