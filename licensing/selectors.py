"""Reads of licensing: products, registrations, balances, the current need."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from devices.models import Device
from licensing import rules
from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseKind,
    Product,
    ProductRegistration,
    Reseller,
)
from organizations import access
from organizations.models import Membership, Organization
from organizations.roles import Action


def active_products() -> QuerySet[Product]:
    """Return the products organizations may register, by name."""
    return Product.objects.filter(is_active=True).order_by("name", "pk")


def get_product(code: str) -> Product:
    """Return an active product by its code, or NotFound."""
    product = active_products().filter(code=str(code)[:40]).first()
    if product is None:
        raise NotFound("product_not_found", _("Product not found."))
    return product


def registration(membership: Membership, product: Product) -> ProductRegistration | None:
    """Return the member's organization's registration of the product, if it started one."""
    return (
        ProductRegistration.objects.for_organization(membership.organization_id)
        .filter(product=product)
        .first()
    )


def counted_devices(organization_id, product: Product) -> QuerySet[Device]:
    """Return the organization's devices that use the product (its counted model prefixes)."""
    devices = Device.objects.for_organization(organization_id)
    if product.counted_device_models:
        uses = Q()
        for prefix in product.counted_device_models:
            uses |= Q(product_number__istartswith=str(prefix))
        devices = devices.filter(uses)
    return devices


def current_need(organization_id, product: Product, period_start: date) -> int:
    """Return the number of the organization's devices using the product at `period_start`."""
    onboarded = counted_devices(organization_id, product).values_list("created_at", flat=True)
    return rules.current_need(onboarded, period_start)


def balances(membership: Membership, product: Product) -> QuerySet[LedgerAccount]:
    """Return the organization's ledger accounts of the product."""
    return LedgerAccount.objects.for_organization(membership.organization_id).filter(
        product=product
    )


@dataclass(frozen=True)
class ProductStatus:
    """Where an organization stands with one product on one day (PRODUCT.md §8)."""

    product: Product
    registration: ProductRegistration | None
    on: date
    year: int | None = None
    year_started_on: date | None = None
    grace_period_ends_on: date | None = None
    need: int = 0
    allocated: int = 0
    devices_in_use: int = 0

    @property
    def is_started(self) -> bool:
        return self.registration is not None

    @property
    def is_subscribed(self) -> bool:
        return self.year is not None

    @property
    def is_in_grace_period(self) -> bool:
        return self.grace_period_ends_on is not None and self.on <= self.grace_period_ends_on

    @property
    def short_by(self) -> int:
        return max(0, self.need - self.allocated)

    @property
    def is_fully_licensed(self) -> bool:
        return self.is_subscribed and rules.is_fully_licensed(self.allocated, self.need)

    @property
    def growth_excess(self) -> int:
        """Licenses to allocate now because devices grew beyond the allowance (0 if within)."""
        if not self.is_subscribed:
            return 0
        return rules.growth_excess(allocated=self.allocated, devices_in_use=self.devices_in_use)


def product_status(membership: Membership, product: Product, on: date) -> ProductStatus:
    """Return the organization's status of one product on `on`: year, grace, need, allocated."""
    organization_id = membership.organization_id
    found = registration(membership, product)
    if found is None or found.subscription_started_on is None:
        return ProductStatus(product=product, registration=found, on=on)
    year = rules.current_year(found.subscription_started_on, on)
    year_started_on = rules.subscription_year_start(found.subscription_started_on, year)
    allocated = (
        balances(membership, product)
        .filter(kind=LedgerAccount.Kind.SUBSCRIPTION_YEAR, year=year)
        .values_list("balance", flat=True)
        .first()
    )
    return ProductStatus(
        product=product,
        registration=found,
        on=on,
        year=year,
        year_started_on=year_started_on,
        grace_period_ends_on=rules.grace_period_end(year_started_on),
        need=current_need(organization_id, product, year_started_on),
        allocated=allocated or 0,
        devices_in_use=counted_devices(organization_id, product).count(),
    )


@dataclass(frozen=True)
class WalletLine:
    """One product and kind in the wallet: the count and its lots with expiry dates."""

    product: Product
    license_kind: str
    count: int
    lots: list[rules.WalletLot]


def wallet(membership: Membership) -> list[WalletLine]:
    """Return the organization's wallet per product and kind, oldest lots first."""
    accounts = (
        LedgerAccount.objects.for_organization(membership.organization_id)
        .filter(kind=LedgerAccount.Kind.WALLET)
        .select_related("product")
        .order_by("product__name", "license_kind")
    )
    lines = []
    for account in accounts:
        credits, debited = [], 0
        for amount, created_at in account.entries.values_list("amount", "transaction__created_at"):
            if amount > 0:
                credits.append((created_at.date(), amount))
            else:
                debited -= amount
        lots = rules.wallet_lots(credits, debited)
        lines.append(WalletLine(account.product, account.license_kind, account.balance, lots))
    return lines


HISTORY_KINDS = frozenset(LedgerTransaction.Kind.values)


def history(
    membership: Membership,
    *,
    kind: str = "",
    product_code: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[LedgerTransaction]:
    """Return the movements that touched the organization's accounts, newest first.

    That is every movement it made and the transfers it received (landed or pending).
    """
    touched = LedgerEntry.objects.filter(
        account__organization_id=membership.organization_id
    ).values("transaction_id")
    movements = LedgerTransaction.objects.filter(
        Q(organization_id=membership.organization_id) | Q(pk__in=touched)
    )
    if kind:
        movements = movements.filter(kind=kind)
    if product_code:
        movements = movements.filter(product__code=product_code)
    if since:
        movements = movements.filter(created_at__date__gte=since)
    if until:
        movements = movements.filter(created_at__date__lte=until)
    return movements.select_related("product", "organization").order_by("-created_at", "pk")


def own_change(movement: LedgerTransaction, organization_id) -> dict[str, int]:
    """Return what a movement changed in the organization's accounts, by account kind."""
    changes: dict[str, int] = {}
    for entry in movement.entries.all():
        if entry.account.organization_id == organization_id:
            label = entry.account.kind
            if entry.account.year:
                label = f"{label}:{entry.account.year}"
            changes[label] = changes.get(label, 0) + entry.amount
    return changes


# --- What the licensing pages read -----------------------------------------------------------


def product_statuses(membership: Membership, on: date) -> list[ProductStatus]:
    """Return the organization's status of every active product on `on`, by product name."""
    return [product_status(membership, product, on) for product in active_products()]


def wallet_count(membership: Membership, product: Product, license_kind: str) -> int:
    """Return how many licenses of one product and kind the organization's wallet holds."""
    balance = (
        balances(membership, product)
        .filter(kind=LedgerAccount.Kind.WALLET, license_kind=license_kind)
        .values_list("balance", flat=True)
        .first()
    )
    return balance or 0


@dataclass(frozen=True)
class YearAllocation:
    """One subscription year the organization may allocate to: its dates and what it holds."""

    year: int
    starts_on: date
    ends_on: date  # the year's last day
    allocated: int
    is_current: bool


def allocation_years(membership: Membership, status: ProductStatus) -> list[YearAllocation]:
    """Return the current subscription year and the five that may be paid ahead."""
    started_on = status.registration.subscription_started_on if status.registration else None
    if started_on is None or status.year is None:
        return []
    last = rules.latest_allocatable_year(status.year)
    allocated = dict(
        balances(membership, status.product)
        .filter(kind=LedgerAccount.Kind.SUBSCRIPTION_YEAR, year__range=(status.year, last))
        .values_list("year", "balance")
    )
    return [
        YearAllocation(
            year=year,
            starts_on=rules.subscription_year_start(started_on, year),
            ends_on=rules.subscription_year_end(started_on, year) - timedelta(days=1),
            allocated=allocated.get(year, 0),
            is_current=year == status.year,
        )
        for year in range(status.year, last + 1)
    ]


@dataclass(frozen=True)
class AllocationPreview:
    """What allocating `count` licenses to `year` today would do, before it is confirmed."""

    year: int
    count: int
    year_started_on: date
    compensation: rules.Compensation
    wallet: int

    @property
    def is_late(self) -> bool:
        return self.compensation.license_days > 0

    @property
    def is_short(self) -> bool:
        return self.wallet < self.count


def allocation_preview(
    membership: Membership, status: ProductStatus, *, year: int, count: int
) -> AllocationPreview:
    """Return the compensation an allocation would credit, as `allocate_licenses` computes it.

    The service decides again when it runs; this is what the page shows before confirming.
    """
    registration = status.registration
    if registration is None or registration.subscription_started_on is None:
        raise ValueError("only a started subscription takes allocations")
    year_started_on = rules.subscription_year_start(registration.subscription_started_on, year)
    compensation = rules.compensation(
        count=count,
        year_started_on=year_started_on,
        allocated_on=max(status.on, year_started_on),
        carried_license_days=registration.compensation_license_days,
    )
    wallet = wallet_count(membership, status.product, LicenseKind.SUBSCRIPTION)
    return AllocationPreview(year, count, year_started_on, compensation, wallet)


def transfer_targets(membership: Membership) -> list[Organization]:
    """Return the other organizations where the member's person may manage licenses too."""
    memberships = (
        Membership.objects.filter(user_id=membership.user_id, organization__archived_at=None)
        .exclude(organization_id=membership.organization_id)
        .select_related("organization", "user")
        .order_by("organization__name", "organization_id")
    )
    return [m.organization for m in memberships if access.can(m, Action.LICENSE_MANAGE)]


def resellers(country: str) -> list[Reseller]:
    """Return the active resellers serving `country` (an ISO 3166 code), by name."""
    directory = Reseller.objects.filter(is_active=True).prefetch_related("products")
    return [reseller for reseller in directory if country in reseller.countries]


def has_started(organization: Organization, product: Product) -> bool:
    """Return True when the organization started a trial or subscription of the product.

    For the transfer summary, about a target the member is admin of (`transfer_targets`).
    """
    return ProductRegistration.objects.filter(organization=organization, product=product).exists()
