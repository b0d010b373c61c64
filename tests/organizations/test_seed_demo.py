"""The demo data: two organizations with a folder tree, every role, grants and invitations."""

import io

from django.core.management import call_command

from organizations import access, audit
from organizations.models import Invitation, Membership, Organization
from organizations.roles import Role


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_two_organizations_with_every_role(db):
    output = _seed()
    demo = Organization.objects.get(name="Demo Security Ltd")
    assert Organization.objects.filter(name="Kanto Retail").exists()
    roles = set(Membership.objects.filter(organization=demo).values_list("role", flat=True))
    assert roles == set(Role.values)
    viewer = Membership.objects.get(organization=demo, user__email="viewer@demo.camfleet.test")
    assert {f.name for f in access.visible_folders(viewer)} == {
        "Main building",
        "Lobby",
        "Server room",
    }
    assert Invitation.objects.filter(organization=demo, state="pending").count() == 2
    assert "owner@demo.camfleet.test" in output
    assert audit.verify_chain(demo) is None


def test_seed_demo_changes_nothing_the_second_time(db):
    _seed()
    counts = (Organization.objects.count(), Membership.objects.count(), Invitation.objects.count())
    _seed()
    assert counts == (
        Organization.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
    )
