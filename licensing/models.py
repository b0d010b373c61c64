"""Licensing: products, registrations, license keys and the double-entry ledger (DESIGN.md §7).

Quantities live only in ledger accounts. Every movement is one `LedgerTransaction` whose
`LedgerEntry` amounts sum to zero; each account caches its balance, which never goes below zero
(except the issuer's, the source of every license, whose balance is minus everything issued).
On PostgreSQL, migration 0002 adds what Django cannot declare: transactions and entries are
append-only, and the entries of a transaction must sum to zero when it commits.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.countries import country_codes
from organizations.models import Organization, TenantQuerySet


class LicenseKind(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Subscription")
    HARDWARE_EXTENSION = "hardware_extension", _("Hardware-linked extension")
    UPGRADE = "upgrade", _("Upgrade")


class Product(models.Model):
    """One licensed product (staff-managed): the kinds of license it takes, the devices it counts.

    `counted_device_models` lists device model-number prefixes (`Device.product_number`) that
    use the product and so count toward its current need; an empty list counts every device.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    takes_subscription = models.BooleanField(_("takes subscription licenses"), default=True)
    takes_hardware_extension = models.BooleanField(
        _("takes hardware-linked extension licenses"), default=False
    )
    takes_upgrade = models.BooleanField(_("takes upgrade licenses"), default=False)
    counted_device_models = models.JSONField(
        _("counted device models"),
        default=list,
        blank=True,
        help_text=_(
            'Model-number prefixes of the devices that use this product (e.g. "M30"); '
            "leave empty to count every device."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def takes(self, kind: str) -> bool:
        """Return True when this product takes licenses of `kind`."""
        return {
            LicenseKind.SUBSCRIPTION: self.takes_subscription,
            LicenseKind.HARDWARE_EXTENSION: self.takes_hardware_extension,
            LicenseKind.UPGRADE: self.takes_upgrade,
        }.get(kind, False)


class ProductRegistration(models.Model):
    """One organization's registration of one product: trial and subscription start dates.

    Subscription year N runs from `subscription_started_on + (N - 1) * 365 days` for 365 days
    (`licensing.rules.subscription_year_start`). `compensation_license_days` carries the
    license-days of late allocations not yet converted into whole licenses (every 365).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="product_registrations"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="registrations")
    trial_started_on = models.DateField(_("trial started on"), null=True, blank=True)
    subscription_started_on = models.DateField(_("subscription started on"), null=True, blank=True)
    compensation_license_days = models.PositiveIntegerField(default=0, editable=False)
    # Set while the devices in use exceed the growth allowance of that subscription year
    # (`licensing.growth`): admins were e-mailed once for this crossing; staff see the flag.
    growth_exceeded_year = models.PositiveSmallIntegerField(
        _("growth allowance exceeded in year"), null=True, blank=True, editable=False
    )
    growth_excess = models.PositiveIntegerField(
        _("licenses to allocate now"), default=0, editable=False
    )
    growth_exceeded_at = models.DateTimeField(
        _("growth allowance exceeded at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("product registration")
        verbose_name_plural = _("product registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product"], name="product_registration_once"
            ),
            models.CheckConstraint(
                condition=Q(trial_started_on__isnull=False)
                | Q(subscription_started_on__isnull=False),
                name="product_registration_started",
            ),
            models.CheckConstraint(
                condition=Q(compensation_license_days__lt=365),
                name="product_registration_compensation_below_one_license",
            ),
            models.CheckConstraint(
                condition=Q(growth_exceeded_year__isnull=True, growth_excess=0)
                | Q(growth_exceeded_year__isnull=False, growth_excess__gt=0),
                name="product_registration_growth_flag",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.organization}"


class LicenseKey(models.Model):
    """One issued license key; only the SHA-256 of its normalized text is stored.

    Redeeming it is a `LedgerTransaction` of kind `redeem` pointing at the key, unique per key
    (`license_key_redeemed_once`); ledger transactions are append-only, so a key is redeemed
    once, ever. `redeemed_at`/`redeemed_by_organization` mirror that transaction for display.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="license_keys")
    kind = models.CharField(_("kind"), max_length=24, choices=LicenseKind.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    term_years = models.PositiveSmallIntegerField(
        _("term in years"),
        default=1,
        help_text=_("Subscription keys: years each license covers. Other kinds: 1."),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("last characters"), max_length=8, editable=False)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.CharField(_("issued by"), max_length=254)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True, editable=False)
    redeemed_by_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redeemed_license_keys",
        editable=False,
    )

    class Meta:
        verbose_name = _("license key")
        verbose_name_plural = _("license keys")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="license_key_quantity"),
            models.CheckConstraint(
                condition=Q(term_years__gte=1, term_years__lte=5), name="license_key_term"
            ),
            models.CheckConstraint(
                condition=Q(redeemed_at__isnull=True, redeemed_by_organization__isnull=True)
                | Q(redeemed_at__isnull=False, redeemed_by_organization__isnull=False),
                name="license_key_redeemed_consistently",
            ),
        ]

    def __str__(self) -> str:
        return f"…{self.hint} · {self.product} · {self.get_kind_display()} x {self.quantity}"

    @property
    def license_count(self) -> int:
        """Return how many licenses redeeming this key puts in the wallet."""
        if self.kind == LicenseKind.SUBSCRIPTION:
            return self.quantity * self.term_years
        return self.quantity


class LedgerAccount(models.Model):
    """One place licenses can be: an organization's wallet, a subscription year, a system, …

    The issuer (one per product and kind, no organization) is where every license comes from;
    its balance is minus everything it issued. Every other balance is >= 0 (database CHECK).
    `balance` is a cache of the sum of the account's entries, written only by
    `licensing.ledger.post` under the account's row lock; `verify_ledger` recomputes it.
    """

    class Kind(models.TextChoices):
        ISSUER = "issuer", _("Issuer")
        WALLET = "wallet", _("Wallet")
        SUBSCRIPTION_YEAR = "subscription_year", _("Subscription year")
        HARDWARE_SYSTEM = "hardware_system", _("Hardware system")
        PENDING_TRANSFER = "pending_transfer", _("Pending transfer")
        EXPIRED = "expired", _("Expired")
        VOID = "void", _("Void")
        # Upgrade licenses once applied (licensing.services_systems.apply_upgrade_license).
        CONSUMED = "consumed", _("Consumed")

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="ledger_accounts")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    license_kind = models.CharField(_("license kind"), max_length=24, choices=LicenseKind.choices)
    # Subscription year N (1 = the year the subscription started); 0 for other accounts.
    year = models.PositiveSmallIntegerField(_("subscription year"), default=0)
    # The hardware system's identifier; "" for other accounts.
    system = models.CharField(_("system"), max_length=64, blank=True, default="")
    balance = models.BigIntegerField(_("balance"), default=0, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(kind="issuer"), name="ledger_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="issuer", organization__isnull=True)
                | (~Q(kind="issuer") & Q(organization__isnull=False)),
                name="ledger_account_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind="subscription_year", year__gt=0)
                | (~Q(kind="subscription_year") & Q(year=0)),
                name="ledger_account_year",
            ),
            models.UniqueConstraint(
                fields=["organization", "product", "kind", "license_kind", "year", "system"],
                name="ledger_account_once",
            ),
            models.UniqueConstraint(
                fields=["product", "license_kind"],
                condition=Q(kind="issuer"),
                name="ledger_issuer_once",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        if self.kind == self.Kind.SUBSCRIPTION_YEAR:
            label = f"{label} {self.year}"
        elif self.system:
            label = f"{label} {self.system}"
        owner = self.organization_id or "—"
        return f"{label} · {self.product_id} · {self.get_license_kind_display()} · {owner}"


class LedgerTransaction(models.Model):
    """One movement of licenses: its entries sum to zero. Append-only (PostgreSQL trigger)."""

    class Kind(models.TextChoices):
        REDEMPTION = "redeem", _("Redemption")
        ALLOCATION = "allocate", _("Allocation")
        COMPENSATION = "compensate", _("Compensation")
        EXPIRY = "expire", _("Expiry")
        TRANSFER = "transfer", _("Transfer")
        TRANSFER_LANDING = "transfer_land", _("Transfer landed")
        VOID = "void", _("Void")
        ACTIVATION = "activate", _("Pre-loaded licenses activated")
        UPGRADE = "upgrade", _("Upgrade applied")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The organization whose action this was (the source of a transfer).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    license_key = models.ForeignKey(
        LicenseKey, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=254)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    idempotency_key = models.UUIDField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["license_key"],
                condition=Q(kind="redeem"),
                name="license_key_redeemed_once",
            ),
            models.CheckConstraint(
                condition=~Q(kind="redeem") | Q(license_key__isnull=False),
                name="ledger_redemption_names_key",
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ledger_transaction_idempotency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M} · {self.actor_label}"


class LedgerEntry(models.Model):
    """One side of a movement: `amount` licenses into (positive) or out of (negative) an account."""

    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.amount:+d} → {self.account_id}"


class Reseller(models.Model):
    """A reseller that sells license keys (staff-managed): "Where to buy licenses" lists them.

    `countries` holds the ISO 3166 codes of the countries it serves; the directory is small,
    so it is filtered in Python (SQLite, in development, cannot search inside JSON lists).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    countries = models.JSONField(_("countries served"), default=list)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    products = models.ManyToManyField(
        Product, related_name="resellers", blank=True, verbose_name=_("products")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reseller")
        verbose_name_plural = _("resellers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.countries, list) or not self.countries:
            raise ValidationError({"countries": _("Choose at least one country.")})
        unknown = [code for code in self.countries if code not in country_codes()]
        if unknown:
            raise ValidationError(
                {
                    "countries": _("Unknown country codes: %(codes)s.")
                    % {"codes": ", ".join(map(str, unknown))}
                }
            )


class HardwareModel(models.Model):
    """One model of hardware sold with licenses pre-loaded (staff-managed catalogue).

    Registering a unit of it activates `preloaded_count` hardware-linked licenses of `product`
    for that unit. The count comes from here, never from the person registering, so nobody can
    claim more pre-loaded licenses than the hardware ships with.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="hardware_models")
    model_number = models.CharField(_("model number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    preloaded_count = models.PositiveIntegerField(
        _("pre-loaded licenses"),
        help_text=_("Hardware-linked licenses each unit ships with, activated at registration."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("hardware model")
        verbose_name_plural = _("hardware models")
        ordering = ["model_number"]

    def __str__(self) -> str:
        return f"{self.model_number} · {self.name}"


class LicensedSystem(models.Model):
    """One system of an organization that holds hardware-linked licenses of one product.

    Either registered hardware (its serial number; pre-loaded licenses from its
    `HardwareModel`) or an offline system (described by an uploaded system file; its devices
    are kept as the file listed them). Its licenses live in the ledger account of kind
    `hardware_system` whose `system` is this `identifier`. An identifier belongs to one
    organization only (`licensed_system_once`), so pre-loaded licenses activate once.
    """

    class Kind(models.TextChoices):
        HARDWARE = "hardware", _("Hardware")
        OFFLINE = "offline", _("Offline system")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="licensed_systems"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="systems")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The hardware's serial number, or the offline system file's system_id.
    identifier = models.CharField(_("system ID"), max_length=64)
    name = models.CharField(_("name"), max_length=120, blank=True)
    hardware_model = models.ForeignKey(
        HardwareModel, on_delete=models.PROTECT, null=True, blank=True, related_name="systems"
    )
    preloaded_count = models.PositiveIntegerField(_("pre-loaded licenses"), default=0)
    # Offline systems: the devices and generation time of the last uploaded system file.
    devices = models.JSONField(_("devices"), default=list, blank=True)
    described_at = models.DateTimeField(_("system file generated at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("licensed system")
        verbose_name_plural = _("licensed systems")
        ordering = ["identifier"]
        constraints = [
            models.UniqueConstraint(fields=["product", "identifier"], name="licensed_system_once"),
            models.CheckConstraint(
                condition=Q(kind="hardware", hardware_model__isnull=False)
                | Q(kind="offline", hardware_model__isnull=True, preloaded_count=0),
                name="licensed_system_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.identifier}"


class LicenseUpgrade(models.Model):
    """One application of upgrade licenses to an existing license, which it upgrades once.

    The target is the ledger account that holds the upgraded licenses (a system's, or a
    subscription year's); `count` upgrade licenses, one per license it held, moved from the
    wallet to `consumed` in `transaction`. A target is upgraded at most once: `target` is
    one-to-one (the database's guard), checked first under the target account's row lock.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="license_upgrades"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="upgrades")
    target = models.OneToOneField(LedgerAccount, on_delete=models.PROTECT, related_name="upgrade")
    count = models.PositiveIntegerField(_("upgrade licenses consumed"))
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="license_upgrade"
    )
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("license upgrade")
        verbose_name_plural = _("license upgrades")
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0), name="license_upgrade_count"),
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.count}"
