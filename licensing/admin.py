"""Staff admin for licensing: products are edited here; keys and the ledger are read-only.

Keys are issued with `issue_license_keys` (the texts are shown once); every movement of licenses
goes through the services, so the ledger admin only shows it.
"""

from django.contrib import admin
from django.http import HttpRequest

from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseKey,
    Product,
    ProductRegistration,
)
from organizations.admin import ReadOnlyAdmin


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "takes_subscription",
        "takes_hardware_extension",
        "takes_upgrade",
        "is_active",
    ]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # keys and ledger rows point at products: deactivate instead


@admin.register(ProductRegistration)
class ProductRegistrationAdmin(ReadOnlyAdmin):
    list_display = ["organization", "product", "trial_started_on", "subscription_started_on"]
    list_filter = ["product"]
    search_fields = ["=organization__id", "organization__name"]


@admin.register(LicenseKey)
class LicenseKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "hint",
        "product",
        "kind",
        "quantity",
        "term_years",
        "issued_at",
        "issued_by",
        "redeemed_at",
        "redeemed_by_organization",
    ]
    list_filter = ["product", "kind"]
    search_fields = ["hint", "issued_by"]
    exclude = ["key_hash"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "product", "kind", "license_kind", "year", "balance"]
    list_filter = ["kind", "license_kind", "product"]
    search_fields = ["=organization__id", "organization__name"]


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "organization", "product", "actor_label"]
    list_filter = ["kind", "product"]
    search_fields = ["=organization__id", "organization__name", "actor_label"]
    inlines = [LedgerEntryInline]
