"""Load demo data for `make run`; safe to run again (it changes nothing the second time)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from organizations import access, services
from organizations.models import Folder, Invitation, Membership, Organization
from organizations.roles import Role

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


class Command(BaseCommand):
    help = "Create the demo accounts and data (idempotent)."

    def handle(self, *args, **options) -> None:
        """Create people, then organizations through the services; skip what already exists."""
        people = self._people()
        for spec in DEMO_ORGANIZATIONS:
            self._organization(spec, people)
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

    def _organization(self, spec: dict, people: dict[str, User]) -> None:
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
