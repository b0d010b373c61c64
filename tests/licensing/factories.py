"""Factories and small helpers for licensing tests."""

import factory

from licensing import services
from licensing.models import HardwareModel, LicensedSystem, Product


class ProductFactory(factory.django.DjangoModelFactory):
    """A product that takes subscription licenses and counts every device."""

    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"camera-station-{n}")
    name = factory.Sequence(lambda n: f"Camera Station {n}")
    takes_subscription = True
    takes_hardware_extension = True
    takes_upgrade = True


class HardwareModelFactory(factory.django.DjangoModelFactory):
    """A catalogued hardware model that ships with four hardware-linked licenses."""

    class Meta:
        model = HardwareModel

    product = factory.SubFactory(ProductFactory)
    model_number = factory.Sequence(lambda n: f"S30{n:02d}")
    name = factory.Sequence(lambda n: f"Recorder {n}")
    preloaded_count = 4


class OfflineSystemFactory(factory.django.DjangoModelFactory):
    """An offline system as an uploaded system file leaves it (no licenses yet)."""

    class Meta:
        model = LicensedSystem

    product = factory.SubFactory(ProductFactory)
    kind = LicensedSystem.Kind.OFFLINE
    identifier = factory.Sequence(lambda n: f"OFFLINE-{n:04d}")
    devices = factory.LazyFunction(lambda: [{"serial": "ACCC8E000001", "model": "AXIS M3086-V"}])


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
