"""Reads of licensing: products, registrations, balances, the current need."""

from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from devices.models import Device
from licensing import rules
from licensing.models import LedgerAccount, Product, ProductRegistration
from organizations.models import Membership


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
