"""The double-entry ledger: accounts, locks in one fixed order, balanced postings.

Lock order — every licensing write takes its row locks in this order and no other, so two
writers never wait for each other in a cycle:

1. the organization rows involved, in pk order (`organizations_to_lock`). They are read in
   full, so `audit.record(..., head_locked=True)` extends the audit chain without reading them
   again. The acting memberships are read (not locked) after these locks are granted, so a
   role changed while we waited counts: every change of a membership holds its organization;
2. the license key row, when redeeming (`LicenseKey`, by its hash);
3. the product registration rows, in pk order (`registrations_to_lock`); then, when a licensed
   system is registered or described (`licensing.services_systems`), that system's row;
4. the ledger accounts, in pk order, `SELECT … FOR UPDATE OF self` (`accounts_to_lock`). An
   account that does not exist yet is created (`INSERT … ON CONFLICT DO NOTHING`) and the set
   locked again (`lock_accounts`); no other writer can be creating it, since an
   organization's accounts are written only under that organization's lock (step 1).

Every lock is held until commit, and every round trip made while holding them makes the writers
queued behind wait longer. So steps 1, 3 and 4 and the membership read usually go to PostgreSQL
as one message of statements run in that order (`common.db.fetch_in_order`); a movement is one
statement whatever its number of accounts (`post`), sent with its audit events once every check
passed (`common.db.writes_joined`). An allocation or a transfer makes two round trips between
its first lock and its commit.

PostgreSQL may still report a deadlock against work outside this module; `retry_on_deadlock`
runs the whole transaction again, a few times, and then refuses with `ledger_busy`.
Everything here runs inside the caller's transaction.
"""

import functools
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from django.db import DatabaseError, connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from common import db
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


def organizations_to_lock(organization_ids: Iterable[UUID]) -> QuerySet[Organization]:
    """Return the SELECT that locks the organization rows in pk order (step 1)."""
    return (
        Organization.objects.filter(pk__in=set(organization_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def lock_organizations(organization_ids: Iterable[UUID]) -> dict[UUID, Organization]:
    """Lock the organization rows in pk order (step 1) and return them by id."""
    rows = organizations_to_lock(organization_ids)
    return {organization.pk: organization for organization in rows}


def registrations_to_lock(
    organization_ids: Iterable[UUID], product: Product
) -> QuerySet[ProductRegistration]:
    """Return the SELECT that locks the product's registrations of these organizations (step 3)."""
    return (
        ProductRegistration.objects.filter(
            organization_id__in=set(organization_ids), product=product
        )
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def lock_registrations(
    organization_ids: Iterable[UUID], product: Product
) -> dict[UUID, ProductRegistration]:
    """Lock the product's registrations of these organizations in pk order (step 3)."""
    rows = registrations_to_lock(organization_ids, product)
    return {registration.organization_id: registration for registration in rows}


def accounts_to_lock(refs: Iterable[AccountRef]) -> QuerySet[LedgerAccount]:
    """Return the SELECT that locks the existing accounts among `refs` in pk order (step 4)."""
    # PostgreSQL locks the rows as the sorted result returns them: pk order. Each ref matches
    # the unique index `ledger_account_once` (or `ledger_issuer_once`) on equal columns.
    match = Q()
    for ref in refs:
        match |= Q(**ref.lookup())
    return LedgerAccount.objects.filter(match).order_by("pk").select_for_update(of=("self",))


def by_ref(accounts: Iterable[LedgerAccount]) -> dict[AccountRef, LedgerAccount]:
    """Return the accounts by their `AccountRef`."""
    return {_ref_of(account): account for account in accounts}


def lock_accounts(
    refs: Iterable[AccountRef], held: Mapping[AccountRef, LedgerAccount] | None = None
) -> dict[AccountRef, LedgerAccount]:
    """Lock the accounts in pk order (step 4), creating any that do not exist yet.

    `held` are accounts this transaction locked already (`accounts_to_lock`): when they cover
    `refs`, the usual case, no query runs. Otherwise one query when they all exist; else the
    missing ones are inserted (`ON CONFLICT DO NOTHING`, so a concurrent creator is no error)
    and the set is read again.

    Locking more accounts after some are held (a late allocation's issuer) cannot close a
    cycle: an organization's accounts are locked only under its organization's row lock, so
    two writers never hold accounts of the same organization at once, and the one account
    without an organization, the issuer, is never held while waiting for another.
    """
    refs = list(dict.fromkeys(refs))
    if held is not None and all(ref in held for ref in refs):
        return {ref: held[ref] for ref in refs}
    accounts = by_ref(accounts_to_lock(refs))
    missing = [ref for ref in refs if ref not in accounts]
    if missing:
        LedgerAccount.objects.bulk_create(
            [LedgerAccount(**ref.lookup()) for ref in missing], ignore_conflicts=True
        )
        accounts = by_ref(accounts_to_lock(refs))
    return accounts


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
    movement = LedgerTransaction(
        kind=kind,
        organization=organization,
        product=product,
        license_key=license_key,
        actor_user=actor_user,
        actor_label=actor_label[:254],
        idempotency_key=idempotency_key,
        data=data or {},
    )
    _write(movement, amounts)
    for account, amount in amounts.items():
        account.balance += amount
    return movement


def _write(movement: LedgerTransaction, amounts: Mapping[LedgerAccount, int]) -> None:
    """Insert the transaction and its entries and update the balances, all in one statement.

    On PostgreSQL it is one statement (`common.db.write`: sent at once, or with the other writes
    of a `writes_joined` block); the deferred foreign keys and the balance trigger (migration
    0002) run at commit, the CHECK on each balance with the statement.
    """
    accounts = [account.pk for account in amounts]
    changes = list(amounts.values())
    if not db.joins_statements():
        LedgerTransaction.objects.bulk_create([movement])
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(transaction=movement, account=account, amount=amount)
                for account, amount in amounts.items()
            ]
        )
        LedgerAccount.objects.filter(pk__in=accounts).update(
            balance=F("balance")
            + Case(
                *(
                    When(pk=pk, then=Value(change))
                    for pk, change in zip(accounts, changes, strict=True)
                ),
                output_field=BigIntegerField(),
            )
        )
        return
    insert_sql, insert_params = db.insert_statement(movement)
    db.write(
        f"WITH movement AS ({insert_sql}), "  # noqa: S608 - values are all parameters
        "entries AS ("
        "  INSERT INTO licensing_ledgerentry (transaction_id, account_id, amount)"
        "  SELECT %s, change.account_id, change.amount"
        "  FROM unnest(%s::bigint[], %s::bigint[]) AS change(account_id, amount)"
        ") "
        "UPDATE licensing_ledgeraccount AS account"
        " SET balance = account.balance + change.amount"
        " FROM unnest(%s::bigint[], %s::bigint[]) AS change(account_id, amount)"
        " WHERE account.id = change.account_id",
        [*insert_params, movement.pk, accounts, changes, accounts, changes],
    )
    movement._state.adding, movement._state.db = False, connection.alias


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
