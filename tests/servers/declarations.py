"""What camera-station servers add to the cross-tenant probe (their URL parameters)."""

from datetime import timedelta

from django.utils import timezone

from devices.servers.models import ServerRegistrationToken
from tests.servers.factories import ServerFactory, ServerUpgradeFactory
from tests.support.registry import RouteId, declare_route_ids


def _registration_token(tenant, folder):
    token = ServerRegistrationToken.objects.create(
        organization=folder.organization,
        target_folder=folder,
        name="Probe",
        prefix=f"cfrprobe{ServerRegistrationToken.objects.count():04d}",
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return token.pk


declare_route_ids(
    RouteId(
        "server_id", make=lambda tenant, folder: ServerFactory(folder=folder).pk, in_folder=True
    ),
    RouteId(
        "upgrade_id",
        make=lambda tenant, folder: ServerUpgradeFactory(server__folder=folder).pk,
        in_folder=True,
    ),
    RouteId("registration_token_id", make=_registration_token, in_folder=True),
)
