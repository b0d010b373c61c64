"""Factories for camera-station servers; a server's folder is always in its organization.

Registration and server tokens are made through the services (they hash and audit), see
`register` in tests/servers/conftest.py.
"""

from datetime import date

import factory
from django.utils import timezone

from devices.servers.models import CameraStationServer, ServerRelease, ServerUpgrade
from tests.organizations.factories import OrganizationFactory


class ServerReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServerRelease
        django_get_or_create = ("version",)

    version = factory.Sequence(lambda n: f"6.{n + 10}.0")
    released_on = factory.LazyFunction(lambda: date(2026, 1, 1))


class ServerFactory(factory.django.DjangoModelFactory):
    """A server in `folder` (default: a new organization's top folder) that checked in now."""

    class Meta:
        model = CameraStationServer

    folder = factory.LazyFunction(lambda: OrganizationFactory().top_folder)
    organization = factory.LazyAttribute(lambda o: o.folder.organization)
    name = factory.Sequence(lambda n: f"Recorder {n}")
    software_version = "6.8.0"
    last_check_in_at = factory.LazyFunction(timezone.now)
    camera_count = 12
    storage_used_bytes = 3 * 10**12
    storage_total_bytes = 8 * 10**12


class ServerUpgradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServerUpgrade

    server = factory.SubFactory(ServerFactory)
    organization = factory.LazyAttribute(lambda o: o.server.organization)
    release = factory.SubFactory(ServerReleaseFactory)
    from_version = factory.LazyAttribute(lambda o: o.server.software_version)
    target_version = factory.LazyAttribute(lambda o: o.release.version)
