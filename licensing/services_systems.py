"""System setup: hardware systems, offline systems, extensions, upgrade licenses, license files.

PRODUCT.md §8 "Hardware-linked", "Upgrade licenses" and "Offline systems". Like every licensing
write (licensing.services), each movement is one balanced ledger transaction, audited in the
same database transaction, with locks taken in the order documented in `licensing.ledger`;
admins and owners do all of it (`Action.LICENSE_MANAGE`).

- Registering hardware moves its model's pre-loaded licenses from the issuer to the system's
  account (`hardware_system`, hardware-linked, `system` = its serial).
- Extension keys redeem into the wallet like any key (`services.redeem_license_key`); from
  there `allocate_to_system` moves them to one system.
- Offline systems are described by an uploaded system file (`licensing.system_files`); they
  take allocations like any system and get a signed license file (`licensing.signing`).
- Applying upgrade licenses to a license (a system's, or a subscription year's) moves one upgrade
  license per license it holds from the wallet to `consumed`, once per target.
"""

import re
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, Invalid
from licensing import ledger, rules, selectors, selectors_systems, services, signing, system_files
from licensing.models import (
    LedgerAccount,
    LedgerTransaction,
    LicensedSystem,
    LicenseKind,
    LicenseUpgrade,
    Product,
    ProductRegistration,
)
from licensing.services import (
    _actor_user_and_label,
    _clean_count,
    _clean_year,
    _lock_acting_member,
)
from organizations import audit
from organizations.models import Membership

Tx = LedgerTransaction.Kind
HARDWARE = selectors_systems.SYSTEM_LICENSE_KIND
_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")


def system_account(system: LicensedSystem) -> ledger.AccountRef:
    """Return the ledger account that holds a system's licenses."""
    return ledger.AccountRef(
        system.organization_id,
        system.product_id,
        LedgerAccount.Kind.HARDWARE_SYSTEM,
        HARDWARE,
        system=system.identifier,
    )


def _require_started(organization_id: uuid.UUID, product: Product) -> ProductRegistration:
    """Lock the product's registration (step 3 of the lock order); refuse if not started."""
    registration = ledger.lock_registrations([organization_id], product).get(organization_id)
    if registration is None:
        raise Conflict(
            "product_not_started",
            _("Start a trial or subscription of %(product)s first.") % {"product": product.name},
        )
    return registration


def _require_hardware_linked(product: Product, field: str) -> None:
    if not product.takes(HARDWARE):
        message = _("%(product)s does not take hardware-linked licenses.") % {"product": product}
        raise Invalid("invalid_license_kind", message, {field: [message]})


def _system_registered_elsewhere(field: str) -> Conflict:
    # Says nothing of whose it is: the other organization is none of the caller's business.
    message = _("This system is already registered. Ask camfleet support if it is yours.")
    return Conflict("system_registered", message, {field: [message]})


def _clean_serial(serial: Any) -> str:
    value = str(serial or "").strip().upper()
    if not _SERIAL.match(value):
        message = _(
            "Enter the serial number as printed on the hardware: 1 to 64 letters, digits, "
            "dots, dashes or underscores."
        )
        raise Invalid("invalid_serial", message, {"serial": [message]})
    return value


# --- Hardware ---------------------------------------------------------------------------------


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def register_hardware(
    *, actor: Membership, hardware_model_id: Any, serial: Any, name: str = ""
) -> LicensedSystem:
    """Register a unit of catalogued hardware; its pre-loaded licenses activate at once.

    The pre-loaded count comes from the staff catalogue (`HardwareModel`). A serial registers
    once, ever, in one organization (`licensed_system_once`); registering it again in the same
    organization returns the system unchanged.
    """
    serial = _clean_serial(serial)
    name = str(name or "").strip()[:120]
    hardware_model = selectors_systems.get_hardware_model(hardware_model_id)
    product = hardware_model.product
    _require_hardware_linked(product, "hardware_model")
    actor = _lock_acting_member(actor)
    organization = actor.organization
    _require_started(organization.pk, product)
    existing = LicensedSystem.objects.filter(product=product, identifier=serial).first()
    if existing is not None:
        if existing.organization_id == organization.pk and existing.kind == "hardware":
            return existing
        raise _system_registered_elsewhere("serial")
    try:
        with transaction.atomic():
            system = LicensedSystem.objects.create(
                organization=organization,
                product=product,
                kind=LicensedSystem.Kind.HARDWARE,
                identifier=serial,
                name=name,
                hardware_model=hardware_model,
                preloaded_count=hardware_model.preloaded_count,
            )
    except IntegrityError:  # licensed_system_once: a concurrent registration won
        raise _system_registered_elsewhere("serial") from None
    details: dict[str, Any] = {
        "serial": serial,
        "model": hardware_model.model_number,
        "preloaded": hardware_model.preloaded_count,
    }
    if hardware_model.preloaded_count:
        source = ledger.issuer(product.pk, HARDWARE)
        target = system_account(system)
        accounts = ledger.lock_accounts([source, target])
        user, label = _actor_user_and_label(actor)
        movement = ledger.post(
            kind=Tx.ACTIVATION,
            organization=organization,
            product=product,
            amounts={
                accounts[source]: -hardware_model.preloaded_count,
                accounts[target]: hardware_model.preloaded_count,
            },
            actor_user=user,
            actor_label=label,
            data={
                "count": hardware_model.preloaded_count,
                "license_kind": HARDWARE,
                "system": serial,
            },
        )
        details["transaction"] = str(movement.pk)
    audit.record(actor, organization, "license.register_hardware", system, details)
    return system


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def allocate_to_system(
    *,
    actor: Membership,
    system_id: Any,
    count: Any,
    idempotency_key: uuid.UUID | None = None,
) -> LedgerTransaction:
    """Move hardware-linked licenses (extensions) from the wallet to one system, all or nothing.

    Repeating a call with the same idempotency key returns the first movement unchanged.
    """
    count = _clean_count(count)
    actor = _lock_acting_member(actor)
    organization = actor.organization
    system = selectors_systems.get_system(actor, system_id)
    if idempotency_key is not None:
        done = LedgerTransaction.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).first()
        if done is not None:
            return done
    _require_started(organization.pk, system.product)
    source = ledger.wallet(organization.pk, system.product_id, HARDWARE)
    target = system_account(system)
    accounts = ledger.lock_accounts([source, target])
    user, label = _actor_user_and_label(actor)
    movement = ledger.post(
        kind=Tx.ALLOCATION,
        organization=organization,
        product=system.product,
        amounts={accounts[source]: -count, accounts[target]: count},
        actor_user=user,
        actor_label=label,
        idempotency_key=idempotency_key,
        data={"count": count, "license_kind": HARDWARE, "system": system.identifier},
    )
    audit.record(
        actor,
        organization,
        "license.allocate_system",
        system,
        {"count": count, "system": system.identifier, "transaction": str(movement.pk)},
    )
    return movement


# --- Offline systems --------------------------------------------------------------------------


def upload_system_file(
    *, actor: Membership, content: bytes | None = None, document: Any = None
) -> tuple[LicensedSystem, bool]:
    """Create or update the offline system a system file describes; return it and if it is new.

    Give the file's bytes (`content`, the pages) or its already parsed JSON (`document`, the
    API). The file is checked before anything is locked; every problem is named in the
    refusal's `fields` by where it is in the file (`devices[3].serial`). A file older than the
    one uploaded last is refused, so an old copy cannot undo a newer description.
    """
    try:
        if content is not None:
            document = system_files.load(content)
        description = system_files.validate(document)
    except system_files.SystemFileInvalid as invalid:
        raise Invalid(
            "system_file_invalid",
            _("The system file is not valid: %(count)d problem(s) to fix.")
            % {"count": sum(len(reasons) for reasons in invalid.problems.values())},
            invalid.problems,
        ) from None
    return _save_system_description(actor=actor, description=description)


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def _save_system_description(
    *, actor: Membership, description: system_files.SystemDescription
) -> tuple[LicensedSystem, bool]:
    product = selectors.active_products().filter(code=description.product_code).first()
    if product is None:
        message = _("No product has the code %(code)s.") % {"code": description.product_code}
        raise Invalid("system_file_invalid", message, {"product": [message]})
    _require_hardware_linked(product, "product")
    actor = _lock_acting_member(actor)
    organization = actor.organization
    _require_started(organization.pk, product)
    system = (
        LicensedSystem.objects.select_for_update(of=("self",))
        .filter(product=product, identifier=description.system_id)
        .first()
    )
    if system is not None and (
        system.organization_id != organization.pk or system.kind != LicensedSystem.Kind.OFFLINE
    ):
        raise _system_registered_elsewhere("system_id")
    if (
        system is not None
        and system.described_at
        and description.generated_at < system.described_at
    ):
        message = _(
            "This file is older than the one uploaded before (generated %(date)s). Upload the "
            "newest file the system wrote."
        ) % {"date": system.described_at.isoformat()}
        raise Conflict("system_file_outdated", message, {"generated_at": [message]})
    is_new = system is None
    now = timezone.now()
    if system is None:
        system = LicensedSystem(
            organization=organization,
            product=product,
            kind=LicensedSystem.Kind.OFFLINE,
            identifier=description.system_id,
            registered_at=now,
        )
    system.name = description.name
    system.devices = description.devices
    system.described_at = description.generated_at
    system.updated_at = now
    try:
        with transaction.atomic():
            system.save()
    except IntegrityError:  # licensed_system_once: a concurrent upload won
        raise _system_registered_elsewhere("system_id") from None
    audit.record(
        actor,
        organization,
        "license.upload_system_file" if not is_new else "license.register_offline_system",
        system,
        {"system_id": system.identifier, "devices": len(system.devices)},
    )
    return system, is_new


@transaction.atomic(durable=True)
def issue_license_file(*, actor: Membership, system_id: Any) -> tuple[LicensedSystem, bytes]:
    """Return a system and its license file, signed now, with what the system holds today.

    Issuing one is audited. The file is valid for LICENSE_FILE_VALID_DAYS: the system needs a
    fresh one at least that often, which also carries any change since.
    """
    actor = _lock_acting_member(actor)
    system = selectors_systems.get_system(actor, system_id)
    issued_at = timezone.now().replace(microsecond=0)
    valid_until = issued_at + timedelta(days=settings.LICENSE_FILE_VALID_DAYS)
    payload = {
        "format": signing.FORMAT_VERSION,
        "license_file_id": str(uuid.uuid4()),
        "organization": {"id": str(system.organization_id), "name": actor.organization.name},
        "system_id": system.identifier,
        "system_kind": system.kind,
        "product": system.product.code,
        "licenses": [
            {"kind": HARDWARE, "count": system.licensed, "is_upgraded": system.is_upgraded}
        ],
        "devices": len(system.devices),
        "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
        "valid_until": valid_until.isoformat().replace("+00:00", "Z"),
    }
    content = signing.sign(payload)
    audit.record(
        actor,
        actor.organization,
        "license.issue_license_file",
        system,
        {
            "system_id": system.identifier,
            "license_file_id": payload["license_file_id"],
            "licenses": system.licensed,
            "valid_until": payload["valid_until"],
        },
    )
    return system, content


def license_file_name(system: LicensedSystem) -> str:
    """Return the file name a system's license file is downloaded under."""
    return f"license-{system.product.code}-{system.identifier}.json"


# --- Upgrade licenses -------------------------------------------------------------------------


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def apply_upgrade_license(
    *, actor: Membership, product_code: str, system_id: Any = None, year: Any = None
) -> LicenseUpgrade:
    """Upgrade one existing license — a system's or a subscription year's — once.

    Consumes one upgrade license from the wallet per license the target holds (they move to
    the `consumed` account). A target already upgraded is refused: checked under the target
    account's row lock, and guarded by the one-to-one `LicenseUpgrade.target`.
    """
    if (system_id in (None, "")) == (year in (None, "")):
        message = _("Choose one license to upgrade: a system or a subscription year.")
        raise Invalid("upgrade_target_required", message, {"target": [message]})
    product = selectors.get_product(product_code)
    if not product.takes(LicenseKind.UPGRADE):
        message = _("%(product)s does not take upgrade licenses.") % {"product": product}
        raise Invalid("invalid_license_kind", message, {"product": [message]})
    actor = _lock_acting_member(actor)
    organization = actor.organization
    if system_id not in (None, ""):
        system = selectors_systems.get_system(actor, system_id)
        if system.product_id != product.pk:
            message = _("This system is licensed for another product.")
            raise Invalid("upgrade_target_other_product", message, {"system": [message]})
        target_ref, target_label = system_account(system), {"system": system.identifier}
    else:
        year = _clean_year(year)
        target_ref = ledger.subscription_year(organization.pk, product.pk, year)
        target_label = {"year": year}
    registration = _require_started(organization.pk, product)
    if year is not None and registration.subscription_started_on is not None:
        current = rules.current_year(registration.subscription_started_on, services.today())
        if year < current:
            message = _("Subscription year %(year)d has ended; upgrade a current license.") % {
                "year": year
            }
            raise Invalid("year_out_of_range", message, {"year": [message]})
    source = ledger.wallet(organization.pk, product.pk, LicenseKind.UPGRADE)
    consumed = ledger.AccountRef(
        organization.pk, product.pk, LedgerAccount.Kind.CONSUMED, LicenseKind.UPGRADE
    )
    accounts = ledger.lock_accounts([source, consumed, target_ref])
    target = accounts[target_ref]
    if target.balance <= 0:
        message = _("This license holds nothing to upgrade yet.")
        raise Conflict("nothing_to_upgrade", message, {"target": [message]})
    if LicenseUpgrade.objects.filter(target=target).exists():
        raise _already_upgraded()
    count = target.balance
    user, label = _actor_user_and_label(actor)
    movement = ledger.post(
        kind=Tx.UPGRADE,
        organization=organization,
        product=product,
        amounts={accounts[source]: -count, accounts[consumed]: count},
        actor_user=user,
        actor_label=label,
        data={"count": count, "license_kind": LicenseKind.UPGRADE, **target_label},
    )
    try:
        with transaction.atomic():
            upgrade = LicenseUpgrade.objects.create(
                organization=organization,
                product=product,
                target=target,
                count=count,
                transaction=movement,
            )
    except IntegrityError:  # the one-to-one target: the database's last word
        raise _already_upgraded() from None
    audit.record(
        actor,
        organization,
        "license.apply_upgrade",
        product,
        {"count": count, "transaction": str(movement.pk), **target_label},
    )
    return upgrade


def _already_upgraded() -> Conflict:
    message = _("This license has already been upgraded; an upgrade applies once.")
    return Conflict("already_upgraded", message, {"target": [message]})
