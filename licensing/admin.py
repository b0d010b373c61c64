"""Staff admin for licensing: products are edited here; keys and the ledger are read-only.

Keys are issued on the license keys' "Issue keys" page or with `issue_license_keys`; either shows
the texts once. Every movement of licenses goes through the services, so the ledger admin only
shows it.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from common.countries import country_choices
from common.errors import DomainError
from licensing import services
from licensing.models import (
    HardwareModel,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicensedSystem,
    LicenseKey,
    LicenseKind,
    LicenseUpgrade,
    Product,
    ProductRegistration,
    Reseller,
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


class GrowthExceededFilter(admin.SimpleListFilter):
    """Registrations whose devices are beyond this year's growth allowance (`licensing.growth`)."""

    title = _("growth allowance")
    parameter_name = "growth"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("exceeded", _("Exceeded")), ("within", _("Within"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "exceeded":
            return queryset.filter(growth_exceeded_year__isnull=False)
        if self.value() == "within":
            return queryset.filter(growth_exceeded_year__isnull=True)
        return queryset


@admin.register(ProductRegistration)
class ProductRegistrationAdmin(ReadOnlyAdmin):
    list_display = [
        "organization",
        "product",
        "trial_started_on",
        "subscription_started_on",
        "growth_status",
    ]
    list_filter = [GrowthExceededFilter, "product"]
    search_fields = ["=organization__id", "organization__name"]

    @admin.display(description=_("growth allowance"), ordering="-growth_excess")
    def growth_status(self, registration: ProductRegistration) -> str:
        if registration.growth_exceeded_year is None:
            return "—"
        return _("Exceeded in year %(year)d: %(count)d to allocate now") % {
            "year": registration.growth_exceeded_year,
            "count": registration.growth_excess,
        }


class IssueKeysForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.filter(is_active=True))
    kind = forms.ChoiceField(choices=LicenseKind.choices)
    quantity = forms.IntegerField(label=_("licenses per key"), min_value=1)
    count = forms.IntegerField(
        label=_("number of keys"), min_value=1, max_value=services.MAX_KEYS_PER_ISSUE, initial=1
    )
    term_years = forms.IntegerField(label=_("term in years"), min_value=1, max_value=5, initial=1)


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
    change_list_template = "admin/licensing/licensekey/change_list.html"

    def get_urls(self):
        issue = self.admin_site.admin_view(self.issue_keys_view)
        return [
            path("issue/", issue, name="licensing_licensekey_issue"),
            *super().get_urls(),
        ]

    def issue_keys_view(self, request: HttpRequest) -> HttpResponse:
        """Issue keys with the service and show their texts this once (staff only)."""
        # The list is read-only for every staff member; issuing needs the add permission.
        if not request.user.has_perm("licensing.add_licensekey"):
            raise PermissionDenied
        form = IssueKeysForm(request.POST or None)
        issued: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                issued = services.issue_license_keys(
                    issued_by=request.user.email,
                    product=form.cleaned_data["product"],
                    kind=form.cleaned_data["kind"],
                    quantity=form.cleaned_data["quantity"],
                    count=form.cleaned_data["count"],
                    term_years=form.cleaned_data["term_years"],
                )
            except DomainError as refusal:
                form.add_error(None, refusal.message)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue license keys"),
            "opts": self.model._meta,
            "form": form,
            "issued": issued,
        }
        return TemplateResponse(request, "admin/licensing/licensekey/issue.html", context)


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


class ResellerForm(forms.ModelForm):
    """Countries picked by name from a list rather than typed as codes."""

    countries = forms.MultipleChoiceField(
        label=_("countries served"), choices=country_choices, widget=forms.SelectMultiple
    )
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Reseller
        fields = ["name", "countries", "website", "email", "phone", "products", "is_active"]


@admin.register(Reseller)
class ResellerAdmin(admin.ModelAdmin):
    form = ResellerForm
    list_display = ["name", "country_list", "website", "email", "phone", "is_active"]
    list_filter = ["is_active", "products"]
    search_fields = ["name", "email"]
    filter_horizontal = ["products"]

    @admin.display(description=_("countries served"))
    def country_list(self, reseller: Reseller) -> str:
        return ", ".join(reseller.countries)


class HardwareModelForm(forms.ModelForm):
    class Meta:
        model = HardwareModel
        fields = ["product", "model_number", "name", "preloaded_count", "is_active"]

    def clean_product(self) -> Product:
        product = self.cleaned_data["product"]
        if not product.takes(LicenseKind.HARDWARE_EXTENSION):
            raise forms.ValidationError(
                _("This product does not take hardware-linked licenses; tick that first.")
            )
        return product


@admin.register(HardwareModel)
class HardwareModelAdmin(admin.ModelAdmin):
    """The catalogue of hardware with pre-loaded licenses; a change affects later registrations.

    Registered systems keep the pre-loaded count they were registered with.
    """

    form = HardwareModelForm
    list_display = ["model_number", "name", "product", "preloaded_count", "is_active"]
    list_filter = ["product", "is_active"]
    search_fields = ["model_number", "name"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # registered systems point at it: deactivate instead


@admin.register(LicensedSystem)
class LicensedSystemAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "kind", "organization", "product", "preloaded_count"]
    list_filter = ["kind", "product"]
    search_fields = ["identifier", "=organization__id", "organization__name"]


@admin.register(LicenseUpgrade)
class LicenseUpgradeAdmin(ReadOnlyAdmin):
    list_display = ["applied_at", "organization", "product", "target", "count"]
    list_filter = ["product"]
    search_fields = ["=organization__id", "organization__name"]
