"""Load demo data for `make run`; safe to run again (it changes nothing the second time)."""

import ipaddress

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from devices import services as device_services
from devices.models import Device
from devices.networks import CheckedAddress
from devices.simulator.camera import Identity, make_identities
from licensing.demo import seed_licensing
from organizations import access, services
from organizations.models import Folder, Invitation, Membership, Organization
from organizations.roles import Role
from upgrades.demo import seed_catalog

DEMO_PASSWORD = "camfleet-demo-2026"  # noqa: S105 - printed for the demo on purpose
DEMO_PEOPLE = [
    ("staff@demo.camfleet.test", "Sam Staff", True),
    ("owner@demo.camfleet.test", "Olivia Owner", False),
    ("admin@demo.camfleet.test", "Adam Admin", False),
    ("operator@demo.camfleet.test", "Oscar Operator", False),
    ("viewer@demo.camfleet.test", "Vera Viewer", False),
    ("owner@kanto.camfleet.test", "Kenji Owner", False),
]

# Organization → owner, notes, folder tree (sites → buildings → rooms), other members with the
# folder paths they are granted ("Site/Building"), and addresses with a pending invitation.
DEMO_ORGANIZATIONS = [
    {
        "name": "Demo Security Ltd",
        "owner": "owner@demo.camfleet.test",
        "notes": "Demo tenant: an integrator's own offices.",
        "tree": {
            "Tokyo HQ": {"Main building": ["Lobby", "Server room"], "Annex": ["Loading bay"]},
            "Osaka branch": {"Tower A": ["Reception", "Floor 12"]},
        },
        "members": [
            ("admin@demo.camfleet.test", Role.ADMIN, []),
            ("operator@demo.camfleet.test", Role.OPERATOR, ["Tokyo HQ"]),
            ("viewer@demo.camfleet.test", Role.VIEWER, ["Tokyo HQ/Main building"]),
        ],
        "invitations": [
            ("guard@demo.camfleet.test", ["Osaka branch"]),
            ("auditor@demo.camfleet.test", ["Tokyo HQ/Annex"]),
        ],
    },
    {
        "name": "Kanto Retail",
        "owner": "owner@kanto.camfleet.test",
        "notes": "Demo tenant: a retail chain.",
        "tree": {
            "Shinjuku store": {"Sales floor": ["Entrance", "Checkout"], "Warehouse": ["Dock"]},
            "Yokohama store": {"Mall unit": ["Front", "Stockroom"]},
        },
        "members": [
            ("owner@demo.camfleet.test", Role.ADMIN, []),
            ("viewer@demo.camfleet.test", Role.VIEWER, ["Yokohama store"]),
        ],
        "invitations": [("manager@kanto.camfleet.test", ["Shinjuku store/Sales floor"])],
    },
]

# The simulated fleet the Procfile starts (`simulate_cameras --count … --first-port … --seed …`;
# a test keeps the two the same). The seed runs before the simulator: it derives the cameras'
# identities and passwords from the simulator's own generator, so they match what the cameras
# answer once they listen. Cameras in order: the first DEMO_CAMERAS go to the first
# organization, the rest to the second; the faults in the Procfile take some offline.
SIMULATOR_HOST = "127.0.0.1"
SIMULATOR_FIRST_PORT = 18100
SIMULATOR_SEED = 7
SIMULATOR_COUNT = 60
DEMO_CAMERAS = {"Demo Security Ltd": 50, "Kanto Retail": 10}
# Cameras (by index in the fleet) stored with a wrong password: they show "authentication failed".
WRONG_PASSWORD_CAMERAS = frozenset({4, 17})
WRONG_PASSWORD = "not-the-camera-password"  # noqa: S105 - a demo fault on purpose


def simulated_fleet() -> list[Identity]:
    """Return the identities of the cameras the Procfile's simulator serves."""
    return make_identities(
        SIMULATOR_COUNT,
        SIMULATOR_SEED,
        [SIMULATOR_HOST] * SIMULATOR_COUNT,
        [SIMULATOR_FIRST_PORT + index for index in range(SIMULATOR_COUNT)],
    )


class Command(BaseCommand):
    help = "Create the demo accounts and data (idempotent)."

    def handle(self, *args, **options) -> None:
        """Create people, then organizations and their cameras; skip what already exists."""
        people = self._people()
        cameras = iter(simulated_fleet())
        for spec in DEMO_ORGANIZATIONS:
            owner, folders = self._organization(spec, people)
            share = [next(cameras) for _ in range(DEMO_CAMERAS[spec["name"]])]
            self._devices(owner, list(folders.values()), share)
        self.stdout.write(f"Firmware catalog: {len(seed_catalog())} AXIS OS releases.")
        self.stdout.write(f"Licensing: {len(seed_licensing())} resellers.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, is_staff in DEMO_PEOPLE:
            self.stdout.write(
                f"  {email:32} {name}{' (staff; the admin asks for MFA)' if is_staff else ''}"
            )
        self.stdout.write("Organizations:")
        for spec in DEMO_ORGANIZATIONS:
            self.stdout.write(f"  {spec['name']}")
            self.stdout.write(f"    {Role.OWNER.label:9} {spec['owner']}")
            for email, role, paths in spec["members"]:
                where = f" ({', '.join(paths)})" if paths else ""
                self.stdout.write(f"    {Role(role).label:9} {email}{where}")
            self.stdout.write(f"    {DEMO_CAMERAS[spec['name']]} simulated cameras")

    @transaction.atomic
    def _people(self) -> dict[str, User]:
        people = {}
        for email, name, is_staff in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(
                email=email,
                defaults={
                    "name": name,
                    "is_staff": is_staff,
                    "is_superuser": is_staff,
                    "email_verified_at": timezone.now(),
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            people[email] = user
        return people

    def _organization(
        self, spec: dict, people: dict[str, User]
    ) -> tuple[Membership, dict[str, Folder]]:
        owner_user = people[spec["owner"]]
        organization = Organization.objects.filter(
            name=spec["name"], memberships__user=owner_user, memberships__role=Role.OWNER
        ).first()
        if organization is None:
            organization = services.create_organization(
                user=owner_user, name=spec["name"], notes=spec["notes"]
            )
        owner = Membership.objects.select_related("organization", "user").get(
            organization=organization, user=owner_user
        )
        folders = self._tree(owner, spec["tree"])
        for email, role, paths in spec["members"]:
            self._member(owner, people[email], role, [folders[p] for p in paths])
        for email, paths in spec["invitations"]:
            pending = Invitation.objects.filter(
                organization=organization, email=email, state=Invitation.State.PENDING
            ).exists()
            if not pending:
                services.invite_members(
                    actor=owner,
                    emails=[email],
                    role=Role.VIEWER,
                    folder_ids=[folders[p].pk for p in paths],
                )
        return owner, folders

    def _devices(self, owner: Membership, folders: list[Folder], cameras: list[Identity]) -> None:
        """Onboard the simulated cameras round the folders, as onboarding would store them.

        They start "not polled yet": the first health poll (within a minute of `make run`)
        sets their real status from the running simulator.
        """
        for position, camera in enumerate(cameras):
            if Device.objects.filter(serial_number=camera.serial).exists():
                continue
            product = camera.product
            device = device_services.create_device(
                actor=owner,
                folder=folders[position % len(folders)],
                identity=device_services.DeviceIdentity(
                    serial_number=camera.serial,
                    product_number=product.number,
                    product_name=product.full_name,
                    firmware_version=camera.initial_version,
                    mac_address=camera.mac,
                    hardware_id=product.hardware_id,
                    architecture=product.architecture,
                    has_ptz=product.has_ptz,
                ),
                address=CheckedAddress(
                    host=camera.host, ip=ipaddress.ip_address(camera.host), port=camera.port
                ),
                scheme=Device.Scheme.HTTP,
                username="root",
                password=(
                    WRONG_PASSWORD
                    if camera.index in WRONG_PASSWORD_CAMERAS
                    else camera.admin_password
                ),
            )
            Device.objects.filter(pk=device.pk).update(
                status=Device.Status.UNKNOWN, last_seen_at=None
            )

    def _tree(self, owner: Membership, tree: dict) -> dict[str, Folder]:
        """Create the sites → buildings → rooms under the top folder; return them by path."""
        top = Folder.objects.get(organization=owner.organization, parent=None)
        folders: dict[str, Folder] = {}

        def ensure(parent: Folder, name: str, path: str) -> Folder:
            folder = Folder.objects.filter(parent=parent, name=name).first()
            if folder is None:
                folder = services.create_folder(actor=owner, parent_id=parent.pk, name=name)
            folders[path] = folder
            return folder

        for site_name, buildings in tree.items():
            site = ensure(top, site_name, site_name)
            for building_name, rooms in buildings.items():
                building = ensure(site, building_name, f"{site_name}/{building_name}")
                for room_name in rooms:
                    ensure(building, room_name, f"{site_name}/{building_name}/{room_name}")
        return folders

    @transaction.atomic
    def _member(self, owner: Membership, user: User, role: str, folders: list[Folder]) -> None:
        """Add a demo member directly (demo data skips the e-mailed invitation round trip)."""
        membership, created = Membership.objects.get_or_create(
            organization=owner.organization, user=user, defaults={"role": role}
        )
        if created:
            access.set_folder_grants(membership, folders)
