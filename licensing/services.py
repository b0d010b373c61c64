"""Every licensing write: issue, start, redeem, allocate, transfer, expire (PRODUCT.md §8).

Each movement of licenses is one balanced ledger transaction (`licensing.ledger.post`), audited
in the same database transaction, with row locks taken in the order documented in
`licensing.ledger`. Admins and owners do every licensing action (`Action.LICENSE_MANAGE`).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common import db
from common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from licensing import keys, ledger, rules, selectors
from licensing.errors import Throttled
from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseKey,
    LicenseKind,
    Product,
    ProductRegistration,
)
from organizations import access, audit
from organizations.models import Membership, Organization
from organizations.roles import Action
from organizations.services.locks import reload_actor

MAX_KEYS_PER_ISSUE = 1000
MAX_LICENSES_PER_MOVEMENT = 1_000_000
# Wrong keys allowed per person and per organization in the window before redeeming pauses.
REDEEM_FAILURE_LIMIT = getattr(settings, "LICENSE_REDEEM_FAILURE_LIMIT", 10)
REDEEM_FAILURE_WINDOW_SECONDS = getattr(settings, "LICENSE_REDEEM_FAILURE_WINDOW_SECONDS", 900)
# Refusals that tell a guesser something about a key; each counts toward the throttle.
_KEY_FAILURES = frozenset({"key_invalid", "key_unknown", "key_used", "key_other_product"})

Tx = LedgerTransaction.Kind


def today() -> date:
    """Return today's date in UTC, the calendar every licensing date is kept in."""
    return timezone.now().date()


def _actor_user_and_label(actor: Any) -> tuple[Any, str]:
    if isinstance(actor, Membership):
        return actor.user, actor.user.email
    return None, str(actor or "system")


def _lock_acting_member(actor: Membership, *other_organization_ids: uuid.UUID) -> Membership:
    """Lock the organizations (step 1 of the lock order), re-read the actor, require admin+.

    For the writes of `licensing.services_systems`, which lock their registration and accounts
    step by step; the allocation and transfer here take all their locks in one round trip
    (`_lock_for_action`).
    """
    ledger.lock_organizations([actor.organization_id, *other_organization_ids])
    actor = reload_actor(actor)
    access.require(actor, Action.LICENSE_MANAGE)
    return actor


@dataclass(frozen=True)
class _Locked:
    """What a licensing write holds after `_lock_for_action` (lock order steps 1, 3, 4)."""

    members: dict[uuid.UUID, Membership]  # the acting person's, by organization
    registrations: dict[uuid.UUID, ProductRegistration]  # of the product, by organization
    accounts: dict[ledger.AccountRef, LedgerAccount]  # those of the refs that exist


def _lock_for_action(
    actor: Membership,
    *other_organization_ids: uuid.UUID,
    product: Product | None = None,
    accounts: list[ledger.AccountRef] | None = None,
) -> _Locked:
    """Lock the organizations, re-read the actor, lock registrations and accounts (steps 1-4).

    One round trip: the organizations are locked first; the acting person's memberships in
    them are read after the locks are granted, so a role changed meanwhile counts; then the
    product's registrations and the existing `accounts` are locked. Each membership holds its
    locked organization row, whose audit head is current (`audit.record(...,
    head_locked=True)`). Requires admin+ in the actor's organization; NotFound when it is gone
    or archived (the locks are then released with the rollback).
    """
    organization_ids = [actor.organization_id, *other_organization_ids]
    statements = [
        ledger.organizations_to_lock(organization_ids),
        Membership.objects.filter(user_id=actor.user_id, organization_id__in=organization_ids),
    ]
    if product is not None:
        statements.append(ledger.registrations_to_lock(organization_ids, product))
    if accounts:
        statements.append(ledger.accounts_to_lock(accounts))
    organizations, memberships, *rest = db.fetch_in_order(*statements)
    registrations = rest.pop(0) if product is not None else []
    held = ledger.by_ref(rest.pop(0)) if accounts else {}
    by_id = {organization.pk: organization for organization in organizations}
    members = {}
    for membership in memberships:
        membership.organization = by_id[membership.organization_id]
        membership.user = actor.user  # the same person: the row already in hand
        members[membership.organization_id] = membership
    acting = members.get(actor.organization_id)
    if acting is None or acting.organization.is_archived:
        raise NotFound("organization_not_found", _("Organization not found."))
    access.require(acting, Action.LICENSE_MANAGE)
    found = {registration.organization_id: registration for registration in registrations}
    return _Locked(members, found, held)


def _whole_number(value: Any) -> int | None:
    """Return an int given as an int or as digits; None for anything else (also True/False)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _clean_count(count: Any, field: str = "count") -> int:
    value = _whole_number(count)
    if value is None or not 1 <= value <= MAX_LICENSES_PER_MOVEMENT:
        message = _("Enter a whole number of licenses from 1 to %(max)d.") % {
            "max": MAX_LICENSES_PER_MOVEMENT
        }
        raise Invalid("invalid_count", message, {field: [message]})
    return value


def _clean_license_kind(kind: Any, product: Product) -> str:
    if kind not in LicenseKind.values or not product.takes(kind):
        message = _("%(product)s does not take licenses of this kind.") % {"product": product}
        raise Invalid("invalid_license_kind", message, {"license_kind": [message]})
    return str(kind)


# --- Staff ------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def issue_license_keys(
    *, issued_by: str, product: Product, kind: str, quantity: int, count: int, term_years: int = 1
) -> list[str]:
    """Create `count` keys of one product and kind; return their text, which is never stored.

    Only the hash and the last four characters are kept: show the keys to staff once.
    """
    kind = _clean_license_kind(kind, product)
    quantity = _clean_count(quantity, "quantity")
    if not 1 <= (_whole_number(count) or 0) <= MAX_KEYS_PER_ISSUE:
        raise Invalid(
            "invalid_count",
            _("Issue from 1 to %(max)d keys at a time.") % {"max": MAX_KEYS_PER_ISSUE},
        )
    if kind != LicenseKind.SUBSCRIPTION:
        term_years = 1
    if not 1 <= (_whole_number(term_years) or 0) <= rules.WALLET_KEEP_YEARS:
        raise Invalid("invalid_term", _("A subscription key covers from 1 to 5 years."))
    texts = [keys.generate() for _ in range(int(count))]
    LicenseKey.objects.bulk_create(
        [
            LicenseKey(
                product=product,
                kind=kind,
                quantity=quantity,
                term_years=term_years,
                key_hash=keys.key_hash(keys.normalize(text)),
                hint=keys.hint(keys.normalize(text)),
                issued_by=issued_by[:254],
            )
            for text in texts
        ]
    )
    return texts


# --- Products -------------------------------------------------------------------------------


def _land_pending_transfers(
    actor: Membership, registration: ProductRegistration, product: Product
) -> list[LedgerTransaction]:
    """Move licenses waiting for this product into the wallet; call inside a transaction."""
    pending = LedgerAccount.objects.filter(
        organization_id=registration.organization_id,
        product=product,
        kind=LedgerAccount.Kind.PENDING_TRANSFER,
        balance__gt=0,
    ).values_list("license_kind", flat=True)
    landed = []
    user, label = _actor_user_and_label(actor)
    for license_kind in sorted(pending):
        organization_id = registration.organization_id
        source = ledger.pending_transfer(organization_id, product.pk, license_kind)
        target = ledger.wallet(organization_id, product.pk, license_kind)
        accounts = ledger.lock_accounts([source, target])
        count = accounts[source].balance
        if count <= 0:
            continue
        movement = ledger.post(
            kind=Tx.TRANSFER_LANDING,
            organization=actor.organization,
            product=product,
            amounts={accounts[source]: -count, accounts[target]: count},
            actor_user=user,
            actor_label=label,
            data={"count": count, "license_kind": license_kind},
        )
        audit.record(
            actor,
            actor.organization,
            "license.transfer_land",
            product,
            {"count": count, "license_kind": license_kind, "transaction": str(movement.pk)},
            head_locked=True,
        )
        landed.append(movement)
    return landed


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def start_product(*, actor: Membership, product_code: str, kind: str) -> ProductRegistration:
    """Start a trial or the subscription of a product; licenses waiting for it land now.

    Starting what has already started returns the registration unchanged. The subscription's
    first year, and its 30-day grace period, begin today.
    """
    if kind not in ("trial", "subscription"):
        message = _("Choose a trial or a subscription.")
        raise Invalid("invalid_start_kind", message, {"kind": [message]})
    product = selectors.get_product(product_code)
    locked = _lock_for_action(actor, product=product)
    actor = locked.members[actor.organization_id]
    registration = locked.registrations.get(actor.organization_id)
    started = today()
    if registration is None:
        registration = ProductRegistration(organization=actor.organization, product=product)
    elif kind == "trial" or registration.subscription_started_on is not None:
        return registration  # already started: nothing to do
    if kind == "trial":
        registration.trial_started_on = started
    else:
        registration.subscription_started_on = started
    registration.save()
    audit.record(
        actor,
        actor.organization,
        f"license.start_{kind}",
        product,
        {"product": product.code, "started_on": started.isoformat()},
        head_locked=True,
    )
    _land_pending_transfers(actor, registration, product)
    return registration


# --- Redeeming keys ---------------------------------------------------------------------------


def _failure_keys(actor: Membership) -> tuple[str, str]:
    return (
        f"licensing:redeem-failures:user:{actor.user_id}",
        f"licensing:redeem-failures:organization:{actor.organization_id}",
    )


def _require_not_throttled(actor: Membership) -> None:
    counts = cache.get_many(_failure_keys(actor))
    if any(int(value) >= REDEEM_FAILURE_LIMIT for value in counts.values()):
        raise Throttled(
            "key_throttled",
            _("Too many wrong license keys. Wait %(minutes)d minutes and try again.")
            % {"minutes": REDEEM_FAILURE_WINDOW_SECONDS // 60},
        )


def _count_failure(actor: Membership) -> None:
    for cache_key in _failure_keys(actor):
        # add() starts the window; incr() keeps it (the window is fixed, not sliding).
        cache.add(cache_key, 0, timeout=REDEEM_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=REDEEM_FAILURE_WINDOW_SECONDS)


def redeem_license_key(
    *, actor: Membership, key: str, product_code: str | None = None
) -> LedgerTransaction:
    """Put all the licenses of a key into the organization's wallet; a key works once, ever.

    Wrong keys are counted per person and per organization; after REDEEM_FAILURE_LIMIT in
    the window, every attempt is refused with `key_throttled` until the window ends.
    `product_code`, when given (the product's wallet page), refuses keys of other products.
    """
    _require_not_throttled(actor)
    try:
        # A typo is caught by the check character before any transaction or lookup.
        try:
            normalized = keys.normalize(str(key or "")[:200])
        except keys.MalformedKey as error:
            raise _malformed(str(error)) from None
        return _redeem(actor=actor, normalized=normalized, product_code=product_code)
    except DomainError as error:
        if error.code in _KEY_FAILURES:
            _count_failure(actor)
        raise


def _malformed(reason: str) -> Invalid:
    if reason == "check":
        message = _("This key has a typo: please check each character and try again.")
    else:
        message = _("A license key has 24 letters and digits, like XXXX-XXXX-XXXX-XXXX-XXXX-XXXX.")
    return Invalid("key_invalid", message, {"key": [message]})


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def _redeem(*, actor: Membership, normalized: str, product_code: str | None) -> LedgerTransaction:
    actor = _lock_for_action(actor).members[actor.organization_id]
    organization = actor.organization
    license_key = (
        LicenseKey.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(key_hash=keys.key_hash(normalized))
        .first()
    )
    if license_key is None:
        message = _("No license key matches. Check the key on your purchase documents.")
        raise Invalid("key_unknown", message, {"key": [message]})
    if license_key.redeemed_at is not None:
        if license_key.redeemed_by_organization_id == organization.pk:
            message = _("Your organization already redeemed this key on %(date)s.") % {
                "date": license_key.redeemed_at.date().isoformat()
            }
        else:
            message = _("This key has already been redeemed.")
        raise Conflict("key_used", message, {"key": [message]})
    product = license_key.product
    if product_code is not None and product.code != product_code:
        message = _("This key is for %(product)s; redeem it on that product's page.") % {
            "product": product.name
        }
        raise Invalid("key_other_product", message, {"key": [message]})
    registration = ledger.lock_registrations([organization.pk], product).get(organization.pk)
    if registration is None:
        raise Conflict(
            "product_not_started",
            _("Start a trial or subscription of %(product)s before redeeming its keys.")
            % {"product": product.name},
        )
    count = license_key.license_count
    source = ledger.issuer(product.pk, license_key.kind)
    target = ledger.wallet(organization.pk, product.pk, license_key.kind)
    accounts = ledger.lock_accounts([source, target])
    user, label = _actor_user_and_label(actor)
    try:
        with transaction.atomic():
            movement = ledger.post(
                kind=Tx.REDEMPTION,
                organization=organization,
                product=product,
                amounts={accounts[source]: -count, accounts[target]: count},
                actor_user=user,
                actor_label=label,
                license_key=license_key,
                data={"count": count, "license_kind": license_key.kind, "hint": license_key.hint},
            )
    except IntegrityError:  # license_key_redeemed_once: the real guard
        raise Conflict("key_used", _("This key has already been redeemed.")) from None
    license_key.redeemed_at = movement.created_at
    license_key.redeemed_by_organization = organization
    license_key.save(update_fields=["redeemed_at", "redeemed_by_organization"])
    audit.record(
        actor,
        organization,
        "license.redeem",
        product,
        {
            "count": count,
            "license_kind": license_key.kind,
            "key": f"…{license_key.hint}",
            "transaction": str(movement.pk),
        },
        head_locked=True,
    )
    return movement


# --- Allocating -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """What an allocation did: the movement, and the compensation it credited (if late)."""

    movement: LedgerTransaction
    compensation: rules.Compensation
    compensation_movement: LedgerTransaction | None


def _clean_year(year: Any) -> int:
    value = _whole_number(year)
    if value is None or not 1 <= value <= 1000:
        message = _("Choose a subscription year (1 is the first).")
        raise Invalid("invalid_year", message, {"year": [message]})
    return value


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def allocate_licenses(
    *,
    actor: Membership,
    product_code: str,
    year: int,
    count: int,
    idempotency_key: uuid.UUID | None = None,
) -> Allocation:
    """Move subscription licenses from the wallet to a subscription year, all or nothing.

    Years may be paid up to five ahead of the current one; past years are closed. Allocating to
    the current year after its grace period credits the compensation of `rules.compensation`.
    Repeating a call with the same idempotency key returns the first allocation unchanged.
    """
    year = _clean_year(year)
    count = _clean_count(count)
    # The catalogue needs no lock: read it before the organization's lock, to hold that shorter.
    product = selectors.get_product(product_code)
    kind = LicenseKind.SUBSCRIPTION
    wallet = ledger.wallet(actor.organization_id, product.pk, kind)
    target = ledger.subscription_year(actor.organization_id, product.pk, year)
    locked = _lock_for_action(actor, product=product, accounts=[wallet, target])
    actor = locked.members[actor.organization_id]
    organization = actor.organization
    if idempotency_key is not None:
        done = LedgerTransaction.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).first()
        if done is not None:
            return Allocation(done, rules.Compensation(0, 0, 0), None)
    registration = locked.registrations.get(organization.pk)
    if registration is None or registration.subscription_started_on is None:
        raise Conflict(
            "subscription_not_started",
            _("Start the subscription of %(product)s before allocating licenses.")
            % {"product": product.name},
        )
    started_on, on = registration.subscription_started_on, today()
    current = rules.current_year(started_on, on)
    if not rules.may_allocate_to_year(year=year, current=current):
        message = _("Allocate to year %(first)d up to year %(last)d (five years ahead).") % {
            "first": current,
            "last": rules.latest_allocatable_year(current),
        }
        raise Invalid("year_out_of_range", message, {"year": [message]})
    year_started_on = rules.subscription_year_start(started_on, year)
    compensation = rules.compensation(
        count=count,
        year_started_on=year_started_on,
        allocated_on=max(on, year_started_on),
        carried_license_days=registration.compensation_license_days,
    )
    refs = [wallet, target]
    if compensation.licenses:
        refs.append(ledger.issuer(product.pk, kind))
    accounts = ledger.lock_accounts(refs, held=locked.accounts)
    user, label = _actor_user_and_label(actor)
    # The writes go together, after every check: one round trip while the locks are held.
    with db.writes_joined():
        movement = ledger.post(
            kind=Tx.ALLOCATION,
            organization=organization,
            product=product,
            amounts={accounts[wallet]: -count, accounts[target]: count},
            actor_user=user,
            actor_label=label,
            idempotency_key=idempotency_key,
            data={"count": count, "year": year},
        )
        audit.record(
            actor,
            organization,
            "license.allocate",
            product,
            {"count": count, "year": year, "transaction": str(movement.pk)},
            head_locked=True,
        )
        compensation_movement = None
        if compensation.license_days:
            registration.compensation_license_days = compensation.carried_license_days
            registration.save(update_fields=["compensation_license_days"])
        if compensation.licenses:
            issuer = accounts[ledger.issuer(product.pk, kind)]
            compensation_movement = ledger.post(
                kind=Tx.COMPENSATION,
                organization=organization,
                product=product,
                amounts={issuer: -compensation.licenses, accounts[wallet]: compensation.licenses},
                actor_user=user,
                actor_label=label,
                data={
                    "count": compensation.licenses,
                    "year": year,
                    "license_days": compensation.license_days,
                    "allocation": str(movement.pk),
                },
            )
        if compensation.license_days:
            audit.record(
                actor,
                organization,
                "license.compensate",
                product,
                {
                    "year": year,
                    "license_days": compensation.license_days,
                    "licenses": compensation.licenses,
                    "carried_license_days": compensation.carried_license_days,
                },
                head_locked=True,
            )
    return Allocation(movement, compensation, compensation_movement)


# --- Transfers --------------------------------------------------------------------------------


def _not_admin_of_target() -> Forbidden:
    message = _("You can transfer only to an organization where you are an admin or owner.")
    return Forbidden("not_admin_of_target", message, {"target_organization": [message]})


@dataclass(frozen=True)
class Transfer:
    """What a transfer did: the movement, and whether the licenses wait for the target."""

    movement: LedgerTransaction
    is_pending: bool


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def transfer_licenses(
    *,
    actor: Membership,
    product_code: str,
    target_organization_id: Any,
    count: int,
    license_kind: str = LicenseKind.SUBSCRIPTION,
    idempotency_key: uuid.UUID | None = None,
) -> Transfer:
    """Move unused wallet licenses to another organization where the actor is admin too.

    Allocated licenses never move. When the target has not started the product, the licenses
    wait in its pending account and land in its wallet the moment it starts a trial or
    subscription. Both organizations' activity logs record the transfer.
    """
    count = _clean_count(count)
    try:
        target_id = uuid.UUID(str(target_organization_id))
    except ValueError:
        raise _not_admin_of_target() from None
    if target_id == actor.organization_id:
        message = _("Choose another organization: the licenses are already here.")
        raise Invalid("same_organization", message, {"target_organization": [message]})
    product = selectors.get_product(product_code)
    license_kind = _clean_license_kind(license_kind, product)
    source = ledger.wallet(actor.organization_id, product.pk, license_kind)
    # Whether the licenses land or wait is known only under the locks: lock either target.
    landing = ledger.wallet(target_id, product.pk, license_kind)
    waiting = ledger.pending_transfer(target_id, product.pk, license_kind)
    locked = _lock_for_action(
        actor, target_id, product=product, accounts=[source, landing, waiting]
    )
    actor, target_member = locked.members[actor.organization_id], locked.members.get(target_id)
    organization = actor.organization
    if target_member is None or not access.can(target_member, Action.LICENSE_MANAGE):
        raise _not_admin_of_target()
    target_organization = target_member.organization
    if idempotency_key is not None:
        done = LedgerTransaction.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).first()
        if done is not None:
            return Transfer(done, bool(done.data.get("pending")))
    is_pending = target_id not in locked.registrations
    target = waiting if is_pending else landing
    accounts = ledger.lock_accounts([source, target], held=locked.accounts)
    user, label = _actor_user_and_label(actor)
    # The writes go together, after every check: one round trip while the locks are held.
    with db.writes_joined():
        movement = ledger.post(
            kind=Tx.TRANSFER,
            organization=organization,
            product=product,
            amounts={accounts[source]: -count, accounts[target]: count},
            actor_user=user,
            actor_label=label,
            idempotency_key=idempotency_key,
            data={
                "count": count,
                "license_kind": license_kind,
                "target_organization": str(target_id),
                "pending": is_pending,
            },
        )
        details = {"count": count, "license_kind": license_kind, "transaction": str(movement.pk)}
        audit.record(
            actor,
            organization,
            "license.transfer_out",
            product,
            {**details, "to": target_organization.name, "to_id": str(target_id)},
            head_locked=True,
        )
        audit.record(
            target_member,
            target_organization,
            "license.transfer_in",
            product,
            {
                **details,
                "from": organization.name,
                "from_id": str(organization.pk),
                "pending": is_pending,
            },
            head_locked=True,
        )
    return Transfer(movement, is_pending)


# --- Expiry -----------------------------------------------------------------------------------


def expire_wallet_licenses(*, on: date | None = None) -> int:
    """Move wallet licenses kept five years since they entered the wallet to `expired`.

    Returns the number of licenses expired. One database transaction per wallet, so a long run
    holds no lock for long; run it daily (it does nothing twice).
    """
    on = on or today()
    wallets = LedgerAccount.objects.filter(
        kind=LedgerAccount.Kind.WALLET, balance__gt=0
    ).values_list("pk", flat=True)
    return sum(_expire_wallet(account_id=account_id, on=on) for account_id in list(wallets))


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def _expire_wallet(*, account_id: int, on: date) -> int:
    account = LedgerAccount.objects.select_related("product").get(pk=account_id)
    product = account.product
    organization = ledger.lock_organizations([account.organization_id])[account.organization_id]
    wallet = ledger.wallet(organization.pk, product.pk, account.license_kind)
    target = ledger.expired(organization.pk, product.pk, account.license_kind)
    accounts = ledger.lock_accounts([wallet, target])
    entries = LedgerEntry.objects.filter(account=accounts[wallet]).values_list(
        "amount", "transaction__created_at"
    )
    credits, debited = [], 0
    for amount, created_at in entries:
        if amount > 0:
            credits.append((created_at.date(), amount))
        else:
            debited -= amount
    count = rules.expired_count(rules.wallet_lots(credits, debited), on)
    if not count:
        return 0
    movement = ledger.post(
        kind=Tx.EXPIRY,
        organization=organization,
        product=product,
        amounts={accounts[wallet]: -count, accounts[target]: count},
        actor_label="system",
        data={"count": count, "license_kind": account.license_kind, "on": on.isoformat()},
    )
    audit.record(
        "system",
        organization,
        "license.expire",
        product,
        {"count": count, "license_kind": account.license_kind, "transaction": str(movement.pk)},
        head_locked=True,
    )
    return count


# --- Archiving --------------------------------------------------------------------------------


def void_active_subscription_licenses(
    *, actor: Membership, organization: Organization
) -> list[LedgerTransaction]:
    """Void the licenses allocated to the current and later subscription years of every product.

    Runs in the archive's transaction (`organizations.signals.organization_archived`), which
    holds the organization's row lock (step 1); one void movement per product, recorded in the
    history and audited. Past years' licenses were used up and stay as they are. Restoring the
    organization does not bring voided licenses back.
    """
    on = today()
    user, label = _actor_user_and_label(actor)
    registrations = (
        ProductRegistration.objects.filter(
            organization=organization, subscription_started_on__isnull=False
        )
        .select_related("product")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    movements = []
    for registration in registrations:
        product = registration.product
        current = rules.current_year(registration.subscription_started_on, on)
        years = list(
            LedgerAccount.objects.filter(
                organization=organization,
                product=product,
                kind=LedgerAccount.Kind.SUBSCRIPTION_YEAR,
                year__gte=current,
                balance__gt=0,
            ).values_list("year", flat=True)
        )
        if not years:
            continue
        kind = LicenseKind.SUBSCRIPTION
        refs = [ledger.subscription_year(organization.pk, product.pk, year) for year in years]
        target = ledger.void(organization.pk, product.pk, kind)
        accounts = ledger.lock_accounts([*refs, target])
        voided = {str(ref.year): accounts[ref].balance for ref in refs if accounts[ref].balance}
        if not voided:
            continue
        count = sum(voided.values())
        amounts = {accounts[ref]: -accounts[ref].balance for ref in refs}
        amounts[accounts[target]] = count
        movement = ledger.post(
            kind=Tx.VOID,
            organization=organization,
            product=product,
            amounts=amounts,
            actor_user=user,
            actor_label=label,
            data={"count": count, "years": voided, "reason": "organization_archived"},
        )
        audit.record(
            actor,
            organization,
            "license.void",
            product,
            {"count": count, "years": voided, "transaction": str(movement.pk)},
        )
        movements.append(movement)
    return movements
