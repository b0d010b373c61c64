"""Load demo data for `make run`; safe to run again (it changes nothing the second time)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User

DEMO_PASSWORD = "camfleet-demo-2026"  # noqa: S105 - printed for the demo on purpose
DEMO_PEOPLE = [
    ("staff@demo.camfleet.test", "Sam Staff", True),
    ("owner@demo.camfleet.test", "Olivia Owner", False),
    ("admin@demo.camfleet.test", "Adam Admin", False),
    ("operator@demo.camfleet.test", "Oscar Operator", False),
    ("viewer@demo.camfleet.test", "Vera Viewer", False),
    ("owner@kanto.camfleet.test", "Kenji Owner", False),
]


class Command(BaseCommand):
    help = "Create the demo accounts and data (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
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
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, is_staff in DEMO_PEOPLE:
            self.stdout.write(
                f"  {email:32} {name}{' (staff; the admin asks for MFA)' if is_staff else ''}"
            )
