"""The double-entry ledger: accounts, locks in one fixed order, balanced postings.

Lock order — every licensing write takes its row locks in this order and no other, so two
writers never wait for each other in a cycle:

1. the organization rows involved, in pk order (`lock_organizations`); `audit.record` takes
   the same row again later, which is then a no-op;
2. the license key row, when redeeming (`LicenseKey`, by its hash);
3. the product registration rows, in pk order (`lock_registrations`); then, when a licensed
   system is registered or described (`licensing.services_systems`), that system's row;
4. the ledger accounts, in pk order, `SELECT … FOR UPDATE OF self` (`lock_accounts`).

Accounts are created (`INSERT … ON CONFLICT DO NOTHING`) before step 4 without locks, so creating
one never waits on another writer's lock. PostgreSQL may still report a deadlock against work
outside this module; `retry_on_deadlock` runs the whole transaction again, a few times, and
then refuses with `ledger_busy`.

Everything here runs inside the caller's transaction.
"""

import functools
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from django.db import DatabaseError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict
from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseKey,
    LicenseKind,
    Product,
    ProductRegistration,
)
from organizations.models import Organization

Kind = LedgerAccount.Kind


@dataclass(frozen=True)
class AccountRef:
    """Which account: the unique fields of a `LedgerAccount`."""

    organization_id: UUID | None
    product_id: UUID
    kind: str
    license_kind: str = LicenseKind.SUBSCRIPTION
    year: int = 0
    system: str = ""

    def lookup(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "product_id": self.product_id,
            "kind": self.kind,
            "license_kind": self.license_kind,
            "year": self.year,
            "system": self.system,
        }


def issuer(product_id: UUID, license_kind: str) -> AccountRef:
    return AccountRef(None, product_id, Kind.ISSUER, license_kind)


def wallet(organization_id: UUID, product_id: UUID, license_kind: str) -> AccountRef:
    return AccountRef(organization_id, product_id, Kind.WALLET, license_kind)


def subscription_year(organization_id: UUID, product_id: UUID, year: int) -> AccountRef:
    return AccountRef(organization_id, product_id, Kind.SUBSCRIPTION_YEAR, year=year)


def pending_transfer(organization_id: UUID, product_id: UUID, license_kind: str) -> AccountRef:
    return AccountRef(organization_id, product_id, Kind.PENDING_TRANSFER, license_kind)


def expired(organization_id: UUID, product_id: UUID, license_kind: str) -> AccountRef:
    return AccountRef(organization_id, product_id, Kind.EXPIRED, license_kind)


def void(organization_id: UUID, product_id: UUID, license_kind: str) -> AccountRef:
    return AccountRef(organization_id, product_id, Kind.VOID, license_kind)


def lock_organizations(organization_ids: Iterable[UUID]) -> dict[UUID, Organization]:
    """Lock the organization rows in pk order (step 1) and return them by id."""
    rows = (
        Organization.objects.filter(pk__in=set(organization_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {organization.pk: organization for organization in rows}


def lock_registrations(
    organization_ids: Iterable[UUID], product: Product
) -> dict[UUID, ProductRegistration]:
    """Lock the product's registrations of these organizations in pk order (step 3)."""
    rows = (
        ProductRegistration.objects.filter(
            organization_id__in=set(organization_ids), product=product
        )
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {registration.organization_id: registration for registration in rows}


def lock_accounts(refs: Iterable[AccountRef]) -> dict[AccountRef, LedgerAccount]:
    """Lock the accounts in pk order (step 4), creating any that do not exist yet.

    One query when they all exist, the usual case; otherwise the missing ones are inserted
    (`ON CONFLICT DO NOTHING`, so a concurrent creator is no error) and the set is read again.
    """
    refs = list(dict.fromkeys(refs))
    accounts = _select_for_update(refs)
    missing = [ref for ref in refs if ref not in accounts]
    if missing:
        LedgerAccount.objects.bulk_create(
            [LedgerAccount(**ref.lookup()) for ref in missing], ignore_conflicts=True
        )
        accounts = _select_for_update(refs)
    return accounts


def _select_for_update(refs: list[AccountRef]) -> dict[AccountRef, LedgerAccount]:
    # PostgreSQL locks the rows as the sorted result returns them: pk order.
    match = Q()
    for ref in refs:
        match |= Q(**ref.lookup())
    rows = LedgerAccount.objects.filter(match).order_by("pk").select_for_update(of=("self",))
    return {_ref_of(account): account for account in rows}


def _ref_of(account: LedgerAccount) -> AccountRef:
    return AccountRef(
        account.organization_id,
        account.product_id,
        account.kind,
        account.license_kind,
        account.year,
        account.system,
    )


def post(
    *,
    kind: str,
    organization: Organization,
    product: Product,
    amounts: Mapping[LedgerAccount, int],
    actor_user: Any = None,
    actor_label: str,
    license_key: Any = None,
    idempotency_key: UUID | None = None,
    data: dict | None = None,
) -> LedgerTransaction:
    """Record one balanced movement and update the locked accounts' cached balances.

    `amounts` maps each account (locked by `lock_accounts`) to what it gains (positive) or
    loses (negative); they must sum to zero. A balance that would go below zero raises
    `insufficient_licenses` before anything is written (the CHECK constraint is the last guard).
    """
    amounts = {account: amount for account, amount in amounts.items() if amount}
    if sum(amounts.values()) != 0:
        raise ValueError("a ledger transaction's entries must sum to zero")
    if not amounts:
        raise ValueError("a ledger transaction moves something")
    for account, amount in amounts.items():
        if account.kind != Kind.ISSUER and account.balance + amount < 0:
            raise Conflict(
                "insufficient_licenses",
                _("Not enough licenses: %(held)d available, %(asked)d needed.")
                % {"held": account.balance, "asked": -amount},
            )
    movement = LedgerTransaction.objects.create(
        kind=kind,
        organization=organization,
        product=product,
        license_key=license_key,
        actor_user=actor_user,
        actor_label=actor_label[:254],
        idempotency_key=idempotency_key,
        data=data or {},
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(transaction=movement, account=account, amount=amount)
            for account, amount in amounts.items()
        ]
    )
    for account, amount in amounts.items():
        account.balance += amount
        account.save(update_fields=["balance"])
    return movement


def balance_from_entries(account: LedgerAccount) -> int:
    """Return the account's balance recomputed from its entries."""
    return account.entries.aggregate(total=Sum("amount"))["total"] or 0


P = ParamSpec("P")
R = TypeVar("R")

# PostgreSQL's SQLSTATEs for a deadlock and a serialization failure: the transaction was
# rolled back whole, so running it again is safe.
_RETRYABLE = {"40P01", "40001"}
ATTEMPTS = 4


def _is_retryable(error: DatabaseError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in _RETRYABLE


def retry_on_deadlock(function: Callable[P, R]) -> Callable[P, R]:
    """Run a durable service again when PostgreSQL chose it as a deadlock victim.

    Put it outside `transaction.atomic(durable=True)`: each attempt is a fresh transaction.
    After the last attempt the caller gets `ledger_busy`, a refusal they may simply repeat.
    """

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except DatabaseError as error:
                if not _is_retryable(error) or transaction.get_connection().in_atomic_block:
                    raise
                retry_on_deadlock.retries += 1  # type: ignore[attr-defined]
                if attempt == ATTEMPTS:
                    raise Conflict(
                        "ledger_busy", _("Licensing is busy right now. Please try again.")
                    ) from error
                time.sleep(random.uniform(0.005, 0.02) * attempt)  # noqa: S311 - jitter only
        raise AssertionError("unreachable")

    return run


retry_on_deadlock.retries = 0  # type: ignore[attr-defined]


def verify() -> str | None:
    """Return the first difference in the ledger, in words, or None when everything holds.

    Checks, in this order: every account's cached balance equals the sum of its entries; no
    balance other than the issuer's is negative; every transaction's entries sum to zero and
    there are at least two; all balances together sum to zero (no license made or lost); every
    redeemed key has exactly one redemption, and every redemption's key says it was redeemed.
    """
    sums = (
        LedgerEntry.objects.filter(account=OuterRef("pk"))
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    drifted = (
        LedgerAccount.objects.annotate(computed=Coalesce(Subquery(sums), Value(0)))
        .exclude(balance=F("computed"))
        .order_by("pk")
        .first()
    )
    if drifted is not None:
        return (
            f"account {drifted.pk} ({drifted}) has balance {drifted.balance} but its entries "
            f"sum to {drifted.computed}"
        )
    negative = (
        LedgerAccount.objects.filter(balance__lt=0).exclude(kind=Kind.ISSUER).order_by("pk").first()
    )
    if negative is not None:
        return f"account {negative.pk} ({negative}) is negative: {negative.balance}"
    unbalanced = (
        LedgerTransaction.objects.annotate(
            total=Coalesce(Sum("entries__amount"), Value(0)), entry_count=Count("entries")
        )
        .filter(~Q(total=0) | Q(entry_count__lt=2))
        .order_by("created_at", "pk")
        .first()
    )
    if unbalanced is not None:
        return (
            f"transaction {unbalanced.pk} ({unbalanced.kind}) has {unbalanced.entry_count} "
            f"entries summing to {unbalanced.total}"
        )
    total = LedgerAccount.objects.aggregate(total=Sum("balance"))["total"] or 0
    if total != 0:
        return f"licenses are not conserved: all balances sum to {total}, not 0"
    key = (
        LicenseKey.objects.annotate(
            redemptions=Count("transactions", filter=Q(transactions__kind="redeem"))
        )
        .filter(
            (Q(redeemed_at__isnull=False) & ~Q(redemptions=1))
            | (Q(redeemed_at__isnull=True) & ~Q(redemptions=0))
        )
        .order_by("pk")
        .first()
    )
    if key is not None:
        state = "redeemed" if key.redeemed_at else "not redeemed"
        return f"license key …{key.hint} is {state} but has {key.redemptions} redemptions"
    return None
