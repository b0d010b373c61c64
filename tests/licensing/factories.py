"""Factories and small helpers for licensing tests."""

import factory

from licensing import services
from licensing.models import Product


class ProductFactory(factory.django.DjangoModelFactory):
    """A product that takes subscription licenses and counts every device."""

    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"camera-station-{n}")
    name = factory.Sequence(lambda n: f"Camera Station {n}")
    takes_subscription = True
    takes_hardware_extension = True
    takes_upgrade = True


def issue_key(product: Product, *, quantity: int = 10, kind: str = "subscription") -> str:
    """Issue one key of `product` and return its text."""
    [text] = services.issue_license_keys(
        issued_by="tests", product=product, kind=kind, quantity=quantity, count=1
    )
    return text


def fill_wallet(member, product: Product, quantity: int, *, start: str = "subscription") -> None:
    """Start the product (if needed) and redeem a key of `quantity` licenses into the wallet."""
    services.start_product(actor=member, product_code=product.code, kind=start)
    services.redeem_license_key(actor=member, key=issue_key(product, quantity=quantity))
