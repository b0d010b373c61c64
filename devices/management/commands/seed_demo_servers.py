"""``manage.py seed_demo_servers``: demo camera-station servers for `make run` (idempotent).

Registers four servers in "Demo Security Ltd" through the real services and writes their server
tokens to the simulator's state file, so the Procfile's `simulate_servers --count 3` checks the
first three in; the fourth stays silent and shows as late, then offline (one alert e-mail on the
console). Adds the server releases, 6.9 recommended, and one queued upgrade to show the cancel.
"""

import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from devices.servers import services
from devices.servers.models import CameraStationServer, ServerRelease
from organizations.models import Folder, Membership, Organization
from organizations.roles import Role

DEMO_ORGANIZATION = "Demo Security Ltd"
DEMO_SERVERS = [
    ("Tokyo HQ recorder", "Tokyo HQ", "6.8.0"),
    ("Annex recorder", "Tokyo HQ", "6.9.0"),
    ("Osaka recorder", "Osaka branch", "6.7.2"),
    ("Loading bay recorder", "Tokyo HQ", "6.8.0"),  # not simulated: it shows late
]
RELEASES = [("6.7.2", date(2025, 3, 4), False), ("6.8.0", date(2025, 7, 1), False)]
RECOMMENDED = ("6.9.0", date(2025, 11, 18))


class Command(BaseCommand):
    help = "Register demo camera-station servers and write their tokens for simulate_servers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--state", default=str(Path(settings.VAR_DIR) / "servers.json"))

    def handle(self, *args, **options) -> None:
        state = Path(options["state"])
        for version, released_on, _recommended in RELEASES:
            ServerRelease.objects.get_or_create(
                version=version, defaults={"released_on": released_on}
            )
        if not ServerRelease.objects.filter(is_recommended=True).exists():
            ServerRelease.objects.update_or_create(
                version=RECOMMENDED[0],
                defaults={"released_on": RECOMMENDED[1], "is_recommended": True},
            )
        organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
        if organization is None:
            self.stdout.write("No demo organization: run seed_demo first.")
            return
        servers = CameraStationServer.objects.filter(organization=organization)
        if state.exists() and servers.exists():
            self.stdout.write(f"Demo servers: {servers.count()} (tokens in {state}).")
            return
        admin = (
            Membership.objects.select_related("organization", "user")
            .filter(organization=organization, role__in=[Role.OWNER, Role.ADMIN])
            .order_by("role", "pk")
            .first()
        )
        for server in servers:
            services.remove_server(actor=admin, server_id=server.pk)
        tokens = []
        for name, site, version in DEMO_SERVERS:
            folder = Folder.objects.get(organization=organization, name=site)
            _registration, raw = services.create_registration_token(
                actor=admin, folder_id=folder.pk, name=name, valid_hours=1
            )
            server, server_token = services.register_server(
                registration_token=raw, name=name, software_version=version
            )
            services.check_in(
                raw_token=server_token,
                report=services.CheckInReport(
                    software_version=version, reported_status="running", camera_count=12
                ),
            )
            tokens.append(server_token)
        # The last one went quiet three minutes ago: late now, offline (and alerted) soon.
        CameraStationServer.objects.filter(pk=server.pk).update(
            last_check_in_at=timezone.now() - timedelta(minutes=3)
        )
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"server_tokens": tokens}))
        state.chmod(0o600)
        self.stdout.write(f"Demo servers: {len(tokens)} registered (tokens in {state}).")
