"""Factories for devices; a device's folder is always in the device's organization."""

from datetime import timedelta

import factory
from django.utils import timezone

from devices.models import Device, DeviceImport
from tests.organizations.factories import OrganizationFactory

DEVICE_PASSWORD = "device-pass-0123"


class DeviceFactory(factory.django.DjangoModelFactory):
    """A device in `folder` (default: a new organization's top folder), password DEVICE_PASSWORD."""

    class Meta:
        model = Device

    folder = factory.LazyFunction(lambda: OrganizationFactory().top_folder)
    organization = factory.LazyAttribute(lambda o: o.folder.organization)
    serial_number = factory.Sequence(lambda n: f"B8A44F{n:06X}")
    mac_address = factory.LazyAttribute(
        lambda o: ":".join(o.serial_number[i : i + 2] for i in range(0, 12, 2))
    )
    product_number = "P3265-V"
    product_name = "AXIS P3265-V Dome Camera"
    name = factory.LazyAttribute(
        lambda o: Device.default_name(product_name=o.product_name, serial_number=o.serial_number)
    )
    firmware_version = "12.11.79"
    hardware_id = "9B1"
    architecture = "aarch64"
    scheme = Device.Scheme.HTTP
    host = factory.Sequence(lambda n: f"10.20.{n // 250 % 250}.{n % 250 + 1}")
    port = 80
    username = "root"
    password = DEVICE_PASSWORD
    status = Device.Status.ONLINE


class DeviceImportFactory(factory.django.DjangoModelFactory):
    """A checked CSV import without rows, in `default_folder`'s organization."""

    class Meta:
        model = DeviceImport

    default_folder = factory.LazyFunction(lambda: OrganizationFactory().top_folder)
    organization = factory.LazyAttribute(lambda o: o.default_folder.organization)
    file_name = "cameras.csv"
    state = DeviceImport.State.CHECKED
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
